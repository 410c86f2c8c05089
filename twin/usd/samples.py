"""A simulation state as time samples, so a USD viewer can play it: one time code per hour from the first step.

Site series (time,) become `twin:state:<name>` double samples on the site prim; per-rack series (time, rack)
float arrays on each hall's rack instancer in its `twin:ids` order, with the racks' colours sampled alongside;
per-device series (time, device) arrays on the equipment instancer; other (time, x) series arrays on the site
with their x labels in `twin:state:<name>:coords`. Booleans stay booleans. 24 time codes per second: a day of
hours per second of playback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import BlueprintError
from twin.usd.schema import STATE

if TYPE_CHECKING:
    import xarray as xr

TIME_CODES_PER_SECOND = 24.0


def time_codes(times: np.ndarray) -> np.ndarray:
    """Hours since the first step (or the step index when time is not a datetime)."""
    if np.issubdtype(times.dtype, np.datetime64):
        return (times - times[0]) / np.timedelta64(1, "h")
    return np.arange(len(times), dtype=float)


def write(stage: Any, state: xr.Dataset) -> None:
    """Author every numeric or boolean series of `state` that has a leading time dim."""
    from pxr import Vt

    if "time" not in state.dims or state.sizes["time"] == 0:
        raise BlueprintError("the state has no time steps; pass a `twin.simulate` result")
    w, layer = stage.w, stage.w.layer
    codes = time_codes(state["time"].values).tolist()
    layer.startTimeCode, layer.endTimeCode = codes[0], codes[-1]
    layer.timeCodesPerSecond = layer.framesPerSecond = TIME_CODES_PER_SECOND
    w.attr(stage.root, STATE + "time", "string[]", [str(t) for t in state["time"].values], custom=True)
    racks = stage.lay.racks.index
    devices = stage.lay.devices.index
    for name, da in state.data_vars.items():
        if not da.dims or da.dims[0] != "time" or not (np.issubdtype(da.dtype, np.number) or da.dtype == bool):
            continue
        boolean = da.dtype == bool
        if da.dims == ("time",):
            attr = w.attr(stage.root, f"{STATE}{name}", "bool" if boolean else "double", custom=True)
            _samples(layer, attr, codes, [bool(v) if boolean else float(v) for v in da.values])
        elif da.dims == ("time", "rack") and "rack" in da.coords:
            values = da.reindex(rack=racks).values
            for spec, rows in stage.rack_instancers.values():
                _arrays(w, layer, spec, f"{STATE}{name}", codes, values[:, rows], boolean, Vt)
        elif da.dims == ("time", "device") and "device" in da.coords and hasattr(stage, "equipment_instancer"):
            values = da.reindex(device=devices).values
            _arrays(w, layer, stage.equipment_instancer, f"{STATE}{name}", codes, values, boolean, Vt)
        elif len(da.dims) == 2:
            other = da.dims[1]
            labels = [str(v) for v in (da[other].values if other in da.coords else range(da.sizes[other]))]
            _arrays(w, layer, stage.root, f"{STATE}{name}", codes, da.values, boolean, Vt)
            w.attr(stage.root, f"{STATE}{name}:coords", "string[]", labels, custom=True)
    _colors(stage, codes, Vt)


def _arrays(w: Any, layer: Any, spec: Any, name: str, codes: list, values: np.ndarray, boolean: bool, Vt: Any) -> None:
    attr = w.attr(spec, name, "bool[]" if boolean else "float[]", custom=True)
    make = Vt.BoolArray.FromNumpy if boolean else Vt.FloatArray.FromNumpy
    data = values.astype(bool if boolean else np.float32)
    _samples(layer, attr, codes, [make(np.ascontiguousarray(row)) for row in data])


def _samples(layer: Any, attr: Any, codes: list, items: list) -> None:
    path = attr.path
    for code, item in zip(codes, items):
        layer.SetTimeSample(path, code, item)


def _colors(stage: Any, codes: list, Vt: Any) -> None:
    """The rack colours of every step, when the racks are coloured by a state variable."""
    coloring = getattr(stage, "coloring", None)
    if coloring is None or coloring.source != "state" or len(coloring.values) != len(codes):
        return
    rgb = coloring.rgb(coloring.values).astype(np.float32) / 255.0  # frames x racks x 3
    for spec, rows in stage.rack_instancers.values():
        path = spec.path.AppendProperty("primvars:displayColor")
        for code, frame in zip(codes, rgb[:, rows]):
            stage.w.layer.SetTimeSample(path, code, Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(frame)))

