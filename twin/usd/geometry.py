"""What a USD viewer draws: hall floors, racks and devices as boxes through point instancers, coloured.

Each hall's racks are one `PointInstancer` (`RackGeometry`) of a unit cube scaled per rack, coloured per rack by
`color_by` (animated when a state is given); all devices are one more (`EquipmentGeometry`), coloured by kind.
Per-instance colours use `primvars:displayColor` with vertex interpolation, which applies one element per
instance (Learn OpenUSD, "Refining point instances"). Device boxes are the views' drawing sizes
(`twin.views.layout.SIZES`), not catalog data, so they are not written as `aif:core` dimensions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from twin.usd.schema import EQUIPMENT_GEOMETRY, IDS, RACK_GEOMETRY, Port

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

FLOOR_RGB = (0.78, 0.78, 0.78)
FLOOR_THICKNESS_M = 0.1


def draw(stage: Any, facility: Facility, state: xr.Dataset | None, color_by: str) -> None:
    """Floors, rack instancers per hall and the equipment instancer, under the prims `stage` wrote."""
    from twin.views.colors import CATEGORY_PALETTE, resolve
    from twin.views.layout import KIND_ORDER

    lay, w = stage.lay, stage.w
    for hall, x, y, width, depth in zip(lay.halls.index, lay.halls.get("x_m", []), lay.halls.get("y_m", []),
                                        lay.halls.get("width_m", []), lay.halls.get("depth_m", [])):
        _floor(w, w.layer.GetPrimAtPath(stage.path[hall]), float(x), float(y), float(width), float(depth))
    racks = lay.racks
    stage.rack_instancers = {}
    if len(racks):
        pick = color_by if state is not None and color_by in state.data_vars else "system"
        coloring = resolve(racks, pick, state, animate=state is not None,
                           max_frames=state.sizes.get("time", 1) if state is not None else 1)
        stage.coloring = coloring
        halls = racks["hall"].where(racks["hall"].isin(list(stage.path)), None) if "hall" in racks else \
            pd.Series(None, index=racks.index)
        for hall in pd.unique(halls.to_numpy(dtype=object)):
            mask = (halls == hall).to_numpy() if hall is not None else halls.isna().to_numpy()
            owner = w.layer.GetPrimAtPath(stage.path[hall] if hall is not None else stage.root_path)
            sub = racks[mask]
            rgb = coloring.rgb(coloring.values[0][mask]) / 255.0
            spec = boxes(w, owner, RACK_GEOMETRY, sub.index, sub, rgb)
            stage.rack_instancers[hall] = (spec, np.flatnonzero(mask))
    dev = lay.devices
    if len(dev):
        palette = {k: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, k in enumerate(KIND_ORDER)}
        rgb = np.array([_rgb(palette[k]) for k in dev["kind"]])
        stage.equipment_instancer = boxes(w, stage.root, EQUIPMENT_GEOMETRY, dev.index, dev, rgb)


def boxes(w: Any, owner: Any, name: str, ids: pd.Index, table: pd.DataFrame, rgb: np.ndarray) -> Any:
    """A PointInstancer of one unit cube: instance i at table row i's footprint centre, scaled to its size."""
    from pxr import Vt

    inst = w.prim(owner, name, "PointInstancer")
    protos = w.prim(inst, "Prototypes", "Scope")
    cube = w.prim(protos, "box", "Cube")
    w.attr(cube, "size", "double", 1.0)
    w.attr(cube, "extent", "float3[]", [(-0.5, -0.5, -0.5), (0.5, 0.5, 0.5)])
    w.rel(inst, "prototypes", [str(cube.path)], custom=False)
    x, y, z = (table[c].to_numpy(float) for c in ("x_m", "y_m", "z_m"))
    size = np.c_[table["width_m"].to_numpy(float), table["depth_m"].to_numpy(float), table["height_m"].to_numpy(float)]
    centre = np.c_[x, y, z + size[:, 2] / 2]
    n = len(table)
    w.attr(inst, "protoIndices", "int[]", Vt.IntArray.FromNumpy(np.zeros(n, dtype=np.int32)))
    w.attr(inst, "positions", "point3f[]", Vt.Vec3fArray.FromNumpy(centre.astype(np.float32)))
    w.attr(inst, "scales", "float3[]", Vt.Vec3fArray.FromNumpy(size.astype(np.float32)))
    w.attr(inst, "primvars:displayColor", "color3f[]", Vt.Vec3fArray.FromNumpy(rgb.astype(np.float32)),
           interpolation="vertex")
    lo, hi = (centre - size / 2).min(axis=0), (centre + size / 2).max(axis=0)
    w.attr(inst, "extent", "float3[]", [tuple(map(float, lo)), tuple(map(float, hi))])
    w.attr(inst, IDS, "string[]", [str(i) for i in ids], custom=True)
    return inst


def _floor(w: Any, hall: Any, x: float, y: float, width: float, depth: float) -> None:
    floor = w.prim(hall, "Floor", "Cube")
    w.attr(floor, "size", "double", 1.0)
    w.attr(floor, "extent", "float3[]", [(-0.5, -0.5, -0.5), (0.5, 0.5, 0.5)])
    w.attr(floor, "xformOp:translate", "double3", (x + width / 2, y + depth / 2, -FLOOR_THICKNESS_M / 2))
    w.attr(floor, "xformOp:scale", "float3", (max(width, 1e-3), max(depth, 1e-3), FLOOR_THICKNESS_M))
    w.attr(floor, "xformOpOrder", "token[]", ["xformOp:translate", "xformOp:scale"], uniform=True)
    w.attr(floor, "primvars:displayColor", "color3f[]", [FLOOR_RGB], interpolation="constant")


def port_offset(port: Port, size: tuple[float, float, float], n_power_in: int) -> tuple[float, float, float]:
    """Where a port sits on a box w x d x h (origin at the footprint centre, floor level; front faces -y):
    power on top (feeds spread along the width), pipes on the back (return right, supply left; IT loop lowest),
    air in at the front and out at the back."""
    w, d, h = size
    if port.domain == "electrical":
        if port.end == "target" and port.name[-1].isdigit():
            k = int(port.name.rsplit("_", 1)[1])
            return (-w / 2 + (k + 1) * w / (n_power_in + 1), d / 4, h)
        return (0.0, 0.0, h)
    if port.domain == "airflow":
        return (0.0, -d / 2 if port.direction == "input" else d / 2, h / 2)
    level = {"tcs": 0.1, "fws": 0.3, "chw": 0.3, "cw": 0.5}.get(port.name.split("_")[0], 0.2)
    return (w / 4 if port.direction == "return" else -w / 4, d / 2, level * h)


def _rgb(hex_color: str) -> tuple[float, float, float]:
    h = hex_color.lstrip("#")
    return tuple(int(h[i:i + 2], 16) / 255.0 for i in (0, 2, 4))
