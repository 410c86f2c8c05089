"""Replay: the twin driven by what was measured (load and weather), its predictions beside the measurements.

The load comes from the first of these the measurement has (or the one named by `by`):

- `rack_utilization` (time x rack) or `utilization` (time): used as the twin's utilization directly;
- `rack_power_kw` or `rack_gpu_power_kw` (time x rack): turned into utilization through the twin's own rack
  or GPU power model (power = fixed + dynamic x utilization, from the catalog), clipped to 0..1 (GPU power
  that covers only some of a rack's GPUs, `rack_gpus_reporting`, stands for that share of the rack);
- `it_power_kw` (time): one facility-wide utilization through the same model summed over the racks.

Racks without a measurement follow the mean of the measured racks at each step. Weather: the measured
dry bulb (and wet bulb, if measured) over the facility's climate (or `weather`) at the same times; the
climate's dew point completes a measured dry bulb. Every measured variable is returned beside the
prediction as `<name>_measured` on the simulation's coordinates.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from twin.state import StateError

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

DRIVERS = ("rack_utilization", "utilization", "rack_power_kw", "rack_gpu_power_kw", "it_power_kw")
#: a power reading more than this share beyond the model's idle..full-load range is reported as out of reach
REACH_TOLERANCE = 0.01


def populated_racks(facility: Facility) -> pd.DataFrame:
    """The racks a simulation runs (a system and at least one GPU), in simulation order."""
    table = facility.table("rack")
    return table[table["system"].notna() & (table["gpus"] > 0)]


def choose(measured: xr.Dataset, by: str | None = None) -> str:
    """Which measured variable drives the load."""
    if by is not None:
        if by not in DRIVERS:
            raise StateError(f"drive by {by!r} is not one of {', '.join(DRIVERS)}")
        if by not in measured:
            raise StateError(f"the measured Dataset has no {by!r} to drive the twin with; it has "
                             f"{', '.join(v for v in DRIVERS if v in measured) or 'none of ' + ', '.join(DRIVERS)}")
        return by
    for name in DRIVERS:
        if name in measured and np.isfinite(measured[name].values).any():
            return name
    raise StateError(f"the measured Dataset has nothing to drive the twin with; it needs one of {', '.join(DRIVERS)}")


def _rack_terms(facility: Facility, racks: pd.DataFrame, gpu_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per rack (fixed, dynamic) kW of the twin's power model (rack input or GPU boards only)."""
    from twin.physics import gpu

    fixed, dyn = np.zeros(len(racks)), np.zeros(len(racks))
    terms = gpu.gpu_power_terms_kw if gpu_only else gpu.rack_power_terms_kw
    for system, idx in racks.groupby("system", sort=False).indices.items():
        spec = facility.catalog.system(system)
        f, d = terms(spec, racks["nodes"].to_numpy(float)[idx], racks["cap_w"].to_numpy(float)[idx])
        fixed[idx], dyn[idx] = f, d
    return fixed, dyn


def _fill_racks(u: np.ndarray) -> tuple[np.ndarray, int]:
    """NaN cells take the mean of the other racks at that step, then the nearest step; returns cells filled."""
    miss = np.isnan(u)
    if not miss.any():
        return u, 0
    with np.errstate(invalid="ignore"):
        step_mean = np.nanmean(np.where(miss, np.nan, u), axis=1) if u.shape[1] else np.full(u.shape[0], np.nan)
    step_mean = pd.Series(step_mean).interpolate(limit_direction="both").to_numpy()
    if np.isnan(step_mean).all():
        raise StateError("every measured load value is missing; nothing to drive the twin with")
    return np.where(miss, step_mean[:, None], u), int(miss.sum())


def utilization(facility: Facility, measured: xr.Dataset, by: str | None = None) -> tuple[np.ndarray, str]:
    """The twin's utilization (time,) or (time, rack) from the measured load, and a note saying how."""
    name = choose(measured, by)
    racks = populated_racks(facility)
    n_time = measured.sizes["time"]
    if name == "utilization" or name == "it_power_kw":
        x = pd.Series(measured[name].values.astype(float)).interpolate(limit_direction="both").to_numpy()
        if name == "utilization":
            return np.clip(x, 0.0, 1.0), "measured facility utilization"
        fixed, dyn = _rack_terms(facility, racks, gpu_only=False)
        u = (x - fixed.sum()) / max(dyn.sum(), 1e-12)
        return _clip(u, f"measured IT power through the twin's rack power model ({len(racks)} racks)")
    have = [str(r) for r in measured["rack"].values]
    known = set(map(str, racks.index))
    grid = measured[name].transpose("time", "rack").values.astype(float)
    cols = {r: i for i, r in enumerate(have) if r in known}
    u = np.full((n_time, len(racks)), np.nan)
    pos = [i for i, r in enumerate(map(str, racks.index)) if r in cols]
    u[:, pos] = grid[:, [cols[str(racks.index[i])] for i in pos]]
    how = f"measured {name} of {len(pos)} of {len(racks)} racks"
    if name != "rack_utilization":
        fixed, dyn = _rack_terms(facility, racks, gpu_only=name == "rack_gpu_power_kw")
        if name == "rack_gpu_power_kw":
            u = u / gpu_coverage(facility, measured)
        u = (u - fixed) / np.where(dyn > 0, dyn, np.nan)
        how += " through the twin's " + ("GPU" if name == "rack_gpu_power_kw" else "rack") + " power model"
    u, filled = _fill_racks(u)
    if filled:
        how += f"; {filled} missing rack-steps follow the measured mean"
    return _clip(u, how)


def _clip(u: np.ndarray, how: str) -> tuple[np.ndarray, str]:
    out_of_reach = int(((u < -REACH_TOLERANCE) | (u > 1 + REACH_TOLERANCE)).sum())
    if out_of_reach:
        how += (f"; {out_of_reach} values beyond the model's idle..full-load range clipped (calibrate "
                "gpu_idle_w / gpu_full_load_w to reach them)")
    return np.clip(u, 0.0, 1.0), how


def measured_weather(facility: Facility, measured: xr.Dataset, weather: Any, freq: str) -> xr.Dataset:
    """Weather on the measured time axis: measured dry/wet bulb over the climate's values at the same times."""
    import xarray as xr

    from twin import weather as weather_mod

    time = measured["time"].values
    source = weather if weather is not None else facility.climate
    have_db = "dry_bulb_c" in measured and np.isfinite(measured["dry_bulb_c"].values).any()
    if source is None and not have_db:
        raise StateError(f"facility {facility.name!r} has no climate and the measurement no dry_bulb_c: "
                         "pass weather='phoenix' (or a file)")
    if source is not None and type(source).__name__ == "Dataset":
        base = source
    elif source is not None:
        hours = max(1, math.ceil(len(time) * pd.Timedelta(freq) / pd.Timedelta("1h")))
        base = weather_mod.load(source, hours=hours, freq=freq, start=time[0]).isel(time=slice(0, len(time)))
    else:
        base = None
    out = {}
    for name in ("dry_bulb_c", "wet_bulb_c"):
        if name in measured and np.isfinite(measured[name].values).any():
            x = pd.Series(measured[name].values.astype(float)).interpolate(limit_direction="both").to_numpy()
            if base is not None:
                x = np.where(np.isnan(measured[name].values), base[name].values, x)
            out[name] = x
    if base is None:
        raise StateError("a measured dry bulb needs a humidity: give the facility a climate (or weather=...)")
    if "dry_bulb_c" not in out:
        out["dry_bulb_c"] = base["dry_bulb_c"].values
    if "wet_bulb_c" not in out:
        out["dew_point_c"] = np.minimum(base["dew_point_c"].values, out["dry_bulb_c"])
    parts = [n for n in ("dry_bulb_c", "wet_bulb_c") if n in measured]
    attrs = dict(base.attrs)
    attrs["source"] = (f"measured {', '.join(parts)} over {base.attrs.get('site', 'the climate')}" if parts
                       else base.attrs.get("source", ""))
    return xr.Dataset({k: ("time", v) for k, v in out.items()}, coords={"time": time}, attrs=attrs)


def replay(facility: Facility, measured: xr.Dataset, *, by: str | None = None, weather: Any = None,
           **simulate_kwargs: Any) -> xr.Dataset:
    """`twin.simulate` driven by `measured`; every measured variable beside the prediction as `<name>_measured`."""
    from twin.simulation import simulate

    if "time" not in measured.dims or measured.sizes["time"] == 0:
        raise StateError("the measured Dataset has no time steps")
    time = measured["time"].values
    freq = str(measured.attrs.get("freq") or pd.infer_freq(pd.DatetimeIndex(time)) or "1h")
    util, how = utilization(facility, measured, by)
    wx = measured_weather(facility, measured, weather, freq)
    rack_level = any("rack" in measured[v].dims for v in measured.data_vars)
    if simulate_kwargs.get("per_rack") is None:
        simulate_kwargs["per_rack"] = True if rack_level else None
    hours = max(1, math.ceil(len(time) * pd.Timedelta(freq) / pd.Timedelta("1h")))
    ds = simulate(facility, weather=wx, hours=hours, freq=freq, utilization=util, **simulate_kwargs)
    ds.attrs["drive"] = how
    ds.attrs["driven_by"] = ",".join([choose(measured, by)] + [n for n in ("dry_bulb_c", "wet_bulb_c") if n in measured])
    ds.attrs["utilization_profile"] = "measured"
    if "rack_gpu_power_kw" in measured and "rack_power_kw" in ds:
        ds["rack_gpu_power_kw"] = _gpu_prediction(facility, ds, util) * gpu_coverage(facility, measured)
    return side_by_side(ds, measured)


def gpu_coverage(facility: Facility, measured: xr.Dataset) -> np.ndarray:
    """Per populated rack, the share of its GPUs that `rack_gpu_power_kw` sums (1 where unknown)."""
    racks = populated_racks(facility)
    if "rack_gpus_reporting" not in measured.coords:
        return np.ones(len(racks))
    count = dict(zip(map(str, measured["rack"].values), measured["rack_gpus_reporting"].values))
    gpus = racks["gpus"].to_numpy(float)
    share = np.array([count.get(str(r), g) for r, g in zip(racks.index, gpus)], dtype=float) / np.maximum(gpus, 1)
    return np.where(share > 0, np.minimum(share, 1.0), 1.0)


def _gpu_prediction(facility: Facility, ds: xr.Dataset, util: np.ndarray) -> xr.DataArray:
    import xarray as xr

    racks = populated_racks(facility)
    fixed, dyn = _rack_terms(facility, racks, gpu_only=True)
    u = util if util.ndim == 2 else np.broadcast_to(util[:, None], (util.size, len(racks)))
    work = u * (ds["rack_throttle"].values if "rack_throttle" in ds else 1.0)
    return xr.DataArray((fixed + dyn * work).astype(np.float32), dims=("time", "rack"),
                        attrs={"units": "kW", "long_name": "GPU board power of the rack (twin)"})


def side_by_side(predicted: xr.Dataset, measured: xr.Dataset) -> xr.Dataset:
    """The prediction with every measured variable added as `<name>_measured` on the prediction's coords."""
    out = predicted.copy()
    for name in measured.data_vars:
        da = measured[name]
        if name == "step_hours" or any(d not in predicted.dims for d in da.dims):
            continue
        if "time" in da.dims:
            da = da.assign_coords(time=predicted["time"].values)
        for dim in ("rack", "device", "tier"):
            if dim in da.dims:
                da = da.reindex({dim: predicted[dim].values}, fill_value=2 if name.endswith("_quality") else np.nan)
        key = f"{name[:-len('_quality')]}_measured_quality" if name.endswith("_quality") else f"{name}_measured"
        out[key] = da.drop_vars([c for c in da.coords if c not in da.dims])
    out.attrs["measured"] = measured.attrs.get("source_files", "")
    return out


__all__ = ["DRIVERS", "choose", "utilization", "measured_weather", "replay", "side_by_side", "populated_racks", "gpu_coverage"]
