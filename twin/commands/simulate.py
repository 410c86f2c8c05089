"""`twin simulate FILE`: a year (or any span) of a facility through weather, saved as NetCDF with a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import checks, output
from twin.simulation import PER_RACK_AUTO_CELLS


LABELS = {
    "weather": "weather", "steps": "steps", "hours": "hours", "grid_energy_mwh": "grid energy, MWh",
    "it_energy_mwh": "IT energy, MWh", "cooling_energy_mwh": "cooling energy, MWh",
    "losses_energy_mwh": "power-chain losses, MWh", "aux_energy_mwh": "auxiliary energy, MWh",
    "peak_grid_mw": "peak grid power, MW", "pue": "PUE (annual)", "pue_mean": "PUE mean", "pue_peak": "PUE peak",
    "wue_l_per_kwh": "WUE, L/kWh", "water_m3": "water, m³", "tokens": "tokens", "tokens_per_kwh_grid": "tokens per kWh (grid)",
    "revenue_usd": "revenue, USD", "chiller_hours": "hours with chillers on", "throttling_hours": "hours throttled",
    "over_temperature_hours": "hours over temperature", "overload_hours": "hours overloaded",
    "grid_overload_hours": "hours above the grid limit",
}
"""The summary lines, in order; machine formats carry the same keys as `ds.twin.summary()`."""


def _utilization(text: str):
    """'constant', 'diurnal', 'training' or a number in 0..1."""
    try:
        return float(text)
    except ValueError:
        return text


@app.command()
@tabular
@friendly
def simulate(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    weather: Optional[str] = typer.Option(None, "--weather", help="Climate name (phoenix, lulea, hot-humid, ...) or an .epw/.csv file; default: the blueprint's climate."),
    hours: int = typer.Option(8760, "--hours", help="Hours to simulate from Jan 1."),
    freq: str = typer.Option("1h", "--freq", help="Time step, e.g. 1h, 15min, 1min."),
    utilization: str = typer.Option("constant", "--utilization", help="constant, diurnal, training, or a number 0..1."),
    llm: str = typer.Option("deepseek-r1", "--llm", help="LLM served (deepseek-r1, gpt-oss-120b)."),
    precision: str = typer.Option("fp8", "--precision", help="fp8 or fp4."),
    per_rack: Optional[bool] = typer.Option(None, "--per-rack/--no-per-rack", show_default=False, help=(
        "Keep (time x rack) series, what `twin render --state` colours racks by. Default: kept in --out files "
        f"up to {PER_RACK_AUTO_CELLS:,} steps x racks, else left out (say so)."
    )),
    chunks: Optional[int] = typer.Option(None, "--chunks", help="Steps per dask chunk (long minute-level runs)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the results to this NetCDF (.nc) file."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Save a plot (PNG) of power, PUE and tokens."),
) -> None:
    """Simulate a facility through weather; print annual energy, PUE, WUE, tokens and revenue."""
    import blueprints
    from twin.physics.tokens import Workload
    from twin.progress import bar, block_steps
    from twin.simulation import simulate as run
    from twin.state import load

    from twin.atomic import FIGURE_SUFFIXES

    checks.number(hours, "--hours", at_least=1, unit="h")
    checks.output(out, "--out", (".nc",))
    checks.output(plot, "--plot", FIGURE_SUFFIXES)
    facility = blueprints.load(blueprint)
    workload = Workload(llm=llm, precision=precision)
    keep = per_rack if per_rack is not None else (None if out is not None else False)  # None: by size
    with bar(console, "simulating") as progress:
        ds = run(facility, weather=weather, workload=workload, hours=hours, freq=freq,
                 utilization=_utilization(utilization), per_rack=keep, chunks=chunks, progress=progress)
        lazy = chunks is not None
        if not lazy and out is not None:
            progress(ds.sizes["time"], ds.sizes["time"], f"writing {out}")
        with block_steps(progress if lazy else None, ds.sizes["time"],
                         f"simulating into {out}" if out is not None else "simulating"):
            if out is not None:
                ds.twin.save(out)
                ds = load(out, lazy=True) if lazy else ds  # the summary reads the file, not a second simulation
            elif lazy:
                ds = ds[[v for v in ds.data_vars if not {"rack", "device"} & set(ds[v].dims)]].compute()
    summary = {"weather": f"{ds.attrs['weather_site']} ({ds.attrs.get('weather_kind', 'user Dataset')})",
               **ds.twin.summary()}
    output.show(output.record("simulation", {k: summary[k] for k in LABELS if k in summary},
                              f"simulation of {facility.name}", labels=LABELS))
    if plot is not None:
        ds.twin.plot(plot, title=f"{facility.name} in {ds.attrs['weather_site']}")
        console.print(f"plot written to {plot}")
    if out is not None:
        console.print(f"results written to {out}")
        if "rack_power_kw" not in ds:
            console.print(f"[yellow]per-rack series left out[/] ({ds.sizes['time']:,} steps x {ds.attrs['racks']:,} racks "
                          f"> {PER_RACK_AUTO_CELLS:,}): add --per-rack to keep them for `twin render --state {out}`")
