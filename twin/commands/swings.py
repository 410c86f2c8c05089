"""`twin swings BLUEPRINT --job ...`: a training job's sub-second power against grid ramp and oscillation limits,
and the cheapest GPU power floor and storage that meet them (checked by re-simulating the hour)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import output


@app.command()
@tabular
@friendly
def swings(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    job: str = typer.Option("racks=all", "--job", help="The job: racks=N|all, iteration_s=2, comm_share=0.3, comm_fraction=0.45, checkpoint_every_s=1800, checkpoint_s=30 (comma-separated)."),
    ramp: float = typer.Option(1.0, "--ramp", help="Grid ramp limit, MW/s (over 1 s)."),
    band: str = typer.Option("0.1-5:0.5", "--band", help="Oscillation limits LO-HI:MW, comma-separated, e.g. 0.1-1:0.5,1-5:0.2."),
    seconds: float = typer.Option(3600.0, "--seconds", help="Window re-simulated at 10 Hz."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Save a PNG of the job's power before and after smoothing."),
) -> None:
    """Power swings of synchronous training: ramp and FFT band checks, and the cheapest floor and storage that pass."""
    import blueprints
    from solvers.smoothing import smoothing
    from twin.dynamics import Limits, TrainingJob
    from twin.errors import TwinError

    facility = blueprints.load(blueprint)
    racks = facility.table("rack")
    if racks.empty:
        raise TwinError(f"{blueprint}: the facility has no populated racks to train on")
    fields = dict(kv.split("=", 1) for kv in job.split(",") if kv.strip())
    system = str(racks["system"].mode().iat[0])
    same = racks[racks["system"] == system]
    n_racks = len(same) if fields.get("racks", "all") == "all" else int(fields["racks"])
    if not 0 < n_racks <= len(same):
        raise TwinError(f"--job racks={n_racks}: the facility has {len(same)} {system} racks")
    params = {k: float(v) for k, v in fields.items() if k != "racks"}
    spec = facility.catalog.system(system)
    try:
        tj = TrainingJob(gpus=int(n_racks * same["gpus"].iat[0]), system=system, **params)
    except TypeError as exc:
        raise TwinError(f"--job: {exc}") from None
    bands = []
    for part in band.split(","):
        rng, amp = part.split(":")
        lo, hi = rng.split("-")
        bands.append((float(lo), float(hi), float(amp)))
    limits = Limits(ramp_mw_per_s=ramp, bands_hz=tuple(bands))
    with console.status("sizing the smoothing"):
        s = smoothing(tj, facility.catalog, limits, seconds=seconds)
    import pandas as pd

    rows = []
    for label, c in (("job as it runs", s.before), ("with floor and storage", s.after)):
        row = {"case": label, "ramp_mw_per_s": c["ramp_mw_per_s"]}
        for b in c["bands"]:
            row[f"{b['band_hz'][0]:g}-{b['band_hz'][1]:g} Hz, MW"] = b["amplitude_mw"]
        row["meets_limits"] = c["ok"]
        rows.append(row)
    output.show(output.Output("swings", pd.DataFrame(rows).set_index("case"),
                              f"{tj.gpus:,} {spec.id} GPUs training: limits {ramp:g} MW/s, bands {band}",
                              labels={"ramp_mw_per_s": "ramp, MW/s", "meets_limits": "meets limits"}))
    output.show(output.record("smoothing", {
        "GPU power floor, MW": s.floor_kw / 1000, "storage power, MW": s.storage_kw / 1000,
        "storage energy, kWh": s.storage_kwh, "energy burned to the floor, MWh/year": s.burn_mwh_per_year,
        "cost, USD/year": s.cost_usd_per_year}, "cheapest smoothing (LP), re-simulated"))
    if plot is not None:
        _plot(s, plot, f"{tj.gpus:,} GPUs of {spec.id}: grid power before and after smoothing")
        console.print(f"plot written to {plot}")


def _plot(s, path, title: str) -> None:
    from matplotlib.figure import Figure

    from twin.io import atomic_write

    t = s.series["t_s"]
    show = t < min(t[-1], 120.0)
    fig = Figure(figsize=(11, 6), layout="constrained")
    ax = fig.subplots(2, 1, sharex=True)
    ax[0].plot(t[show], s.series["load_kw"][show] / 1000, lw=0.8, label="job (racks)")
    ax[0].plot(t[show], s.series["grid_kw"][show] / 1000, lw=1.2, label="grid side (floor + storage)")
    ax[0].set_ylabel("MW")
    ax[0].set_ylim(bottom=0)
    ax[0].legend(loc="lower right", fontsize=8)
    ax[1].plot(t[show], s.series["storage_kw"][show] / 1000, lw=0.8, color="#6b8e5a", label="storage (+ discharge)")
    ax[1].plot(t[show], s.series["burn_kw"][show] / 1000, lw=0.8, color="#c44e52", label="burned to the floor")
    ax[1].set_ylabel("MW")
    ax[1].set_xlabel("seconds (first two minutes)")
    ax[1].legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=110), binary=True)
