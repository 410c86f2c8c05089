"""`twin calibrate BLUEPRINT measured.nc --params gpu.idle_w,... --out fitted.yaml`: catalog fields fitted to telemetry."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import output

MEASURED_HELP = "Measured telemetry: a NetCDF file from `twin telemetry import`."
BY_HELP = "Measured variable that drives the load: rack_utilization, utilization, rack_power_kw, rack_gpu_power_kw or it_power_kw (default: the first present)."
METRIC_LABELS = {"cv_rmse_pct": "CV(RMSE) %", "nmbe_pct": "NMBE %", "cv_limit_pct": "CV limit %",
                 "nmbe_limit_pct": "|NMBE| limit %", "measured_mean": "measured mean"}


def measured_file(path: Path):
    from twin import telemetry
    from twin.state import StateError

    if path.suffix.lower() not in (".nc", ".nc4", ".netcdf"):
        raise StateError(f"{path}: measured telemetry is a NetCDF (.nc) file; make one with `twin telemetry import`")
    return telemetry.load(path)


def metrics_output(name: str, table, title: str) -> output.Output:
    return output.Output(name, table.set_index("variable"), title, labels=METRIC_LABELS, ids=("series",),
                         caption="ASHRAE Guideline 14: hourly CV(RMSE) <= 30 %, |NMBE| <= 10 %; monthly 15 % / 5 %; "
                                 "NMBE > 0: the twin predicts too little")


@app.command()
@tabular
@friendly
def calibrate(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    measured: Path = typer.Argument(..., help=MEASURED_HELP),
    params: str = typer.Option(..., "--params", help="Comma-separated catalog fields (systems.<id>.gpu_idle_w, cooling.dlc.unit_power_kw_per_kw, ...) or gpu.idle_w, gpu.full_load_w, node.overhead_w, rack.overhead_w."),
    out: Path = typer.Option(..., "--out", help="Catalog overlay (.yaml) to write with the fitted values (evidence: calibrated)."),
    targets: Optional[str] = typer.Option(None, "--targets", help="Comma-separated measured variables to fit (default: every one the twin predicts)."),
    by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
    weather: Optional[str] = typer.Option(None, "--weather", help="Climate or weather file under the measured dry bulb (default: the blueprint's climate)."),
    level: float = typer.Option(0.95, "--level", help="Confidence level of the intervals."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Also save the calibrated replay's plot (PNG)."),
) -> None:
    """Fit catalog parameters to measured telemetry (bounded least squares); write them as a calibrated overlay."""
    import blueprints
    from twin.atomic import check_figure_path
    from twin.calibration import calibrate as fit_catalog

    if plot is not None:
        check_figure_path(plot)
    facility = blueprints.load(blueprint)
    data = measured_file(measured)
    names = [p.strip() for p in params.split(",") if p.strip()]
    chosen = [t.strip() for t in targets.split(",") if t.strip()] if targets else None
    with console.status("calibrating (bounded least squares)"):
        fit = fit_catalog(facility, data, names, targets=chosen, by=by, weather=weather, level=level)
    path = fit.save(out)
    table = fit.table().set_index("parameter")
    output.show(output.Output("parameters", table, f"fitted parameters ({fit.result.nfev} evaluations, "
                              f"{fit.result.n:,} points, {fit.result.n_eff:,.0f} effective)"))
    output.show(output.Output("correlations", fit.correlations().rename_axis("parameter"), "parameter correlations"))
    output.show(metrics_output("before", fit.before, "Guideline 14 before (packaged catalog)"))
    output.show(metrics_output("after", fit.after, "Guideline 14 after (calibrated)"))
    if plot is not None:
        from twin.telemetry.plots import replay_figure

        replay_figure(fit.replay, plot, title=f"{facility.name}: calibrated twin vs measured")
        console.print(f"plot written to {plot}")
    console.print(f"calibrated overlay written to {path}; use it with blueprints.load(..., catalog={str(path)!r})")


__all__ = ["calibrate", "measured_file", "metrics_output", "BY_HELP", "MEASURED_HELP"]
