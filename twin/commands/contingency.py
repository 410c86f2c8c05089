"""`twin contingency FILE`: lose each device in turn; what it costs with load shed and with re-optimized caps."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import checks, output

COLUMNS = (("racks_lost", "lost", "{:,.0f}"), ("tokens_lost", "Mtok/s", "{:,.2f}"), ("racks_capped", "capped", "{:,.0f}"),
           ("racks_lost_recap", "lost*", "{:,.0f}"), ("tokens_lost_recap", "Mtok/s*", "{:,.2f}"),
           ("stranded_power_kw", "strand kW", "{:,.0f}"))
"""Printed columns (all of them go to --out); * = with re-optimized caps instead of shedding."""


@app.command()
@tabular
@friendly
def contingency(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    kinds: Optional[str] = typer.Option(None, help="Comma-separated device kinds to fail (default: every device)."),
    top: int = typer.Option(25, help="Rows to print, worst first."),
    recap: bool = typer.Option(True, "--recap/--no-recap", help="Also re-optimize caps instead of shedding."),
    render: Optional[Path] = typer.Option(None, help="Render the blast radius of one failure to this .png/.html."),
    device: Optional[str] = typer.Option(None, help="The failure to render (default: the worst)."),
    out: Optional[Path] = typer.Option(None, help="Write the full table to this .csv file."),
) -> None:
    """Fail every device one at a time; print racks, tokens/s and stranded capacity lost, worst first."""
    import blueprints
    from twin.contingency import scan
    from twin.views.export import STILL

    checks.number(top, "--top", at_least=1)
    checks.output(out, "--out", (".csv",))
    checks.output(render, "--render", STILL + (".html",))
    site = blueprints.load(blueprint)
    with console.status(f"failing each device of {site.name}"):
        result = scan(site, kinds=kinds.split(",") if kinds else None)
        if recap:
            import solvers

            result = solvers.recap(result)
    if result.base_overloads:
        console.print(f"[yellow]already overloaded with every device up:[/] {', '.join(result.base_overloads)}")
    output.show(scan_table(result.table, top, f"{site.name}: single failures ({len(result.table)} devices)"))
    if out:
        from twin.atomic import atomic_write

        console.print(f"wrote {atomic_write(out, result.table.to_csv)}")
    if render:
        import twin

        chosen = device or str(result.table.index[0])
        view = twin.render(site, render, color_by="outage", state=result.rack_state(chosen), title=f"{chosen} fails",
                           highlight=[chosen])
        console.print(f"wrote {view}")


def scan_table(table, top: int, title: str) -> output.Output:
    """The worst `top` failures, tokens/s shown in millions; machine formats get every row and column, raw."""
    machine = output.machine()
    shown = table if machine else table.head(top)
    labels = {c: label for c, label, _ in COLUMNS}
    display = {c: form.format if "tokens" not in c else (lambda v, f=form: f.format(v / 1e6)) for c, _, form in COLUMNS}
    cols = [c for c, _, _ in COLUMNS if c in table.columns]
    caption = "lost: racks unpowered, uncooled or shed; *: re-capped instead of shed; Mtok/s: millions of tokens/s"
    if len(shown) < len(table):
        caption += f"; worst {len(shown)} of {len(table)} (--top, or --format csv for all)"
    return output.Output("failures", (shown if machine else shown[cols]).rename_axis("device"), title, caption, labels,
                         display)
