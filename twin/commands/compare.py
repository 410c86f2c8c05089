"""`twin compare A B`: two facilities side by side for a workload mix; a verdict and a Markdown/HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import output

HEADLINE = ("gpus", "rack_kw_mean", "pue", "wue", "tokens_per_joule", "capex_per_mw", "usd_per_mtok",
            "revenue_per_mw[compute-hour]", "revenue_per_mw[token]", "margin_per_mw[compute-hour]",
            "margin_per_mw[token]", "fit", "binds")


@app.command()
@tabular
@friendly
def compare(
    a: str = typer.Argument(..., help=BLUEPRINT_HELP),
    b: str = typer.Argument(..., help=BLUEPRINT_HELP),
    workload_mix: str = typer.Option("inference=0.8,training=0.2", "--workload-mix",
                                     help="Shares of the year, e.g. inference=0.8,training=0.2."),
    climate: Optional[str] = typer.Option(None, help="One climate for both sites (default: each site's own)."),
    hours: int = typer.Option(8760, help="Simulated hours per workload year."),
    out: str = typer.Option("compare-report", help="Folder for report.md, report.html and the figures."),
    no_render: bool = typer.Option(False, "--no-render", help="Skip the 3D views."),
    time_limit: float = typer.Option(60.0, help="Solver time limit per design, seconds."),
) -> None:
    """Design, simulate and compare two facilities; print the verdict and write the report."""
    from solvers.compare import compare as run

    folder = Path(out)
    with console.status(f"designing and simulating {a} and {b}"):
        result = run(a, b, workload_mix=workload_mix, climate=climate, hours=hours, render=not no_render,
                     views_dir=folder / "report-figures", time_limit=time_limit)
        paths = result.save(folder)
    output.show(comparison_table(result))
    console.print(f"[bold]verdict:[/] {result.verdict['text']}")
    for c in result.claims:
        console.print(f"{'holds' if c['holds'] else '[yellow]does not hold here[/]'}: {c['claim']} ({c['numbers']})")
    console.print(f"wrote {paths['markdown']} and {paths['html']}")


def comparison_table(result) -> output.Output:
    """One row per site (raw values, machine names), shown one headline metric a line with its unit."""
    import pandas as pd

    from solvers.report import LABELS, fmt

    first = result.sites[0].metrics
    frame = pd.DataFrame([{k: s.metrics[k].value for k in HEADLINE} for s in result.sites],
                         index=pd.Index([f"{s.label}: {s.name}" for s in result.sites], name="site"))
    display = {k: (lambda v, unit=first[k].unit: fmt(v, unit)) for k in HEADLINE}
    return output.Output("comparison", frame, "comparison", labels={k: LABELS.get(k, k) for k in HEADLINE},
                         display=display, vertical=True)
