"""Regular measured series as an xarray Dataset on `twin.simulate`'s coordinates and names.

Each measured variable keeps the simulation's name and units (`rack_power_kw` over (time, rack),
`grid_power_kw` over time, ...) plus `<name>_quality` flags (0 measured, 1 filled, 2 missing, CF
flag_values). Rack and device coordinates carry the facility's hall, system, cooling and device kinds
when a facility was given, as in a simulation. `rack_gpus_reporting` counts the GPUs a rack's
`rack_gpu_power_kw` sums (a fleet export may cover only some GPUs of a rack); replay and calibration compare
it with the same share of the twin's GPU power.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.telemetry.variables import VARIABLES, kind_of

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility
    from twin.telemetry.cleaning import Grid

#: canonical units written the CF way (as the simulation writes them)
CF_UNITS = {"L/h": "L h-1", "tokens/s": "s-1"}
QUALITY_ATTRS = {"flag_values": np.array([0, 1, 2], dtype=np.uint8), "flag_meanings": "measured filled missing",
                 "long_name": "quality of each value"}


def _order(nodes: set[str], facility: Facility | None, kind: str) -> list[str]:
    if facility is not None:
        if kind == "rack":
            known = [str(r) for r in facility.table("rack").index]
        else:
            known = [n for n, _ in facility.graph.nodes(data=True)]
        pos = {n: i for i, n in enumerate(known)}
        return sorted(nodes, key=lambda n: (pos.get(n, len(pos)), n))
    return sorted(nodes)


def assemble(grid: Grid, facility: Facility | None, attrs: dict[str, Any]) -> xr.Dataset:
    """The Dataset of a Grid: one variable per measured quantity, its quality flags beside it."""
    import xarray as xr

    from twin.simulation import VARIABLES as SIMULATED

    series = grid.series
    nodes = {k: _order(set(series.loc[series["variable"].map(kind_of) == k, "node"]), facility, k)
             for k in ("rack", "device")}
    data_vars: dict[str, xr.Variable] = {}
    n_time = grid.time.size
    for var in sorted(series["variable"].unique(), key=list(VARIABLES).index):
        spec = VARIABLES[var]
        cols = np.flatnonzero(series["variable"].to_numpy() == var)
        long_name = SIMULATED[var][2] if var in SIMULATED else spec.long_name
        var_attrs = {"units": CF_UNITS.get(spec.unit, spec.unit), "long_name": f"measured {long_name}"}
        kind = kind_of(var)
        if kind == "facility":
            values, quality = grid.values[:, cols[0]], grid.quality[:, cols[0]]
        else:
            where = {n: i for i, n in enumerate(nodes[kind])}
            values = np.full((n_time, len(nodes[kind])), np.nan)
            quality = np.full((n_time, len(nodes[kind])), 2, dtype=np.uint8)
            pos = [where[n] for n in series["node"].to_numpy()[cols]]
            values[:, pos] = grid.values[:, cols]
            quality[:, pos] = grid.quality[:, cols]
        data_vars[var] = xr.Variable(spec.dims, values, var_attrs)
        data_vars[f"{var}_quality"] = xr.Variable(spec.dims, quality, dict(QUALITY_ATTRS))
    coords: dict[str, Any] = {"time": ("time", grid.time, {"long_name": attrs.get("time_basis", "time")})}
    for kind in ("rack", "device"):
        if nodes[kind]:
            coords[kind] = (kind, np.array(nodes[kind], dtype=str), {"long_name": f"{kind} id"})
    gpu_sum = series[series["variable"] == "rack_gpu_power_kw"]
    if len(gpu_sum):
        count = dict(zip(gpu_sum["node"], gpu_sum["sources"]))
        coords["rack_gpus_reporting"] = ("rack", np.array([int(count.get(r, 0)) for r in nodes["rack"]]),
                                         {"long_name": "GPUs whose board power rack_gpu_power_kw sums"})
    if facility is not None:
        coords.update(_facility_coords(facility, nodes))
    step = np.diff(grid.time).astype("timedelta64[s]").astype(float) / 3600.0 if n_time > 1 else np.ones(1)
    data_vars["step_hours"] = xr.Variable(("time",), np.append(step, step[-1]) if n_time > 1 else step,
                                          {"units": "h", "long_name": "length of each time step"})
    import twin

    base = {
        "Conventions": "CF-1.10",
        "title": "measured telemetry" + (f" of {facility.name}" if facility is not None else ""),
        "history": f"twin {twin.__version__} telemetry import "
                   f"({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ})",
    }
    return xr.Dataset(data_vars, coords=coords, attrs={**base, **attrs})


def _facility_coords(facility: Facility, nodes: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if nodes["rack"]:
        racks = facility.table("rack").reindex(nodes["rack"])
        for col in ("hall", "system", "cooling"):
            out[f"rack_{col}"] = ("rack", racks[col].astype(str).to_numpy(dtype=str))
    if nodes["device"]:
        g = facility.graph
        out["device_kind"] = ("device", np.array([str(g.nodes[n].get("kind", "")) for n in nodes["device"]], dtype=str))
        rating = [g.nodes[n].get("rating_kw") for n in nodes["device"]]
        out["device_rating_kw"] = ("device", np.array([float(r) if isinstance(r, (int, float)) else np.nan for r in rating]),
                                   {"units": "kW"})
    return out


__all__ = ["assemble", "QUALITY_ATTRS"]
