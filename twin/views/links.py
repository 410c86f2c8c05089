"""Power and coolant connections as line segments, aggregated so a large site stays readable.

Racks connect per row (one line from the row's middle, not one per rack); units sitting on a rack
(rear doors) connect from their row; a pool of more than two interchangeable devices (same `group`
attribute, e.g. N+1 CDUs or dry coolers) is drawn as a manifold: one line to the pool's hub and a
spoke from the hub to each member. Pairs (2N feeds) stay individual, so their a/b paths show.
Pure numpy/pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin.graph import bulk
from twin.views.layout import Layout, row_anchors

if TYPE_CHECKING:
    from twin.facility import Facility

POOL_MIN = 3


def connections(facility: Facility, layout: Layout, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points (n x 3) of every `power` or `heat` connection after aggregation."""
    with bulk():
        return _connections(facility, layout, kind)


def _connections(facility: Facility, layout: Layout, kind: str) -> tuple[np.ndarray, np.ndarray]:
    graph = facility.graph
    devices = layout.devices
    nodes = graph.nodes
    rack_row = dict(zip(layout.racks.index, layout.racks["row"])) if len(layout.racks) else {}
    placed = devices["placed"].to_dict()
    dev_row = devices["row"].to_dict()
    top = {d: np.array((x, y, z + h)) for d, x, y, z, h in
           zip(devices.index, devices.x_m, devices.y_m, devices.z_m, devices.height_m)}
    anchors = {("row", r): np.array((a.x, a.y, a.z)) for r, a in row_anchors(layout).iterrows()}
    pools: dict[str, list[str]] = {}
    for dev in devices.index:
        group = nodes[dev].get("group")
        if group is not None and placed[dev] != "rack":
            pools.setdefault(str(group), []).append(dev)
    pool_of = {d: g for g, members in pools.items() if len(members) >= POOL_MIN for d in members}
    for g, members in pools.items():
        if len(members) >= POOL_MIN:
            pts = np.array([top[m] for m in members])
            anchors[("pool", g)] = np.r_[pts[:, :2].mean(axis=0), pts[:, 2].max() + 0.6]

    def end(node: str) -> tuple[str, str]:
        if node in rack_row:
            return ("row", rack_row[node])
        if placed.get(node) == "rack":
            return ("row", dev_row[node])
        if node in pool_of:
            return ("pool", pool_of[node])
        return ("dev", node)

    pairs: set[tuple[tuple[str, str], tuple[str, str]]] = set()
    for u, v in graph.edges_by_kind().get(kind, []):
        if (u in top or u in rack_row) and (v in top or v in rack_row):
            pairs.add((end(u), end(v)))
    used_pools = {p[1] for pair in pairs for p in pair if p[0] == "pool"}
    starts, ends = [], []
    for a, b in sorted(pairs):
        if a == b or _beside(a, b, placed, dev_row):
            continue
        starts.append(anchors[a] if a[0] != "dev" else top[a[1]])
        ends.append(anchors[b] if b[0] != "dev" else top[b[1]])
    for g in sorted(used_pools):
        for member in pools[g]:
            starts.append(anchors[("pool", g)])
            ends.append(top[member])
    return np.asarray(starts, dtype=float).reshape(-1, 3), np.asarray(ends, dtype=float).reshape(-1, 3)


def _beside(a: tuple[str, str], b: tuple[str, str], placed: dict, dev_row: dict) -> bool:
    """A row device (busway above the row, PDU at its end) is drawn at its row: no line needed."""
    for x, y in ((a, b), (b, a)):
        if x[0] == "dev" and y[0] == "row" and placed.get(x[1]) == "row" and dev_row.get(x[1]) == y[1]:
            return True
    return False
