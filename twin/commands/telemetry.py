"""`twin telemetry import FILES... --mapping map.yaml --out measured.nc`: operators' exports as one NetCDF file."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import output

telemetry_app = typer.Typer(no_args_is_help=True, help="Measured telemetry: import exports, turn request traces into demand.")
app.add_typer(telemetry_app, name="telemetry")


@telemetry_app.command("import")
@tabular
@friendly
def import_(
    files: List[str] = typer.Argument(..., help="Telemetry files or glob patterns (nvidia-smi/DCGM CSV, Prometheus text, Redfish JSON, BMS CSV)."),
    mapping: Optional[Path] = typer.Option(None, "--mapping", help="Mapping file: hosts -> racks, points -> variables and nodes, timezone."),
    blueprint: Optional[str] = typer.Option(None, "--blueprint", help=f"Check mapped nodes against this facility. {BLUEPRINT_HELP}"),
    out: Path = typer.Option(..., "--out", help="NetCDF (.nc) file to write."),
    freq: Optional[str] = typer.Option(None, "--freq", help="Time step (default: the coarsest typical sampling interval, at most 1h)."),
    timezone: Optional[str] = typer.Option(None, "--timezone", help="IANA zone of timestamps written without one (overrides the mapping)."),
    fmt: Optional[str] = typer.Option(None, "--input-format", help="Force the input format: nvidia-smi, dcgm, prometheus, redfish, bms."),
    max_gap: int = typer.Option(3, "--max-gap", help="Longest gap (steps) filled by interpolation."),
    keep_outliers: bool = typer.Option(False, "--keep-outliers", help="Do not remove Hampel outliers."),
) -> None:
    """Read telemetry exports into one Dataset on the twin's coordinates; print what was found and done."""
    import blueprints
    from twin import telemetry

    facility = blueprints.load(blueprint) if blueprint else None
    with console.status("reading telemetry"):
        ds = telemetry.read(files, mapping, facility=facility, freq=freq, timezone=timezone, format=fmt,
                            max_gap=max_gap, outlier_z=None if keep_outliers else 6.0)
    with console.status(f"writing {out}"):
        telemetry.save(ds, out)
    show_import(ds, out)


def show_import(ds, out: Path) -> None:
    """The import's summary and its findings."""
    from twin import telemetry

    variables = [str(v) for v in ds.data_vars if not str(v).endswith("_quality") and v != "step_hours"]
    quality = {v: ds[f"{v}_quality"].values for v in variables if f"{v}_quality" in ds}
    cells = sum(q.size for q in quality.values())
    summary = {
        "file": str(out), "steps": int(ds.sizes["time"]), "step": ds.attrs.get("freq", ""),
        "from": str(ds["time"].values[0])[:19], "to": str(ds["time"].values[-1])[:19],
        "racks": int(ds.sizes.get("rack", 0)), "devices": int(ds.sizes.get("device", 0)),
        "variables": ", ".join(variables), "time basis": ds.attrs.get("time_basis", ""),
        "measured share": sum(int((q == 0).sum()) for q in quality.values()) / cells if cells else 0.0,
        "filled share": sum(int((q == 1).sum()) for q in quality.values()) / cells if cells else 0.0,
    }
    found = telemetry.report(ds)
    output.show(output.record("import", summary, "telemetry import"))
    output.show(output.Output("findings", found, "what reading found and did", ids=("where",)))





@telemetry_app.command("trace")
@tabular
@friendly
def trace(
    files: List[str] = typer.Argument(..., help="Request traces (CSV: timestamp, input and output tokens, as the Azure LLM traces)."),
    out: Path = typer.Option(..., "--out", help="NetCDF (.nc) file to write: demand per tier (and utilization with --blueprint)."),
    tier: List[str] = typer.Option([], "--tier", help="trace=tier (file stem = catalog tier), repeatable; one tier name for all; default standard."),
    blueprint: Optional[str] = typer.Option(None, "--blueprint", help=f"Facility whose capacity turns demand into utilization. {BLUEPRINT_HELP}"),
    freq: str = typer.Option("1min", "--freq", help="Time step of the demand series."),
    scale: Optional[float] = typer.Option(None, "--scale", help="Multiply the traffic by this factor."),
    peak_utilization: Optional[float] = typer.Option(None, "--peak-utilization", help="Scale so the busiest tier at its busiest step uses this share of its capacity (needs --blueprint)."),
) -> None:
    """Turn request traces into per-tier token demand and the facility's utilization over time."""
    import blueprints
    from twin import telemetry
    from twin.telemetry.requests import demand

    tiers: str | dict | None = None
    if len(tier) == 1 and "=" not in tier[0]:
        tiers = tier[0]
    elif tier:
        tiers = dict(t.split("=", 1) for t in tier)
    facility = blueprints.load(blueprint) if blueprint else None
    ds = demand(files, facility, tiers=tiers, freq=freq, scale=scale, peak_utilization=peak_utilization)
    telemetry.save(ds, out)
    per_tier = ds[["requests_per_s", "demand_tokens_per_s"]].mean("time").to_dataframe()
    per_tier["peak_tokens_per_s"] = ds["demand_tokens_per_s"].max("time").values
    if "capacity_tokens_per_s" in ds:
        per_tier["capacity_tokens_per_s"] = ds["capacity_tokens_per_s"].values
        per_tier["peak_tier_utilization"] = ds["tier_utilization"].max("time").values
    output.show(output.Output("demand", per_tier, f"demand per tier ({ds.sizes['time']} steps of {freq}, "
                              f"scale {ds.attrs['scale']:.4g})"))
    if "utilization" in ds:
        console.print(f"utilization: mean {float(ds['utilization'].mean()):.3f}, peak {float(ds['utilization'].max()):.3f}")
    console.print(f"demand written to {out}")
__all__ = ["telemetry_app", "import_", "show_import", "trace"]
