"""Merged meshes: many boxes (racks) or many copies of one device shape as ONE PolyData, built in numpy.

One mesh per kind keeps the actor count constant however many racks there are (one actor per rack
costs ~13 s and ~1 GB for 10,000 racks on this machine; one merged mesh well under a second).
"""

from __future__ import annotations

import functools

import numpy as np
import pyvista as pv

_BOX_CORNERS = np.array(
    [[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0],
     [-0.5, -0.5, 1], [0.5, -0.5, 1], [0.5, 0.5, 1], [-0.5, 0.5, 1]], dtype=np.float32)
_BOX_QUADS = np.array([[4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7], [0, 3, 2, 1]])
"""Top, south, east, north, west, bottom; wound counter-clockwise seen from outside, so back faces can be culled."""
FACES_PER_RACK = 5


def boxes(centers: np.ndarray, sizes: np.ndarray, *, bottom: bool = True, keep: np.ndarray | None = None) -> pv.PolyData:
    """Axis-aligned boxes standing on `centers` (x, y, z of the floor centre) with `sizes` (w, d, h).

    Faces per box in the order top, south, east, north, west (and bottom unless `bottom=False`: racks
    stand on a floor, so theirs is never seen). `keep` (boxes x faces, bool) builds only some faces;
    then `box_of_cells` tells which box each cell belongs to.
    """
    centers = np.asarray(centers, dtype=np.float32).reshape(-1, 3)
    sizes = np.asarray(sizes, dtype=np.float32).reshape(-1, 3)
    n = len(centers)
    points = (centers[:, None, :] + _BOX_CORNERS[None, :, :] * sizes[:, None, :]).reshape(-1, 3)
    faces = _BOX_QUADS if bottom else _BOX_QUADS[:FACES_PER_RACK]
    quads = np.arange(n, dtype=np.int64)[:, None, None] * 8 + faces[None]
    if keep is not None:
        quads = quads[np.asarray(keep, dtype=bool)]
    return _polydata(points, quads.reshape(-1, 4))


def box_edges(centers: np.ndarray, sizes: np.ndarray) -> pv.PolyData:
    """The twelve edges of each box (standing on `centers`, sized `sizes`) as one line mesh: outlines."""
    centers = np.asarray(centers, dtype=np.float32).reshape(-1, 3)
    sizes = np.asarray(sizes, dtype=np.float32).reshape(-1, 3)
    corners = (centers[:, None, :] + _BOX_CORNERS[None, :, :] * sizes[:, None, :]).reshape(-1, 3)
    edges = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]])
    pairs = (np.arange(len(centers))[:, None, None] * 8 + edges[None]).reshape(-1, 2)
    return pv.PolyData(corners, lines=np.c_[np.full(len(pairs), 2), pairs].ravel())


def box_of_cells(n: int, faces: int, keep: np.ndarray | None = None) -> np.ndarray:
    """The box index of each cell of `boxes(...)` built with `faces` faces per box and `keep`."""
    owner = np.repeat(np.arange(n), faces).reshape(n, faces)
    return owner.ravel() if keep is None else owner[np.asarray(keep, dtype=bool)]


def faces_covered(centers: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Which side faces (boxes x 5, in `boxes` order) lie flat against a neighbour at least as large.

    Racks in a row stand flush, so the faces between them can never be seen from anywhere: not drawing
    them takes a third off a row's geometry. Exact: a face counts only if a neighbour's face covers it
    (same plane, centred on the same line, at least as wide and tall), matched to the millimetre.
    """
    import pandas as pd

    c = np.asarray(centers, dtype=float).reshape(-1, 3)
    s = np.asarray(sizes, dtype=float).reshape(-1, 3)
    out = np.zeros((len(c), 5), dtype=bool)
    if not len(c):
        return out
    mm = lambda v: np.round(v * 1000.0).astype(np.int64)  # noqa: E731
    for axis, (low, high) in ((0, (4, 2)), (1, (1, 3))):  # x: west/east faces, y: south/north faces
        other = 1 - axis
        lo, hi = mm(c[:, axis] - s[:, axis] / 2), mm(c[:, axis] + s[:, axis] / 2)
        mid, z = mm(c[:, other]), mm(c[:, 2])
        base = min(lo.min(), hi.min())
        width = max(lo.max(), hi.max()) - base + 1
        mid_n, z_n = mid.max() - mid.min() + 1, z.max() - z.min() + 1
        if width * mid_n * z_n >= 2**62:
            continue  # a site too large to key to the millimetre: draw every face
        line = (mid - mid.min()) * z_n + (z - z.min())
        for face, mine, theirs in ((low, lo, hi), (high, hi, lo)):
            keys = pd.Index((theirs - base) * (mid_n * z_n) + line)
            unique = ~keys.duplicated()
            index = pd.Index(keys[unique])
            match = index.get_indexer((mine - base) * (mid_n * z_n) + line)
            j = np.flatnonzero(unique)[np.maximum(match, 0)]
            ok = (match >= 0) & (s[j, other] >= s[:, other] - 1e-9) & (s[j, 2] >= s[:, 2] - 1e-9)
            out[ok, face] = True
    return out


def faces_seen(centers: np.ndarray, sizes: np.ndarray, position: np.ndarray, direction: np.ndarray,
               parallel: bool) -> np.ndarray:
    """Which of each box's top and four side faces the camera can see (boxes x 5, bool).

    A face of a convex box faces a perspective camera exactly when the camera lies outside the face's
    plane; with a parallel projection, when the face's normal points against the view direction.
    Skipping the others halves what the rasterizer has to process, with an identical picture.
    """
    c = np.asarray(centers, dtype=float).reshape(-1, 3)
    s = np.asarray(sizes, dtype=float).reshape(-1, 3)
    if parallel:
        d = np.asarray(direction, dtype=float)
        normals = np.array([[0, 0, 1], [0, -1, 0], [1, 0, 0], [0, 1, 0], [-1, 0, 0]], dtype=float)
        return np.broadcast_to(normals @ d < -1e-9, (len(c), 5)).copy()
    px, py, pz = np.asarray(position, dtype=float)
    return np.c_[pz > c[:, 2] + s[:, 2], py < c[:, 1] - s[:, 1] / 2, px > c[:, 0] + s[:, 0] / 2,
                 py > c[:, 1] + s[:, 1] / 2, px < c[:, 0] - s[:, 0] / 2]


def instances(template: pv.PolyData, centers: np.ndarray, sizes: np.ndarray) -> pv.PolyData:
    """Copies of a unit `template` (footprint [-0.5, 0.5]², height [0, 1]) scaled by `sizes`, moved to `centers`."""
    tri = template.triangulate()
    tpts = np.asarray(tri.points, dtype=np.float32)
    tfaces = tri.faces.reshape(-1, 4)[:, 1:]
    centers = np.asarray(centers, dtype=np.float32).reshape(-1, 3)
    sizes = np.asarray(sizes, dtype=np.float32).reshape(-1, 3)
    n = len(centers)
    points = (centers[:, None, :] + tpts[None] * sizes[:, None, :]).reshape(-1, 3)
    faces = (np.arange(n, dtype=np.int64)[:, None, None] * len(tpts) + tfaces[None]).reshape(-1, 3)
    return _polydata(points, faces)


def _polydata(points: np.ndarray, cells: np.ndarray) -> pv.PolyData:
    """PolyData from points and equal-sized polygons without building a padded cell array by hand."""
    mesh = pv.PolyData()
    mesh.points = points
    mesh.faces = pv.CellArray.from_regular_cells(cells)
    return mesh


def segments(starts: np.ndarray, ends: np.ndarray) -> pv.PolyData:
    """Straight line segments as one PolyData of lines."""
    starts = np.asarray(starts, dtype=np.float32).reshape(-1, 3)
    ends = np.asarray(ends, dtype=np.float32).reshape(-1, 3)
    n = len(starts)
    points = np.empty((2 * n, 3), dtype=np.float32)
    points[0::2], points[1::2] = starts, ends
    lines = np.c_[np.full(n, 2), np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)].ravel()
    return pv.PolyData(points, lines=lines)


@functools.lru_cache(maxsize=None)
def template(shape: str) -> pv.PolyData:
    """A device shape in unit space: footprint [-0.5, 0.5]² on the floor, height 0..1."""
    if shape == "box":
        return pv.Box(bounds=(-0.5, 0.5, -0.5, 0.5, 0.0, 1.0))
    if shape == "tower":  # grid connection: a pylon-like pyramid
        return pv.Cone(center=(0, 0, 0.5), direction=(0, 0, 1), height=1.0, radius=0.5, resolution=4)
    if shape == "tank":  # transformer: an upright cylinder with a lid
        return _merge([pv.Cylinder(center=(0, 0, 0.42), direction=(0, 0, 1), radius=0.5, height=0.84, resolution=20),
                       pv.Box(bounds=(-0.35, 0.35, -0.35, 0.35, 0.84, 1.0))])
    if shape == "drum":  # generator, chiller: horizontal cylinders on a skid
        return _merge([pv.Box(bounds=(-0.5, 0.5, -0.5, 0.5, 0.0, 0.15)),
                       pv.Cylinder(center=(0, -0.22, 0.57), direction=(1, 0, 0), radius=0.27, height=0.95, resolution=20),
                       pv.Cylinder(center=(0, 0.22, 0.57), direction=(1, 0, 0), radius=0.27, height=0.95, resolution=20)])
    if shape == "fans":  # dry cooler: a low housing with fan discs on top
        parts = [pv.Box(bounds=(-0.5, 0.5, -0.5, 0.5, 0.0, 0.8))]
        fan = pv.Cylinder(center=(0, 0, 0), direction=(0, 0, 1), radius=0.38, height=0.16, resolution=24).scale((1, 0.4, 1))
        parts += [fan.translate((0, y, 0.88)) for y in (-0.33, 0.0, 0.33)]
        return _merge(parts)
    if shape == "stack":  # cooling tower: a wide cylinder with a fan stack
        return _merge([pv.Cylinder(center=(0, 0, 0.35), direction=(0, 0, 1), radius=0.5, height=0.7, resolution=28),
                       pv.Cone(center=(0, 0, 0.85), direction=(0, 0, 1), height=0.3, radius=0.42, resolution=28)])
    if shape == "cabinet":  # UPS, switchboard, PDU, CDU, CRAH: a cabinet with a darker top
        return _merge([pv.Box(bounds=(-0.5, 0.5, -0.5, 0.5, 0.0, 0.92)), pv.Box(bounds=(-0.45, 0.45, -0.45, 0.45, 0.92, 1.0))])
    raise KeyError(shape)


SHAPES = {
    "grid": "tower", "substation": "box", "transformer": "tank", "generator": "drum", "battery": "box",
    "ups": "cabinet", "switchboard": "cabinet", "busway": "box", "pdu": "cabinet", "cdu": "cabinet",
    "crah": "cabinet", "rdhx": "box", "chiller": "drum", "dry_cooler": "fans", "cooling_tower": "stack",
}
KIND_COLORS = {  # muted, so the racks' colour scale stands out; warm for power, cool for cooling
    "grid": "#5a5a5a", "substation": "#8c7b6b", "transformer": "#bfa14a", "generator": "#7a6a58",
    "battery": "#6b8e5a", "ups": "#b07a5a", "switchboard": "#8a6f5f", "busway": "#c9b27c", "pdu": "#a3788c",
    "cdu": "#5f9e96", "crah": "#9cb8c9", "rdhx": "#7d9bb5", "chiller": "#6a7fa8", "dry_cooler": "#8fa7c0",
    "cooling_tower": "#a3a9c4",
}


def swatch(color: str) -> pv.PolyData:
    """A unit square carrying its own RGB colour: a legend symbol whose colour is not its text's."""
    import matplotlib

    square = pv.PolyData(np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=float), faces=[4, 0, 1, 2, 3])
    square.cell_data["rgb"] = np.round(np.array([matplotlib.colors.to_rgb(color)]) * 255).astype(np.uint8)
    square.cell_data.active_scalars_name = "rgb"
    return square


def _merge(parts: list[pv.PolyData]) -> pv.PolyData:
    out = parts[0].triangulate()
    for p in parts[1:]:
        out = out.merge(p.triangulate())
    return out


def text_labels(texts: list[str], anchors: np.ndarray, height_m: float) -> pv.PolyData:
    """Flat 3D text lying on the floor (readable from above), one merged mesh: labels that survive HTML export."""
    parts = []
    for text, (x, y, z) in zip(texts, np.asarray(anchors, dtype=float)):
        mesh = pv.Text3D(text, depth=0.02 * height_m, height=height_m)
        b = mesh.bounds
        mesh.translate((x - (b[0] + b[1]) / 2, y - (b[2] + b[3]) / 2, z + 0.05 - b[4]), inplace=True)
        parts.append(mesh.triangulate())
    return pv.merge(parts) if parts else pv.PolyData()
