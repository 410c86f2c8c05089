"""`twin check FILE`: a facility through its design weather year at full load; exit 1 when it fails."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import checks, output

LABELS = {
    "weather": "weather", "hours": "hours simulated (full load)", "grid_limit_mw": "grid limit, MW",
    "peak_grid_mw": "peak grid power, MW", "hours_over_grid_limit": "hours over the grid limit",
    "allowed_exceedance_hours": "hours allowed over the limit", "throttled_hours": "hours throttled",
    "allowed_throttle_hours": "hours allowed to throttle", "over_temperature_hours": "hours over temperature",
    "device_overload_hours": "hours with a device above its rating", "worst_hour": "worst hour",
    "worst_dry_bulb_c": "worst hour dry bulb, °C", "worst_wet_bulb_c": "worst hour wet bulb, °C",
    "worst_grid_mw": "worst hour grid power, MW", "ok": "passes",
}
"""The report lines, in order; machine formats carry the keys of `YearCheck.summary()`."""


@app.command()
@tabular
@friendly
def check(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    weather: Optional[str] = typer.Option(None, "--weather", help="Climate name or .epw/.csv file; default: the blueprint's climate."),
    exceedance_hours: Optional[str] = typer.Option(None, "--exceedance-hours", help="Hours the grid limit may be exceeded: a number or 0.4%, 1%, 2% (default: the site's design_exceedance_hours, else 0)."),
    throttle_hours: Optional[str] = typer.Option(None, "--throttle-hours", help="Hours racks may throttle: a number or 0.4%, 1%, 2% (default: the site's design_throttle_hours, else 0)."),
) -> None:
    """Simulate a facility's design year at full load: hours over the grid limit, throttled and over
    temperature, the worst hour and what binds there; exit 1 when the year fails."""
    import blueprints
    from twin.design_year import check as run

    facility = blueprints.load(blueprint)
    with console.status(f"simulating {facility.name} through its design year at full load"):
        result = run(facility, weather, exceedance_hours=checks.count_or_label(exceedance_hours), throttle_hours=checks.count_or_label(throttle_hours))
    summary = result.summary()
    summary["worst_hour"] = summary["worst_hour"][:16].replace("T", " ")
    output.show(output.record("design_year", {k: summary[k] for k in LABELS}, f"design year of {facility.name}",
                              labels=LABELS))
    for line in result.binding:
        console.print(f"binds: {line}", highlight=False)
    console.print(f"[{'green' if result.ok else 'bold red'}]{escape(str(result))}")
    if not result.ok:
        raise typer.Exit(1)

