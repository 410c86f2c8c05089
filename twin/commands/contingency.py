"""`twin contingency FILE`: lose each device in turn; what it costs with load shed and with re-optimized caps."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from twin.cli import BLUEPRINT_HELP, app, console, friendly

COLUMNS = (("racks_lost", "lost", "{:,.0f}"), ("tokens_lost", "Mtok/s", "{:,.2f}"), ("racks_capped", "capped", "{:,.0f}"),
           ("racks_lost_recap", "lost*", "{:,.0f}"), ("tokens_lost_recap", "Mtok/s*", "{:,.2f}"),
           ("stranded_power_kw", "strand kW", "{:,.0f}"))
"""Printed columns (all of them go to --out); * = with re-optimized caps instead of shedding."""


@app.command()
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

    site = blueprints.load(blueprint)
    with console.status(f"failing each device of {site.name}"):
        result = scan(site, kinds=kinds.split(",") if kinds else None)
        if recap:
            import solvers

            result = solvers.recap(result)
    if result.base_overloads:
        console.print(f"[yellow]already overloaded with every device up:[/] {', '.join(result.base_overloads)}")
    console.print(scan_table(result.table, top, f"{site.name}: single failures ({len(result.table)} devices)"))
    if out:
        result.table.to_csv(out)
        console.print(f"wrote {out}")
    if render:
        import twin

        chosen = device or str(result.table.index[0])
        console.print(f"wrote {twin.render(site, render, color_by='outage', state=result.rack_state(chosen), title=f'{chosen} fails')}")


def scan_table(table, top: int, title: str) -> Table:
    """The worst `top` failures as a rich table (tokens in millions per second)."""
    out = Table(title=title, caption="lost: racks unpowered, uncooled or shed; *: re-capped instead of shed")
    out.add_column("device", overflow="fold")
    cols = [c for c in COLUMNS if c[0] in table.columns]
    for _, label, _ in cols:
        out.add_column(label, justify="right", no_wrap=True)
    for device, row in table.head(top).iterrows():
        out.add_row(str(device), *(form.format(row[c] / 1e6 if "tokens" in c else row[c]) for c, _, form in cols))
    return out
