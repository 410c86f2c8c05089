"""Columnar tables of the facility graph, one per node kind, for vectorized physics, models and checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from twin.graph import CONTAINS_PARENT

if TYPE_CHECKING:
    from twin.facility import Facility


def build(facility: Facility, kind: str) -> pd.DataFrame:
    """All nodes of `kind` as a DataFrame indexed by node id, one column per attribute."""
    graph = facility.graph
    ids = [n for n, k in graph.nodes(data="kind") if k == kind]
    attrs = graph.nodes
    records = [attrs[n] for n in ids]
    columns: dict[str, None] = {}
    for record in records if kind != "gpu" else records[:1]:
        columns.update(dict.fromkeys(record))
    columns.pop("kind", None)
    data = {c: [r.get(c) for r in records] for c in columns}
    parent_kind = CONTAINS_PARENT.get(kind)
    if parent_kind is not None:
        data[parent_kind] = _parents(facility, ids)
    frame = pd.DataFrame(data, index=pd.Index(ids, name="id"))
    if kind == "rack":
        frame = _rack_columns(facility, frame)
    return frame


def _parents(facility: Facility, ids: list[str]) -> list[str | None]:
    pred = facility.graph.pred
    out: list[str | None] = []
    for n in ids:
        parent = None
        for p, d in pred[n].items():
            if d.get("kind") == "contains":
                parent = p
                break
        out.append(parent)
    return out


def _rack_columns(facility: Facility, racks: pd.DataFrame) -> pd.DataFrame:
    """Add hall, effective cooling, GPU count, cap, nameplate kW and liquid heat fraction per rack."""
    halls = facility.graph.nodes
    racks = racks.copy()
    for col in ("system", "nodes", "power_cap_w", "cooling"):
        if col not in racks:
            racks[col] = None
    row_to_hall = _row_halls(facility)
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


def _row_halls(facility: Facility) -> dict[str, str | None]:
    rows = [n for n, k in facility.graph.nodes(data="kind") if k == "row"]
    return dict(zip(rows, _parents(facility, rows)))


def _lookup(section: dict, key):
    try:
        return section.get(key)
    except TypeError:
        return None
