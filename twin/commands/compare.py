"""`twin compare A B`: two facilities side by side for a workload mix; a verdict and a Markdown/HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import checks, output
from twin.commands.knobs import MARKET_HELP, design_kwargs
from twin.errors import OutputError

HEADLINE = ("gpus", "rack_kw_mean", "pue", "wue", "tokens_per_joule", "capex_per_mw", "usd_per_mtok",
            "revenue_per_gpu_hour", "margin_per_mw[own]", "revenue_per_mw[compute-hour]", "revenue_per_mw[token]",
            "margin_per_mw[compute-hour]", "margin_per_mw[token]", "fit", "evidence", "binds")


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
    market: Optional[Path] = typer.Option(None, help=MARKET_HELP + " One market for both sites."),
) -> None:
    """Design both facilities for profit under one market, simulate and compare them; print the verdict,
    what would flip it (tornado and break-even prices) and write the report."""
    import blueprints
    from solvers.compare import compare as run
    from solvers.compare import parse_mix
    from twin.progress import bar

    parse_mix(workload_mix)
    checks.number(time_limit, "--time-limit", above=0, unit="s")
    checks.number(hours, "--hours", at_least=1, unit="h")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"--out {folder}: is a file; give a folder for the report")
    knobs = design_kwargs(blueprints.load(a), market=market) if market is not None else {}
    with bar(console, f"comparing {a} and {b}", "stages") as progress:
        result = run(a, b, workload_mix=workload_mix, climate=climate, hours=hours, render=not no_render,
                     views_dir=folder / "report-figures", time_limit=time_limit, progress=progress,
                     **{k: knobs[k] for k in ("market", "finance") if k in knobs})
        progress(1, 1, f"writing {folder}")
        paths = result.save(folder)
    output.show(comparison_table(result))
    output.show(tornado_table(result))
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


def tornado_table(result) -> output.Output:
    """The own-billing margin gap (A - B) at each input's low and high factor, and its break-even factor."""
    import pandas as pd

    rows = result.sensitivity.get("tornado") or []
    frame = pd.DataFrame([{"input": r["label"], "low_factor": r["low_factor"], "gap_low_musd": r["low"] / 1e6,
                           "high_factor": r["high_factor"], "gap_high_musd": r["high"] / 1e6,
                           "break_even_factor": r["break_even"]} for r in rows]).set_index("input")
    a, b = result.sites
    return output.Output("tornado", frame, f"what would flip the verdict (margin gap {a.label} - {b.label}, MUSD per MW-year)",
                         labels={"low_factor": "low x", "gap_low_musd": "gap at low", "high_factor": "high x",
                                 "gap_high_musd": "gap at high", "break_even_factor": "break-even x"},
                         display={"break_even_factor": lambda v: "none" if v is None or v != v else f"x{v:.3g}"})
