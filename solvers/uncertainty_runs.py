"""One sample of an uncertainty run: the facility's world with the sampled inputs applied, run and reduced to KPIs.

A job holds what every sample shares (the facility, the inputs, the loaded weather and utilization profile, the
base design); `run_sample(job, scenario, run)` is the task `solvers.sweep` ships to dask workers and returns the
sweep's record (status, message, kpis, seconds): a failed sample is reported, never raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from solvers.sweep import failure
from twin.uncertainty import Input, catalog_overlay

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

SIMULATE_KPIS = {
    "tokens": "1", "tokens_per_s": "s-1", "grid_energy_mwh": "MWh", "it_energy_mwh": "MWh", "cooling_energy_mwh": "MWh",
    "losses_energy_mwh": "MWh", "peak_grid_mw": "MW", "pue": "1", "water_m3": "m3", "revenue_usd": "USD",
    "energy_cost_usd": "USD", "energy_usd_per_mtok": "USD Mtok-1", "throttling_hours": "h", "over_temperature_hours": "h",
}
WEATHER_VARIABLES = ("dry_bulb_c", "wet_bulb_c", "dew_point_c")


@dataclass
class SimulateJob:
    """What every sample of a simulate run shares."""

    facility: Facility
    inputs: list[Input]
    weather: xr.Dataset
    utilization: np.ndarray                 # (time,) or (time, rack) profile before the utilization factor
    workload: Any
    electricity_usd_per_kwh: float
    freq: str = "1h"
    rack_system: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=str))
    key: str = ""                           # the run's fingerprint: which cached simulations are this job's


def run_sample(job: Any, scenario: Mapping[str, Any], run: str) -> dict[str, Any]:
    """KPIs of one sample (scenario {'sample': i, 'values': [...]}); failures come back as status and message."""
    started = time.perf_counter()
    status, message, kpis, labels = "ok", "", {}, {}
    try:
        out = _sampler(run)(job, np.asarray(scenario["values"], dtype=float))
        kpis = {k: v for k, v in out.items() if not isinstance(v, str)}
        labels = {k: v for k, v in out.items() if isinstance(v, str)}
    except Exception as exc:  # noqa: BLE001  (one sample's failure must not stop the run)
        status, message = failure(exc)
    return {"status": status, "message": message, "kpis": kpis, "labels": labels, "tokens_per_s_by_tier": {},
            "seconds": time.perf_counter() - started}


def _sampler(run: str):
    if run == "optimize":
        from solvers.uncertainty_design import optimize_sample

        return optimize_sample
    if run == "compare":
        from solvers.uncertainty_compare import compare_sample

        return compare_sample
    return simulate_sample


def values_by_name(inputs: Sequence[Input], values: np.ndarray) -> dict[str, float]:
    return {i.name: float(v) for i, v in zip(inputs, values)}


def sampled_facility(facility: Facility, inputs: Sequence[Input], values: np.ndarray) -> Facility:
    """The facility on a catalog with the sampled catalog inputs applied (the graph is shared, not copied)."""
    catalog = catalog_overlay(facility.catalog, inputs, values)
    return facility if catalog is facility.catalog else facility.on_catalog(catalog)


def shifted_weather(weather: xr.Dataset, offset_c: float) -> xr.Dataset:
    """The weather with dry bulb, wet bulb and dew point all `offset_c` warmer (relative humidity nearly kept)."""
    if offset_c == 0.0:
        return weather
    return weather.copy(data={name: v.values + offset_c if name in WEATHER_VARIABLES else v.values
                              for name, v in weather.data_vars.items()})


def simulate_sample(job: SimulateJob, values: np.ndarray) -> dict[str, float]:
    """Simulate the sampled world; tokens and revenue scale with each system's throughput factor (tokens are
    linear in tokens/s per GPU), energy cost with the electricity price and revenue with the token price, so
    samples that differ only in those share one simulation."""
    v = values_by_name(job.inputs, values)
    physics = tuple((i.name, float(x)) for i, x in zip(job.inputs, values) if not _post_hoc(i))
    key = (job.key, physics)
    if key not in _SIMULATED:
        if len(_SIMULATED) >= 4:
            _SIMULATED.pop(next(iter(_SIMULATED)))
        _SIMULATED[key] = _simulated(job, values, v)
    k, by_system = _SIMULATED[key]
    shares = np.array([v.get(f"throughput[{s}]", 1.0) for s in by_system])
    total = sum(by_system.values())
    throughput = float(np.dot(shares, list(by_system.values())) / total) if total > 0 else 1.0
    tokens = k["tokens"] * throughput
    price = job.electricity_usd_per_kwh * v.get("electricity_price", 1.0)
    out = {name: k[name] for name in SIMULATE_KPIS if name in k}
    out["tokens"] = tokens
    out["tokens_per_s"] = tokens / (k["hours"] * 3600.0)
    out["revenue_usd"] = k["revenue_usd"] * throughput * v.get("token_price", 1.0)
    out["energy_cost_usd"] = k["grid_energy_mwh"] * 1000.0 * price
    out["energy_usd_per_mtok"] = out["energy_cost_usd"] / (tokens / 1e6) if tokens else float("nan")
    return out


_SIMULATED: dict[tuple, tuple[dict[str, float], dict[str, float]]] = {}
"""The last few simulations of this process, by job and physics inputs (prices and throughput left out)."""


def _post_hoc(i: Input) -> bool:
    """Inputs applied to a simulation's results rather than to its physics (the KPIs are linear in them)."""
    return i.family in ("throughput", "electricity_price", "token_price")


def _simulated(job: SimulateJob, values: np.ndarray, v: Mapping[str, float]) -> tuple[dict, dict[str, float]]:
    """(totals, tokens per system) of one simulation of the sampled physics."""
    from twin.simulation import simulate

    facility = sampled_facility(job.facility, job.inputs, values)
    util = job.utilization if "utilization" not in v else np.clip(job.utilization * v["utilization"], 0.0, 1.0)
    systems = list(np.unique(job.rack_system))
    per_rack = len(systems) > 1
    ds = simulate(facility, weather=shifted_weather(job.weather, v.get("weather", 0.0)), workload=job.workload,
                  hours=int(job.weather.sizes["time"]), freq=job.freq, utilization=util, per_rack=per_rack,
                  per_device=False)
    hours = ds["step_hours"].values
    k = _totals(ds, hours)
    if per_rack:
        by_rack = (ds["rack_tokens_per_s"].values.astype(float) * hours[:, None]).sum(axis=0) * 3600.0
        by_system = {s: float(by_rack[job.rack_system == s].sum()) for s in systems}
    else:
        by_system = {s: k["tokens"] for s in systems}
    return k, by_system


def _totals(ds: xr.Dataset, hours: np.ndarray) -> dict[str, float]:
    """The run's energies (MWh), peak, PUE (energy-weighted), water, tokens, list revenue and flag hours, from
    the arrays (what `ds.twin.summary()` reports, without its xarray overhead per sample)."""
    def integral(name: str) -> float:
        return float(np.dot(ds[name].values, hours))

    out = {f"{part}_energy_mwh": integral(f"{var}") / 1000.0 for part, var in (
        ("grid", "grid_power_kw"), ("it", "it_power_kw"), ("losses", "losses_kw"), ("cooling", "cooling_power_kw"))}
    out["hours"] = float(hours.sum())
    out["peak_grid_mw"] = float(ds["grid_power_kw"].values.max()) / 1000.0
    out["pue"] = out["grid_energy_mwh"] / out["it_energy_mwh"] if out["it_energy_mwh"] else float("nan")
    out["water_m3"] = integral("water_l_per_h") / 1000.0
    out["tokens"] = float(np.dot(ds["tokens_per_s"].values.sum(axis=1), hours)) * 3600.0
    out["revenue_usd"] = float(np.dot(ds["revenue_usd_per_h"].values.sum(axis=1), hours))
    for flag in ("throttling", "over_temperature"):
        out[f"{flag}_hours"] = integral(flag)
    return out


__all__ = ["SimulateJob", "run_sample", "simulate_sample", "sampled_facility", "shifted_weather", "SIMULATE_KPIS"]
