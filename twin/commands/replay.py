"""`twin replay BLUEPRINT measured.nc --plot replay.png`: the twin driven by measurements, scored against them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import output
from twin.commands.calibrate import BY_HELP, MEASURED_HELP, measured_file, metrics_output


@app.command()
@tabular
@friendly
def replay(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    measured: Path = typer.Argument(..., help=MEASURED_HELP),
    catalog: Optional[Path] = typer.Option(None, "--catalog", help="A catalog overlay (e.g. from `twin calibrate`)."),
    by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
    weather: Optional[str] = typer.Option(None, "--weather", help="Climate or weather file under the measured dry bulb."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write prediction and measurement (NetCDF)."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Save the twin-vs-measured plot (PNG, SVG or PDF)."),
) -> None:
    """Drive the twin with measured load and weather; compare prediction and measurement (Guideline 14)."""
    import blueprints
    from twin.atomic import check_figure_path
    from twin.calibration import metrics
    from twin.telemetry.drive import replay as run

    if plot is not None:
        check_figure_path(plot)
    facility = blueprints.load(blueprint, catalog=catalog)
    data = measured_file(measured)
    with console.status("replaying"):
        ds = run(facility, data, by=by, weather=weather)
    console.print(f"driven by {ds.attrs['drive']}")
    output.show(metrics_output("metrics", metrics.compare(ds), f"{facility.name}: twin vs measured"))
    if out is not None:
        ds.twin.save(out)
        console.print(f"results written to {out}")
    if plot is not None:
        from twin.telemetry.plots import replay_figure

        replay_figure(ds, plot)
        console.print(f"plot written to {plot}")


__all__ = ["replay"]
