"""Where every drawn thing stands: racks from the table, devices placed by what they serve.

Devices rarely carry positions, so they are placed from the graph (explicit `x_m`/`y_m` attributes win):
a rear-door unit on its rack's back, busways above their row's aisle edges and PDUs at its start,
CDUs in a gallery along a hall's west wall and CRAHs along its east wall, the power yard (grid,
substations, transformers, UPS, ...) south of the halls and the heat-rejection plant north of them,
each hall's own equipment in its hall's column. Vectorized over racks and rows; pure numpy/pandas.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from twin.graph import DEVICE_KINDS, POWER_KINDS, UNIT_KINDS, bulk

if TYPE_CHECKING:
    from twin.facility import Facility

KIND_ORDER = (
    "grid", "substation", "transformer", "generator", "battery", "ups", "switchboard", "busway", "pdu",
    "cdu", "crah", "rdhx", "chiller", "dry_cooler", "cooling_tower",
)
SIZES = {  # footprint width (x), depth (y) and height in metres: drawing sizes, not catalog data
    "grid": (2.0, 2.0, 6.0), "substation": (4.0, 3.0, 2.4), "transformer": (2.4, 2.4, 2.6),
    "generator": (4.5, 1.8, 2.2), "battery": (6.0, 2.4, 2.6), "ups": (1.8, 1.0, 2.0),
    "switchboard": (3.0, 0.8, 2.2), "busway": (1.0, 0.16, 0.25), "pdu": (0.6, 0.8, 1.8),
    "cdu": (0.8, 1.2, 2.0), "crah": (1.0, 2.4, 2.2), "rdhx": (0.6, 0.15, 2.3),
    "chiller": (5.0, 2.4, 2.4), "dry_cooler": (2.4, 6.0, 2.0), "cooling_tower": (3.6, 3.6, 4.5),
}
ROW_KINDS = frozenset({"busway", "pdu", "cdu", "crah", "rdhx"})
COLUMNS = ["kind", "x_m", "y_m", "z_m", "width_m", "depth_m", "height_m", "hall", "row", "placed"]
GAP_M = 1.0
YARD_OFFSET_M = 4.0


@dataclass
class Layout:
    """Racks, halls, rows and placed devices as tables (metres; devices: centre of footprint on the floor)."""

    racks: pd.DataFrame
    halls: pd.DataFrame
    devices: pd.DataFrame
    rows: pd.DataFrame

    def bounds(self) -> tuple[float, float, float, float, float, float]:
        """(xmin, xmax, ymin, ymax, zmin, zmax) over halls, racks and placed devices."""
        boxes = [_boxes(self.racks), _boxes(self.devices)]
        if len(self.halls):
            h = self.halls
            boxes.append(np.c_[h.x_m, h.x_m + h.width_m, h.y_m, h.y_m + h.depth_m, np.zeros(len(h)), np.zeros(len(h))])
        allb = np.vstack(boxes + [np.full((1, 6), np.nan)])
        if np.isnan(allb).all():
            return (0.0, 1.0, 0.0, 1.0, 0.0, 1.0)
        lo, hi = np.nanmin(allb, axis=0), np.nanmax(allb, axis=0)
        return (lo[0], hi[1], lo[2], hi[3], lo[4], hi[5])

    def hall_bounds(self, hall: str) -> tuple[float, float, float, float, float, float]:
        """The box around one hall with its galleries and racks."""
        h = self.halls.loc[hall]
        d = self.devices[(self.devices["hall"] == hall) & (self.devices["placed"] != "yard")]
        boxes = np.vstack([[h.x_m, h.x_m + h.width_m, h.y_m, h.y_m + h.depth_m, 0.0, 2.5], _boxes(d)])
        return (boxes[:, 0].min(), boxes[:, 1].max(), boxes[:, 2].min(), boxes[:, 3].max(), 0.0, boxes[:, 5].max())


def _boxes(t: pd.DataFrame) -> np.ndarray:
    if not len(t):
        return np.zeros((0, 6))
    x, y, z = (t[c].to_numpy(float) for c in ("x_m", "y_m", "z_m"))
    w, d, h = (t[c].to_numpy(float) for c in ("width_m", "depth_m", "height_m"))
    return np.c_[x - w / 2, x + w / 2, y - d / 2, y + d / 2, z, z + h]


def rack_geometry(facility: Facility) -> pd.DataFrame:
    """The rack table with positions and sizes as floats (missing sizes get the builder's defaults)."""
    from twin.facility import RACK_DEFAULTS

    racks = facility.table("rack")
    out = racks.copy() if len(racks) else pd.DataFrame(columns=["row", "hall"], index=pd.Index([], name="id"))
    for col, default in {"x_m": 0.0, "y_m": 0.0, "z_m": 0.0, **RACK_DEFAULTS}.items():
        values = pd.to_numeric(out[col], errors="coerce") if col in out else pd.Series(np.nan, index=out.index)
        out[col] = values.fillna(default).astype(float)
    return out


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def layout(facility: Facility) -> Layout:
    """Place every device of the facility; see the module docstring for the rules.

    Kept per facility until its graph changes, so drawing it again (another colour, camera or file) is cheap.
    """
    version = facility.graph.version
    hit = _CACHE.get(facility)
    if hit is not None and hit[0] == version:
        return hit[1]
    with bulk():  # millions of small objects live in a large graph: pause the cyclic collector
        result = _layout(facility)
    _CACHE[facility] = (facility.graph.version, result)
    return result


def _layout(facility: Facility) -> Layout:
    racks = rack_geometry(facility)
    halls = facility.table("hall")
    if len(halls):
        halls = halls.copy()
        for col in ("x_m", "y_m", "width_m", "depth_m"):
            halls[col] = pd.to_numeric(halls[col], errors="coerce").fillna(0.0).astype(float)
    rows = _rows(racks)
    by_kind = facility.graph.by_kind()
    pairs = [(n, d) for kind in KIND_ORDER if kind in DEVICE_KINDS for n, d in by_kind.get(kind, [])]
    ids = pd.Index([n for n, _ in pairs], name="id", dtype=object)
    attrs = [d for _, d in pairs]
    dev = pd.DataFrame({"kind": [d["kind"] for d in attrs]}, index=ids)
    size = np.array([SIZES[k] for k in dev["kind"]]).reshape(-1, 3)
    dev["x_m"], dev["y_m"], dev["z_m"] = _given(attrs, "x_m"), _given(attrs, "y_m"), np.nan_to_num(_given(attrs, "z_m"))
    dev["width_m"], dev["depth_m"], dev["height_m"] = size[:, 0], size[:, 1], size[:, 2]
    served = _served(facility, dev, racks)
    prefix = pd.Series([_prefix_hall(n, halls) for n in ids], index=ids, dtype=object)
    dev["hall"] = served["hall"].where(served["n_halls"] == 1, prefix)
    dev["row"] = served["row"].where(served["n_rows"] == 1)
    dev["placed"] = "yard"
    given = dev["x_m"].notna() & dev["y_m"].notna()
    dev.loc[given, "placed"] = "given"
    door = ~given & (dev["kind"] == "rdhx") & (served["n_direct"] == 1)
    on_row = ~given & ~door & dev["kind"].isin(ROW_KINDS) & (served["n_rows"] == 1) & (served["n_direct"] > 0)
    in_hall = ~given & ~door & ~on_row & dev["kind"].isin(UNIT_KINDS) & dev["hall"].isin(halls.index)
    _place_doors(dev, door, served["first_rack"], racks)
    _place_rows(dev, on_row, rows)
    _place_galleries(dev, in_hall, halls)
    yard = ~(given | door | on_row | in_hall)
    _place_yards(dev, yard, halls, Layout(racks, halls, dev[~yard], rows).bounds())
    return Layout(racks, halls, dev[COLUMNS], rows)


def _given(attrs: list[dict], key: str) -> np.ndarray:
    return pd.to_numeric(pd.Series([a.get(key) for a in attrs], dtype=object), errors="coerce").to_numpy(float)


def _served(facility: Facility, dev: pd.DataFrame, racks: pd.DataFrame) -> pd.DataFrame:
    """Per device: the hall and row it serves if only one (and how many), and its directly served racks.

    Power devices serve what their power edges lead to; cooling devices what their heat edges come from.
    Halls are followed through chains of devices (a transformer serves the halls its UPS serve).
    Vectorized with integer codes: edge ends are looked up in the device and rack indexes in one go.
    """
    edges = facility.graph.edges_by_kind()
    is_power = dev["kind"].isin(POWER_KINDS).to_numpy()
    # dict lookups mapped in C: ids are the graph's own str objects, whose hashes Python has cached
    dev_pos = dict(zip(dev.index, range(len(dev))))
    rack_pos = dict(zip(racks.index, range(len(racks))))
    src_parts, code_parts = [], []
    for kind, forward in (("power", True), ("heat", False)):
        pairs = edges.get(kind, [])
        if not pairs:
            continue
        owner = [p[0] for p in pairs] if forward else [p[1] for p in pairs]
        load = [p[1] for p in pairs] if forward else [p[0] for p in pairs]
        d = np.fromiter(map(dev_pos.get, owner, repeat(-1)), dtype=np.int64, count=len(owner))
        r = np.fromiter(map(rack_pos.get, load, repeat(-1)), dtype=np.int64, count=len(load))
        other = np.full(len(load), -1, dtype=np.int64)
        rest = np.flatnonzero(r < 0)
        other[rest] = np.fromiter(map(dev_pos.get, [load[i] for i in rest.tolist()], repeat(-1)), dtype=np.int64,
                                  count=len(rest))
        ok = (d >= 0) & ((r >= 0) | (other >= 0))
        ok[ok] = is_power[d[ok]] == forward
        src_parts.append(d[ok])
        code_parts.append(np.where(r >= 0, r, -2 - other)[ok])  # rack position, or -2 - device position
    src = np.concatenate(src_parts) if src_parts else np.zeros(0, dtype=np.int64)
    rack_code = np.concatenate(code_parts) if code_parts else np.zeros(0, dtype=np.int64)
    is_rack = rack_code >= 0
    n = len(dev)
    row_codes, _ = pd.factorize(racks["row"]) if len(racks) else (np.zeros(0, dtype=np.int64), None)
    hall_codes, hall_names = pd.factorize(racks["hall"]) if len(racks) else (np.zeros(0, dtype=np.int64), [])
    s_rack, r_rack = src[is_rack], rack_code[is_rack]
    n_direct = np.bincount(s_rack, minlength=n)
    first = np.full(n, -1)
    first[s_rack[::-1]] = r_rack[::-1]
    rows = row_codes[r_rack]
    lo, hi = np.full(n, np.iinfo(np.int64).max), np.full(n, -1)
    np.minimum.at(lo, s_rack, rows)
    np.maximum.at(hi, s_rack, rows)
    one_row = (n_direct > 0) & (lo == hi)
    hall_sets: dict[int, set] = {}
    span = len(hall_names) + 1
    for key in np.unique(s_rack * span + hall_codes[r_rack] + 1).tolist() if len(s_rack) else []:
        d, h = divmod(key, span)
        if h > 0:
            hall_sets.setdefault(d, set()).add(hall_names[h - 1])
    children: dict[int, list[int]] = {}
    child = -2 - rack_code[~is_rack]
    for d, c in zip(src[~is_rack].tolist(), child.tolist()):
        if c >= 0:
            children.setdefault(d, []).append(c)
    memo: dict[int, frozenset] = {}

    def halls_of(d: int) -> frozenset:
        if d not in memo:
            memo[d] = frozenset()  # guards against a cycle in a malformed graph
            found = set(hall_sets.get(d, ()))
            for c in children.get(d, ()):
                found |= halls_of(c)
            memo[d] = frozenset(found)
        return memo[d]

    sets = [halls_of(d) for d in range(n)]
    rack_ids = racks.index.to_numpy()
    row_names = racks["row"].to_numpy() if len(racks) else np.zeros(0, dtype=object)
    return pd.DataFrame({
        "n_direct": n_direct,
        "first_rack": np.where(first >= 0, rack_ids[np.maximum(first, 0)] if len(racks) else None, None),
        "row": np.where(one_row, row_names[np.maximum(first, 0)] if len(racks) else None, None),
        "n_rows": np.where(n_direct == 0, 0, np.where(one_row, 1, 2)),
        "n_halls": [len(h) for h in sets],
        "hall": [next(iter(h)) if len(h) == 1 else None for h in sets],
    }, index=dev.index)


def _rows(racks: pd.DataFrame) -> pd.DataFrame:
    """Per row: extent, top height, hall, and whether it runs along x."""
    if not len(racks):
        return pd.DataFrame(columns=["x0", "x1", "y0", "y1", "top", "hall", "along_x"])
    b = _boxes(racks)
    t = pd.DataFrame({"x0": b[:, 0], "x1": b[:, 1], "y0": b[:, 2], "y1": b[:, 3], "top": b[:, 5],
                      "row": racks["row"].to_numpy(), "hall": racks["hall"].to_numpy()})
    rows = t.groupby("row", sort=False).agg(x0=("x0", "min"), x1=("x1", "max"), y0=("y0", "min"), y1=("y1", "max"),
                                             top=("top", "max"), hall=("hall", "first"))
    rows["along_x"] = (rows.x1 - rows.x0) >= (rows.y1 - rows.y0)
    return rows


def _place_doors(dev: pd.DataFrame, mask: pd.Series, first_rack: pd.Series, racks: pd.DataFrame) -> None:
    """Rear-door units on the back (north face) of their rack, as wide and tall as the rack."""
    if not mask.any():
        return
    r = racks.loc[first_rack[mask].to_numpy()]
    depth = dev.loc[mask, "depth_m"].to_numpy()
    dev.loc[mask, "x_m"] = r["x_m"].to_numpy()
    dev.loc[mask, "y_m"] = r["y_m"].to_numpy() + r["depth_m"].to_numpy() / 2 + depth / 2 + 0.02
    dev.loc[mask, "z_m"] = r["z_m"].to_numpy()
    dev.loc[mask, "width_m"] = r["width_m"].to_numpy()
    dev.loc[mask, "height_m"] = r["height_m"].to_numpy()
    dev.loc[mask, "placed"] = "rack"


def _place_rows(dev: pd.DataFrame, mask: pd.Series, rows: pd.DataFrame) -> None:
    """Busways above the row's aisle edges (back, then front), PDUs before its start, other units after its end."""
    if not mask.any():
        return
    items = dev[mask].assign(rid=dev.index[mask]).sort_values(["row", "rid"])
    cls = np.where(items["kind"] == "busway", "bus", np.where(items["kind"] == "pdu", "start", "end"))
    k = items.groupby([items["row"], cls]).cumcount().to_numpy()
    geo = rows.loc[items["row"].to_numpy()]
    along = geo["along_x"].to_numpy(bool)
    x0, x1, y0, y1 = (geo[c].to_numpy(float) for c in ("x0", "x1", "y0", "y1"))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    length, across = np.where(along, x1 - x0, y1 - y0), np.where(along, y1 - y0, x1 - x0)
    w = items["width_m"].to_numpy(float)
    bus, start = cls == "bus", cls == "start"
    # along the row: busways centred, PDUs stepping out before the start, other units after the end
    step = GAP_M / 2 + w / 2 + k * (w + 0.2)
    lo, hi = np.where(along, x0, y0), np.where(along, x1, y1)
    pos_along = np.where(bus, np.where(along, cx, cy), np.where(start, lo - step, hi + step))
    side = np.where(k % 2 == 0, 1.0, -1.0)
    pos_across = np.where(along, cy, cx) + np.where(bus, side * (across / 2 + 0.2 + (k // 2) * 0.25), 0.0)
    items["x_m"] = np.where(along, pos_along, pos_across)
    items["y_m"] = np.where(along, pos_across, pos_along)
    items["z_m"] = np.where(bus, geo["top"].to_numpy(float) + 0.3, items["z_m"].to_numpy(float))
    bw, bd = items["width_m"].to_numpy(float), items["depth_m"].to_numpy(float)
    items["width_m"] = np.where(bus, np.where(along, length, bd), bw)
    items["depth_m"] = np.where(bus, np.where(along, bd, length), bd)
    items["placed"] = "row"
    dev.loc[items.index, ["x_m", "y_m", "z_m", "width_m", "depth_m", "placed"]] = items[
        ["x_m", "y_m", "z_m", "width_m", "depth_m", "placed"]]


def _place_galleries(dev: pd.DataFrame, mask: pd.Series, halls: pd.DataFrame) -> None:
    """CDUs in columns along the hall's west wall, other units along its east wall, outside the hall."""
    if not mask.any():
        return
    items = _records(dev, mask)
    groups: dict[tuple[str, str], list[dict]] = {}
    for it in items:
        groups.setdefault((it["hall"], "west" if it["kind"] == "cdu" else "east"), []).append(it)
    geometry = {h: (x, y, w, d) for h, x, y, w, d in zip(halls.index, halls.x_m, halls.y_m, halls.width_m, halls.depth_m)}
    for (hall, where), group in groups.items():
        hx, hy, hw, hd = geometry[hall]
        y, col = hy + 0.5, 0
        for it in sorted(group, key=_order):
            w, d = it["width_m"], it["depth_m"]
            if y + d > hy + max(hd, d + 0.5):
                y, col = hy + 0.5, col + 1
            off = 0.6 + w / 2 + col * 3.0
            it["x_m"] = hx - off if where == "west" else hx + hw + off
            it["y_m"] = y + d / 2
            y += d + 0.4
    _write(dev, items, "hall")


def _place_yards(dev: pd.DataFrame, mask: pd.Series, halls: pd.DataFrame, bounds: tuple) -> None:
    """Pack each yard group in lines within its hall's x-range (the site's for shared equipment)."""
    if not mask.any():
        return
    xmin, xmax, ymin, ymax = bounds[:4]
    items = _records(dev, mask)
    span = {h: (x, x + max(w, 12.0)) for h, x, w in zip(halls.index, halls.x_m, halls.width_m)}
    groups: dict[tuple[str, str], list[dict]] = {}
    for it in items:
        hall = it["hall"] if it["hall"] in span else ""
        groups.setdefault(("south" if it["kind"] in POWER_KINDS else "north", hall), []).append(it)
    used: dict[str, list[tuple[float, float, float]]] = {"south": [], "north": []}
    keys = sorted(groups, key=lambda k: (k[1] == "", span[k[1]][0] if k[1] else 0.0, k))
    for where, hall in keys:
        x0, x1 = span[hall] if hall else (xmin, max(xmax, xmin + 20.0))
        depth = max((end for a, b, end in used[where] if a < x1 and b > x0), default=0.0)
        cursor, line, offset = x0, 0.0, depth + (YARD_OFFSET_M if depth == 0 else GAP_M * 2)
        # the power chain runs outwards from the halls (UPS first, the grid connection last); plant likewise
        for it in sorted(groups[(where, hall)], key=_order, reverse=False) if where == "north" else \
                sorted(groups[(where, hall)], key=lambda i: (-KIND_ORDER.index(i["kind"]), _natural(i["id"]))):
            w, d = it["width_m"], it["depth_m"]
            if cursor + w > x1 and cursor > x0:
                offset += line + GAP_M * 1.5
                cursor, line = x0, 0.0
            it["x_m"] = cursor + w / 2
            it["y_m"] = ymin - offset - d / 2 if where == "south" else ymax + offset + d / 2
            cursor += w + GAP_M
            line = max(line, d)
        used[where].append((x0, x1, offset + line))
    _write(dev, items, "yard")


def _records(dev: pd.DataFrame, mask: pd.Series) -> list[dict]:
    sub = dev.loc[mask, ["kind", "hall", "width_m", "depth_m"]]
    return [{"id": i, "kind": k, "hall": h, "width_m": float(w), "depth_m": float(d)}
            for i, k, h, w, d in zip(sub.index, sub["kind"], sub["hall"], sub["width_m"], sub["depth_m"])]


def _write(dev: pd.DataFrame, items: list[dict], placed: str) -> None:
    ids = [it["id"] for it in items]
    dev.loc[ids, "x_m"] = [it["x_m"] for it in items]
    dev.loc[ids, "y_m"] = [it["y_m"] for it in items]
    dev.loc[ids, "placed"] = placed


def _order(item: dict) -> tuple:
    return (KIND_ORDER.index(item["kind"]), _natural(item["id"]))


def _prefix_hall(dev: str, halls: pd.DataFrame) -> str | None:
    head = dev.split("/", 1)[0]
    return head if "/" in dev and head in halls.index else None


def _natural(s: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s))


def row_anchors(layout: Layout) -> pd.DataFrame:
    """Per row the point where aggregated connections attach: the middle of the row, on top."""
    r = layout.rows
    return pd.DataFrame({"x": (r.x0 + r.x1) / 2, "y": (r.y0 + r.y1) / 2, "z": r.top}, index=r.index)


__all__ = ["Layout", "layout", "rack_geometry", "row_anchors", "SIZES", "KIND_ORDER"]
