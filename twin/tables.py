"""Columnar tables of the facility graph, one per node kind, for vectorized physics, models and checks."""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from twin.graph import CONTAINS_PARENT, bulk

if TYPE_CHECKING:
    from twin.facility import Facility


def build(facility: Facility, kind: str) -> pd.DataFrame:
    """All nodes of `kind` as a DataFrame indexed by node id, one column per attribute."""
    with bulk():
        return _build(facility, kind)


def _build(facility: Facility, kind: str) -> pd.DataFrame:
    pairs = facility.graph.by_kind().get(kind, [])
    ids = [n for n, _ in pairs]
    records = [d for _, d in pairs]
    columns = dict.fromkeys(chain.from_iterable(records))
    columns.pop("kind", None)
    data = {c: [r.get(c) for r in records] for c in columns}
    parent_kind = CONTAINS_PARENT.get(kind)
    if parent_kind is not None:
        parents = parent_map(facility, parent_kind)
        data[parent_kind] = [parents.get(n) for n in ids]
    frame = pd.DataFrame(data, index=pd.Index(ids, name="id", dtype=object))
    if kind == "rack":
        frame = _rack_columns(facility, frame)
    return frame


def parent_map(facility: Facility, parent_kind: str) -> dict[str, str]:
    """child id -> parent id over the contains edges leaving nodes of `parent_kind`."""
    scan = facility.graph.scan()
    kinds = facility.graph.nodes
    out = dict(scan.gpu_rack) if parent_kind == "rack" else {}
    for parent, child in scan.edges.get("contains", []):
        if kinds[parent].get("kind") == parent_kind:
            out[child] = parent
    return out


def _rack_columns(facility: Facility, racks: pd.DataFrame) -> pd.DataFrame:
    """Add hall, effective cooling, GPU count, cap, nameplate kW and liquid heat fraction per rack."""
    halls = facility.graph.nodes
    racks = racks.copy()
    for col in ("system", "nodes", "power_cap_w", "cooling"):
        if col not in racks:
            racks[col] = None
    row_to_hall = parent_map(facility, "hall")
    racks["hall"] = [row_to_hall.get(r) for r in racks["row"]]
    hall_cooling = [halls[h].get("cooling") if h in halls else None for h in racks["hall"]]
    own = racks["cooling"].tolist()
    racks["cooling"] = [o if o is not None else h for o, h in zip(own, hall_cooling)]

    n = len(racks)
    gpus = np.zeros(n, dtype=np.int64)
    tdp = np.full(n, np.nan)
    cap = np.full(n, np.nan)
    kw = np.zeros(n)
    liquid = np.zeros(n)
    catalog = facility.catalog
    systems = racks["system"].to_numpy(dtype=object)
    nodes = pd.to_numeric(racks["nodes"], errors="coerce").to_numpy(dtype=float)
    caps = pd.to_numeric(racks["power_cap_w"], errors="coerce").to_numpy(dtype=float)
    cooling = racks["cooling"].to_numpy(dtype=object)
    for sys_id in pd.unique(systems[pd.notna(systems)]):
        spec = _lookup(catalog.systems, sys_id)
        mask = systems == sys_id
        if spec is None:
            kw[mask] = np.nan
            continue
        ok = mask & np.isfinite(nodes) & (nodes > 0)
        c = np.where(np.isfinite(caps[ok]), caps[ok], spec.gpu_tdp_w)
        gpus[ok] = spec.gpus_per_rack(nodes[ok].astype(np.int64))
        tdp[mask] = spec.gpu_tdp_w
        cap[ok] = c
        kw[ok] = spec.rack_power_kw(nodes[ok], c)
        kw[mask & ~ok] = np.nan
        for tech_id in pd.unique(cooling[mask]):
            tech = _lookup(catalog.cooling, tech_id)
            sel = mask & (cooling == tech_id)
            liquid[sel] = liquid_fraction(tech, spec) if tech is not None else np.nan
    racks["gpus"] = gpus
    racks["gpu_tdp_w"] = tdp
    racks["cap_w"] = cap
    racks["nameplate_kw"] = kw
    racks["liquid_fraction"] = liquid
    return racks


def liquid_fraction(tech, spec) -> float:
    """Share of a rack's heat its cooling technology takes into liquid; liquid systems may state their own."""
    if tech.unit_kind == "cdu" and getattr(spec, "liquid_heat_fraction", 0) and tech.liquid_heat_fraction < 1.0:
        return float(spec.liquid_heat_fraction)
    return float(tech.liquid_heat_fraction)


def _lookup(section: dict, key):
    try:
        return section.get(key)
    except TypeError:
        return None
