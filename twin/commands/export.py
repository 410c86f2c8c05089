"""`twin export FILE --usd site.usdc`: a facility as an OpenUSD stage with SimReady metadata, optionally animated."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import checks, output


@app.command("export")
@tabular
@friendly
def export(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    usd: Path = typer.Option(..., "--usd", help="Output stage: .usda (text), .usdc/.usd (binary) or .usdz (package)."),
    state: Optional[Path] = typer.Option(None, "--state", help="A simulation result (.nc from `twin simulate --per-rack --out`) to write as time samples."),
    color_by: str = typer.Option("rack_power_kw", "--color-by", help="Per-rack state variable the rack colours follow over time (with --state)."),
    check: bool = typer.Option(False, "--check/--no-check", help="Run usd-core's validators (what usdchecker runs) on the written file."),
) -> None:
    """Write a facility as OpenUSD: one prim per hall, row, rack and device, with connection points for every feed."""
    import blueprints
    from twin.usd import export_usd

    ds = checks.simulation(state, "--state")
    facility = blueprints.load(blueprint)
    with console.status(f"writing {usd}"):
        path = export_usd(facility, usd, ds, color_by=color_by)
    rows = {"file": str(path), "size, MB": path.stat().st_size / 1e6, "racks": len(facility.nodes_of("rack")),
            "devices": sum(1 for _, k in facility.graph.nodes(data="kind") if k not in ("site", "hall", "row", "rack", "gpu")),
            "time samples": int(ds.sizes["time"]) if ds is not None else 0}
    if check:
        from twin.usd.check import check as run_checks

        with console.status("checking"):
            problems = run_checks(path)
        rows["usd validator findings"] = len(problems)
        for p in problems[:50]:
            console.print(f"[yellow]{p}[/]")
    output.show(output.record("export", rows, f"USD export of {facility.name}"))
    if check and problems:
        raise typer.Exit(1)
