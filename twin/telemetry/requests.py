"""Load from real requests: a request trace (arrival time, input and output tokens) as per-tier token demand and
the twin's utilization.

Traces in the Azure LLM inference format (`TIMESTAMP, ContextTokens, GeneratedTokens`) or with columns named
`timestamp`/`arrival_time`, `input_tokens`/`prompt_tokens`, `output_tokens`/`completion_tokens` are read;
each trace's requests go to one catalog tier (`tiers`, per trace file; default `standard`). Per step of
`freq`: requests per second and tokens per second (input + output, as `twin.simulate` counts them) per
tier, on the (time, tier) coordinates of a simulation, so markets and dispatch can use them as demand.

With a facility, its capacity per tier (the twin's tokens/s at full utilization, unthrottled) turns demand
into `tier_utilization` and the share of GPU capacity in use, `utilization`, which drives a simulation:
`twin.simulate(site, drive=demand(...))`. A tier's GPUs are its share of the workload's tier mix; demand above
a tier's capacity is reported as unserved. `scale` multiplies the traffic (a service's trace is far smaller
than a facility); `peak_utilization` picks the scale at which the busiest tier, at its busiest step, runs at
that share of its capacity (so no tier is short of capacity while it is at most 1).
Pass the same workload to the simulation (`twin.simulate(site, drive=ds, workload=...)`, tier mix in
`ds.attrs["tier_mix"]`): the twin applies one utilization to every tier of a rack, so the tokens it serves per
tier follow the tier mix, while the Dataset keeps each tier's own demand and what exceeds its capacity.
Assumption: every request of a tier is served at the tier's operating point (its interactivity and the
measured throughput there); queueing and per-request latency are not modelled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np
import pandas as pd

from twin.telemetry.errors import TelemetryError

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility
    from twin.physics.tokens import Workload

TIME = ("timestamp", "arrival_time", "arrived_at", "time", "start_time")
INPUT = ("contexttokens", "input_tokens", "prompt_tokens", "num_prompt_tokens", "input_length")
OUTPUT = ("generatedtokens", "output_tokens", "completion_tokens", "num_generated_tokens", "output_length")
DEFAULT_TIER = "standard"


def read_trace(path: str | Path) -> pd.DataFrame:
    """One request per row: arrival `time` (datetime64), `input_tokens`, `output_tokens`; errors name the line."""
    from twin.telemetry.formats.table import column, load, read_text
    from twin.telemetry.readings import numbers, times

    name = str(path)

    def is_header(cells: list[str]) -> bool:
        low = {c.lower().replace(" ", "") for c in cells}
        return bool(low & set(TIME)) and bool(low & set(INPUT)) and bool(low & set(OUTPUT))

    frame, lines, _ = load(name, read_text(path), is_header, "request trace")
    tcol, icol, ocol = column(frame, TIME), column(frame, INPUT), column(frame, OUTPUT)
    stamps, _ = times(frame[tcol], name, lines, tcol)
    out = {"time": stamps}
    for key, col in (("input_tokens", icol), ("output_tokens", ocol)):
        values, _, _ = numbers(frame[col], name, lines, col)
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise TelemetryError(name, int(lines[i]), col, f"{values[i]:g} is not a token count",
                                 "give whole numbers of tokens >= 0")
        out[key] = values.astype(np.int64)
    if not len(frame):
        raise TelemetryError(name, None, None, "no requests", "the trace needs at least one request row")
    return pd.DataFrame(out).sort_values("time", kind="stable").reset_index(drop=True)


def demand(
    traces: str | Path | Iterable[str | Path] | Mapping[str, pd.DataFrame],
    facility: Facility | None = None,
    *,
    tiers: str | Mapping[str, str] | None = None,
    freq: str = "1min",
    workload: Workload | None = None,
    scale: float | None = None,
    peak_utilization: float | None = None,
) -> xr.Dataset:
    """Per-tier demand (and, with a facility, utilization) of request traces; see the module docstring.

    traces: trace files (or {name: frame} from `read_trace`). tiers: one tier for all, or {trace file stem: tier}.
    """
    import xarray as xr

    frames = _frames(traces)
    assign = {name: (tiers if isinstance(tiers, str) else (tiers or {}).get(name, DEFAULT_TIER)) for name in frames}
    if facility is not None:
        for tier in set(assign.values()):
            facility.catalog.tier(tier)
    if scale is not None and peak_utilization is not None:
        raise TelemetryError("<demand>", None, "scale", "give scale or peak_utilization, not both", "drop one")
    step = pd.Timedelta(freq)
    t0 = min(f["time"].iloc[0] for f in frames.values()).floor(freq)
    t1 = max(f["time"].iloc[-1] for f in frames.values())
    time = pd.date_range(t0, t1.floor(freq), freq=freq)
    order = list(dict.fromkeys(assign.values()))
    req = np.zeros((time.size, len(order)))
    tok_in = np.zeros_like(req)
    tok_out = np.zeros_like(req)
    for name, f in frames.items():
        j = order.index(assign[name])
        k = ((f["time"] - t0) // step).to_numpy().astype(np.int64)
        req[:, j] += np.bincount(k, minlength=time.size)
        tok_in[:, j] += np.bincount(k, weights=f["input_tokens"].to_numpy(float), minlength=time.size)
        tok_out[:, j] += np.bincount(k, weights=f["output_tokens"].to_numpy(float), minlength=time.size)
    seconds = step.total_seconds()
    factor = 1.0 if scale is None else float(scale)
    attrs = {"traces": ", ".join(f"{n} -> {assign[n]} ({len(f):,} requests)" for n, f in frames.items()),
             "freq": freq, "tokens": "input + output, as twin.simulate counts them",
             "assumptions": "every request of a tier is served at the tier's operating point; queueing and "
                            "per-request latency are not modelled"}
    ds = xr.Dataset(coords={"time": time.to_numpy(), "tier": np.array(order, dtype=str)}, attrs=attrs)
    if facility is not None:
        capacity, share = capacity_tokens_per_s(facility, order, workload)
        total = (tok_in + tok_out) / seconds
        if peak_utilization is not None:
            factor = float(peak_utilization) / max(float((total / capacity).max()), 1e-12)
        ds["capacity_tokens_per_s"] = ("tier", capacity, {"units": "s-1", "long_name": "the twin's tokens per second at "
                                                                 "full utilization, unthrottled"})
        load = factor * total / capacity
        ds["tier_utilization"] = (("time", "tier"), load, {"units": "1", "long_name": "demand / capacity per tier"})
        ds["utilization"] = ("time", np.minimum(load, 1.0) @ share,
                             {"units": "1", "long_name": "share of GPU capacity in use (tier shares of the workload)"})
        ds["unserved_tokens_per_s"] = (("time", "tier"), np.maximum(load - 1.0, 0.0) * capacity,
                                       {"units": "s-1", "long_name": "demand above the tier's capacity"})
        ds.attrs["facility"] = facility.name
        ds.attrs["tier_mix"] = ", ".join(f"{t}={x:.4g}" for t, x in zip(order, share))
    elif peak_utilization is not None:
        raise TelemetryError("<demand>", None, "peak_utilization", "needs a facility (its capacity sets the scale)",
                             "pass facility=...")
    ds.attrs["scale"] = factor
    for key, values, what in (("requests_per_s", req, "requests arriving per second"),
                              ("demand_tokens_per_s", tok_in + tok_out, "tokens (input + output) demanded per second"),
                              ("demand_input_tokens_per_s", tok_in, "input tokens demanded per second"),
                              ("demand_output_tokens_per_s", tok_out, "output tokens demanded per second")):
        ds[key] = (("time", "tier"), factor * values / seconds, {"units": "s-1", "long_name": what})
    ds["step_hours"] = ("time", np.full(time.size, seconds / 3600.0), {"units": "h"})
    return ds


def capacity_tokens_per_s(facility: Facility, tiers: list[str], workload: Workload | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(tokens/s at full utilization, share of GPUs) per tier, from one unthrottled step of the twin."""
    import xarray as xr

    from twin.physics.tokens import Workload
    from twin.simulation import simulate

    work = workload or Workload(tier_mix={t: 1.0 for t in tiers})
    mild = xr.Dataset({"dry_bulb_c": ("time", [10.0]), "wet_bulb_c": ("time", [5.0])},
                      coords={"time": np.array(["2025-01-01T00"], dtype="datetime64[ns]")},
                      attrs={"site": "mild reference hour", "source": "10 °C dry bulb, 5 °C wet bulb: no throttling"})
    ds = simulate(facility, weather=mild, workload=work, hours=1, utilization=1.0, per_rack=False, per_device=False)
    have = [str(t) for t in ds["tier"].values]
    missing = [t for t in tiers if t not in have]
    if missing:
        raise TelemetryError("<demand>", None, "tiers", f"the workload serves no {missing[0]!r} tier (it serves "
                             f"{', '.join(have)})", "add the tier to Workload(tier_mix=...)")
    capacity = ds["tokens_per_s"].isel(time=0).sel(tier=tiers).values.astype(float)
    mix = work.tiers(facility.catalog)
    share = np.array([mix.get(t, 0.0) for t in tiers], dtype=float)
    return capacity, share / max(share.sum(), 1e-12)


def _frames(traces: Any) -> dict[str, pd.DataFrame]:
    if isinstance(traces, Mapping):
        return {str(k): v for k, v in traces.items()}
    items = [traces] if isinstance(traces, (str, Path)) else list(traces)
    if not items:
        raise TelemetryError("<demand>", None, None, "no request traces given", "pass one or more trace files")
    return {Path(p).stem: read_trace(p) for p in items}


__all__ = ["read_trace", "demand", "capacity_tokens_per_s", "DEFAULT_TIER"]
