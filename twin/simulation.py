"""`simulate`: a facility hour by hour (or minute by minute) through a year of weather, as an xarray Dataset.

>>> import blueprints, twin
>>> ds = twin.simulate(blueprints.load("ai-factory-hall"), weather="phoenix", hours=48)
>>> bool(abs(ds.grid_power_kw - ds.it_power_kw - ds.losses_kw - ds.cooling_power_kw - ds.aux_power_kw).max() < 1e-6)
True
>>> round(ds.twin.pue(), 2) > 1
True
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from twin.graph import bulk
from twin.physics import PhysicsError, gpu, tokens
from twin.physics.engine import LIGHTING_W_PER_M2, prepare
from twin.physics.profiles import resolve, step_hours
from twin.physics.topology import build
from twin.progress import steps_done

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

#: per-rack series are included by default only below this many (time x rack) cells (~80 MB in float32)
PER_RACK_AUTO_CELLS = 20_000_000
#: cells per block of the eager loop (bounds temporary memory)
BLOCK_CELLS = 3_000_000

# name: (dims, units, long_name)
VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "grid_power_kw": (("time",), "kW", "power drawn from the grid (IT + chain losses + cooling + auxiliaries)"),
    "it_power_kw": (("time",), "kW", "IT power at the rack inputs (PSU losses included)"),
    "losses_kw": (("time",), "kW", "power-chain losses (transformers, UPS, switchboards, busways, PDUs)"),
    "cooling_power_kw": (("time",), "kW", "cooling power: in-hall units + chillers + plant fans and pumps"),
    "aux_power_kw": (("time",), "kW", "auxiliary power (lighting, controls, support)"),
    "units_power_kw": (("time",), "kW", "in-hall cooling unit power (CDU pumps, CRAH and door fans)"),
    "chiller_power_kw": (("time",), "kW", "chiller compressor power"),
    "plant_fans_pumps_kw": (("time",), "kW", "heat-rejection fans and facility pumps"),
    "water_l_per_h": (("time",), "L h-1", "evaporated and blown-down water of towers and water-cooled plant"),
    "heat_absorbed_kw": (("time",), "kW", "IT heat absorbed by in-hall cooling units"),
    "heat_rejected_kw": (("time",), "kW", "heat rejected to ambient (IT heat + unit power + compressor work)"),
    "economizer_fraction": (("time",), "1", "share of the halls' heat removed without compressor work (free cooling, outside air)"),
    "pue": (("time",), "1", "power usage effectiveness: grid power / IT power"),
    "wue_l_per_kwh": (("time",), "L kWh-1", "water usage effectiveness: water / IT energy"),
    "utilization": (("time",), "1", "utilization of serving capacity, weighted by dynamic GPU power"),
    "throttle": (("time",), "1", "share of demanded GPU dynamic power actually delivered (1 = no throttling)"),
    "tokens_per_s": (("time", "tier"), "s-1", "tokens (input + output) per second by tier"),
    "revenue_usd_per_h": (("time", "tier"), "USD h-1", "token revenue per hour by tier"),
    "overload": (("time",), "1", "any device above its rating or grid power above the grid limit"),
    "grid_overload": (("time",), "1", "grid power above the site's grid limit"),
    "device_overload_any": (("time",), "1", "any power or cooling device above its rating"),
    "over_temperature": (("time",), "1", "coolant or inlet air above a system limit even after throttling"),
    "throttling": (("time",), "1", "some racks throttled because their coolant or inlet air is too warm"),
    "device_load_kw": (("time", "device"), "kW", "power delivered (power devices) or heat absorbed (cooling devices)"),
    "device_power_kw": (("time", "device"), "kW", "electrical input: delivered power plus losses, or cooling power"),
    "device_overload": (("time", "device"), "1", "device load above its rating"),
    "rack_power_kw": (("time", "rack"), "kW", "rack input power"),
    "rack_tokens_per_s": (("time", "rack"), "s-1", "tokens per second served by the rack"),
    "rack_throttle": (("time", "rack"), "1", "share of demanded GPU dynamic power delivered to the rack"),
}

ASSUMPTIONS = (
    "GPU power = idle + (cap - idle) x utilization; non-GPU node/rack power held at its full-load value",
    "tokens scale with utilization x cap factor; throttling removes tokens in proportion to the GPU power it removes",
    "load shares between parallel feeds, units and plant follow their ratings (2N and N+1 members share load)",
    "cooling units and plant run at their load fraction (heat / rating): fans and pumps on affinity laws with "
    "minimum speed and fixed head, chillers on DOE-2 part-load curves; free coolers use their design approach",
    "tower water: evaporation from an air-side energy balance of the heat rejected plus blowdown (4 cycles)",
    "free-cooling capacity at the coolant limit = rating x (max water - ambient) / approach",
    f"auxiliary power {LIGHTING_W_PER_M2:g} W per m2 of hall floor unless the site sets aux_power_kw",
    "equal share of GPUs per catalog tier unless Workload.tier_mix or a rack 'tier' attribute says otherwise",
)


def simulate(
    facility: Facility,
    weather: Any = None,
    workload: tokens.Workload | None = None,
    hours: int = 8760,
    freq: str = "1h",
    utilization: Any = "constant",
    *,
    start: str | datetime.datetime | np.datetime64 = "2025-01-01",
    per_rack: bool | None = None,
    per_device: bool = True,
    chunks: int | None = None,
    cap_curve: str = gpu.DEFAULT_CAP_CURVE,
    progress: Callable[[int, int], None] | None = None,
    drive: xr.Dataset | None = None,
) -> xr.Dataset:
    """Simulate `facility` through `hours` of weather at `freq`; return an xarray.Dataset (CF attributes).

    weather: a climate name ('phoenix', 'lulea', 'hot-dry', ...), an .epw/.csv path or a weather Dataset;
    None uses the facility's climate. workload: a `twin.physics.tokens.Workload` (default: the site's
    `workload`, else DeepSeek-R1 FP8 1k/1k over all tiers). utilization: 'constant' (1.0), 'diurnal', 'training', a number, a
    (kind, {options}) pair, or an array (time,) / (time, rack). per_rack: include (time, rack) series
    (None: only when time x racks <= PER_RACK_AUTO_CELLS). chunks: steps per dask chunk; the Dataset is then
    lazy and computes block by block (e.g. while writing NetCDF; `twin.progress.block_steps` reports the steps
    of finished blocks). progress: `progress(done, total)` after each eager block. drive: measured telemetry
    (`twin.telemetry.read`) to replay: its times, load and weather replace hours/utilization/weather and each
    measured variable comes back beside the prediction as `<name>_measured` (see twin.telemetry.drive).
    Totals satisfy grid = IT + losses + cooling + aux at every step.
    """
    from twin import weather as weather_mod

    if drive is not None:
        from twin.telemetry.drive import replay

        return replay(facility, drive, weather=weather, workload=workload, per_rack=per_rack, per_device=per_device,
                      chunks=chunks, cap_curve=cap_curve, progress=progress)

    workload = workload if workload is not None else tokens.site_workload(facility.graph.graph)
    if not isinstance(workload, tokens.Workload):
        raise PhysicsError(f"workload must be a twin.physics.tokens.Workload, got {type(workload).__name__}")
    source = weather if weather is not None else facility.climate
    if source is None:
        raise PhysicsError(f"facility {facility.name!r} has no climate: pass weather='phoenix' (or a file or Dataset)").on_cli(
            f"facility {facility.name!r} has no climate: add --weather phoenix (or an .epw/.csv file)")
    if isinstance(hours, bool) or not isinstance(hours, (int, np.integer)) or hours <= 0:
        raise PhysicsError(f"hours={hours!r} must be a positive whole number")
    wx = weather_mod.load(source, hours=int(hours), freq=freq, start=start)
    time = wx["time"].values
    db = wx["dry_bulb_c"].values.astype(float)
    wb = wx["wet_bulb_c"].values.astype(float)

    topo = build(facility)
    racks = topo.racks
    util = resolve(utilization, time, len(racks), racks.index)
    limit = facility.grid_limit_mw
    with bulk():
        engine = prepare(topo, facility.catalog, workload, util, cap_curve=cap_curve, aux_kw=aux_power_kw(facility),
                         grid_limit_kw=float(limit) * 1000.0 if isinstance(limit, (int, float)) else None)
    n_time = time.size
    if per_rack is None:
        per_rack = n_time * len(racks) <= PER_RACK_AUTO_CELLS
    n_dev = len(topo.power_ids) + len(topo.cool_ids)
    if chunks is not None:
        if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise PhysicsError(f"chunks={chunks!r} must be a positive number of time steps")
        data = _lazy(engine, n_time, int(chunks), db, wb, per_rack, per_device, n_dev, len(racks))
    else:
        width = max(n_dev if per_device else 1, engine.n_classes, len(racks) if per_rack else 1)
        block = max(1, min(n_time, BLOCK_CELLS // width))
        into = {}
        if per_device:
            into.update({k: np.empty((n_time, n_dev), dtype) for k, dtype in (
                ("device_load_kw", np.float32), ("device_power_kw", np.float32), ("device_overload", bool))})
        if per_rack:
            into.update({k: np.empty((n_time, len(racks)), np.float32)
                         for k in ("rack_power_kw", "rack_tokens_per_s", "rack_throttle")})
        parts = []
        if progress is not None:
            progress(0, n_time)
        for s in range(0, n_time, block):
            e = min(n_time, s + block)
            parts.append(engine.run(s, e, db[s:e], wb[s:e], per_rack, per_device, into=into))
            if progress is not None:
                progress(e, n_time)
        data = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        data.update(into)
    return _dataset(facility, engine, wx, data, workload, utilization, cap_curve, freq)


def aux_power_kw(facility: Facility) -> float:
    """Auxiliary power: the site's `aux_power_kw`, else LIGHTING_W_PER_M2 over the halls' floor area."""
    own = facility.graph.graph.get("aux_power_kw")
    if own is not None:
        if isinstance(own, bool) or not isinstance(own, (int, float)) or own < 0:
            raise PhysicsError(f"site attribute aux_power_kw={own!r} must be a number of kW >= 0")
        return float(own)
    halls = facility.table("hall")
    if halls.empty:
        return 0.0
    area = (halls["width_m"].astype(float) * halls["depth_m"].astype(float)).sum()
    return float(area) * LIGHTING_W_PER_M2 / 1000.0


def _lazy(engine, n_time, chunk, db, wb, per_rack, per_device, n_dev, n_racks) -> dict[str, Any]:
    """Dask arrays computing each block once per compute (all variables of a block share one task)."""
    import dask
    import dask.array as da

    width = {"time": None, "tier": len(engine.tiers), "device": n_dev, "rack": n_racks}
    names = [k for k, (dims, _, _) in VARIABLES.items()
             if k not in ("pue", "wue_l_per_kwh")
             and (per_device or "device" not in dims or k == "device_overload_any")
             and (per_rack or "rack" not in dims)]
    dtypes = {k: (bool if k in ("overload", "grid_overload", "device_overload_any", "over_temperature", "throttling",
                                "device_overload") else np.float32 if VARIABLES[k][0][-1] in ("device", "rack")
                  and k != "device_overload" else np.float64) for k in names}
    pieces: dict[str, list] = {k: [] for k in names}
    run = dask.delayed(_block, pure=True)
    for s in range(0, n_time, chunk):
        e = min(n_time, s + chunk)
        block = run(engine, s, e, db[s:e], wb[s:e], per_rack, per_device)
        for k in names:
            shape = (e - s,) + tuple(width[d] for d in VARIABLES[k][0][1:])
            pieces[k].append(da.from_delayed(block[k], shape=shape, dtype=dtypes[k]))
    return {k: da.concatenate(v, axis=0) for k, v in pieces.items()}


def _block(engine, start: int, end: int, *args: Any) -> dict[str, Any]:
    """One lazy block: the engine's steps start..end, reported to `twin.progress.block_steps` when done."""
    out = engine.run(start, end, *args)
    steps_done(end - start)
    return out


def _dataset(facility, engine, wx, data, workload, utilization, cap_curve, freq) -> xr.Dataset:
    import xarray as xr

    import twin
    import twin.state  # noqa: F401  (registers the `ds.twin` accessor)

    topo = engine.topo
    racks = topo.racks
    it = data["it_power_kw"]
    data = dict(data)
    with np.errstate(divide="ignore", invalid="ignore"):
        data["pue"] = data["grid_power_kw"] / it
        data["wue_l_per_kwh"] = data["water_l_per_h"] / it
    variables = {}
    for name, value in data.items():
        dims, units, long_name = VARIABLES[name]
        variables[name] = xr.Variable(dims, value, {"units": units, "long_name": long_name})
    coords = {
        "time": ("time", wx["time"].values, {"long_name": "time (local standard time of the weather)"}),
        "tier": ("tier", np.array(engine.tiers, dtype=str), {"long_name": "token tier"}),
        "rack": ("rack", np.array(racks.index, dtype=str), {"long_name": "rack id"}),
        "rack_hall": ("rack", racks["hall"].astype(str).to_numpy(dtype=str)),
        "rack_system": ("rack", racks["system"].astype(str).to_numpy(dtype=str)),
        "rack_cooling": ("rack", racks["cooling"].astype(str).to_numpy(dtype=str)),
        "device": ("device", np.array(topo.power_ids + topo.cool_ids, dtype=str), {"long_name": "device id"}),
        "device_kind": ("device", np.concatenate([topo.power_kind, topo.cool_kind]).astype(str)),
        "device_rating_kw": ("device", np.concatenate([topo.power_rating, topo.cool_rating]), {"units": "kW"}),
    }
    for name in ("dry_bulb_c", "wet_bulb_c"):
        variables[name] = xr.Variable(("time",), wx[name].values, dict(wx[name].attrs))
    hours = step_hours(wx["time"].values)
    variables["step_hours"] = xr.Variable(("time",), hours, {"units": "h", "long_name": "length of each time step"})
    profile = utilization if isinstance(utilization, str) else type(utilization).__name__
    attrs = {
        "Conventions": "CF-1.10",
        "title": f"twin simulation of {facility.name}",
        "facility": facility.name,
        "weather_site": str(wx.attrs.get("site", wx.attrs.get("source", "user weather"))),
        "weather_source": str(wx.attrs.get("source", "")),
        "weather_kind": str(wx.attrs.get("weather_kind", "user Dataset")),
        "workload": workload.describe(),
        "tier_shares": ", ".join(f"{k}={v:.3g}" for k, v in workload.tiers(facility.catalog).items()),
        "utilization_profile": str(profile),
        "power_cap_curve": cap_curve,
        "freq": str(freq),
        "racks": int(len(racks)),
        "gpus": int(racks["gpus"].sum()),
        "grid_limit_mw": float(facility.grid_limit_mw) if isinstance(facility.grid_limit_mw, (int, float)) else -1.0,
        "per_rack": int("rack_power_kw" in data),
        "assumptions": "\n".join(ASSUMPTIONS + tuple(topo.notes)),
        "history": f"twin {twin.__version__} simulate ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ})",
        "source": "aifactory-twin reduced-order physics; catalog sources per entry (twin catalog ...)",
    }
    ds = xr.Dataset(variables, coords=coords, attrs=attrs)
    if "rack_power_kw" not in ds:
        ds = ds.drop_vars(["rack", "rack_hall", "rack_system", "rack_cooling"])
        ds.attrs["per_rack_note"] = ("per-rack series omitted (large): keep them with twin.simulate(..., per_rack=True) "
                                     "or `twin simulate ... --per-rack`")
    if "device_load_kw" not in ds:
        ds = ds.drop_vars(["device", "device_kind", "device_rating_kw"])
    return ds


__all__ = ["simulate", "VARIABLES", "ASSUMPTIONS", "PER_RACK_AUTO_CELLS"]
