"""The facility graph as sparse share matrices: who feeds whom with power, whose heat goes where.

Built once per simulation from the graph (never per GPU). Load sharing: a rack, device or cooling unit
with several power feeds (2N busways, N+1 UPS) draws from each in proportion to the feeds' ratings, so a
redundancy group's members share the load; heat splits the same way over the units and plant a node
rejects to. A rack's heat splits into its liquid share (to CDUs / rear doors) and the rest (to CRAHs);
when a rack has units of only one stream, that stream takes all its heat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.graph import FEEDLESS_KINDS, PLANT_KINDS, POWER_KINDS, UNIT_KINDS, bulk
from twin.physics import PhysicsError
from twin.physics.cooling import UNIT_FIXED_HEAD, UNIT_MIN_FLOW, unit_tech
from twin.physics.power_chain import equipment_for

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp

    from twin.catalog import HeatRejection
    from twin.facility import Facility

LIQUID_UNITS = frozenset({"cdu", "rdhx"})
#: default catalog model of a plant unit by kind (a chiller with a tower/dry cooler behind it is water-cooled)
PLANT_DEFAULT = {"dry_cooler": "dry_cooler", "cooling_tower": "cooling_tower"}


def _shares(ratings: list[float]) -> np.ndarray:
    """Load shares of parallel members in proportion to their ratings (equal when ratings are unusable)."""
    if not ratings:
        return np.zeros(0)
    r = np.asarray([x if isinstance(x, (int, float)) and np.isfinite(x) and x > 0 else np.nan for x in ratings], dtype=float)
    if np.any(np.isnan(r)) or r.sum() <= 0:
        return np.full(len(ratings), 1.0 / len(ratings))
    return r / r.sum()


def _rating(attrs: dict) -> float:
    value = attrs.get("rating_kw")
    try:
        value = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return value


def _sparse(rows: list[int], cols: list[int], vals: list[float], shape: tuple[int, int]) -> sp.csr_matrix:
    import scipy.sparse as sp

    m = sp.csr_matrix((np.asarray(vals, dtype=float), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))), shape=shape)
    m.eliminate_zeros()
    return m


def _by_signature(signatures: list[tuple], make, liquid_fraction: np.ndarray | None = None):
    """COO entries (device, rack, share) of racks, computing each distinct signature's shares once.

    `make(sig)` gives (device columns, shares[, is_liquid]); with `liquid_fraction`, liquid members take
    the rack's liquid share and air members the rest (all of it when the rack has only one stream).
    """
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(signatures, dtype=object))
    rows, cols, vals = [], [], []
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    for k, sig in enumerate(uniques):
        racks = order[bounds[k]:bounds[k + 1]]
        made = make(sig)
        dev = np.asarray(made[0], dtype=np.int64)
        share = np.asarray(made[1], dtype=float)
        if dev.size == 0:
            continue
        part = np.ones((racks.size, dev.size))
        if liquid_fraction is not None:
            is_liquid = made[2]
            lf = liquid_fraction[racks][:, None]
            if is_liquid.any() and (~is_liquid).any():
                part = np.where(is_liquid[None, :], lf, 1.0 - lf)
        rows.append(np.tile(dev, racks.size))
        cols.append(np.repeat(racks, dev.size))
        vals.append((part * share[None, :]).ravel())
    cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0))
    return cat(rows), cat(cols), cat(vals)


def _fail(what: str, nodes: list[str], fix: str) -> None:
    shown = ", ".join(nodes[:5]) + (f" and {len(nodes) - 5} more" if len(nodes) > 5 else "")
    raise PhysicsError(f"{what}: {shown}; {fix}")


@dataclass
class Topology:
    """Sparse share matrices and per-device parameters of one facility (see module docstring)."""

    racks: pd.DataFrame                  # populated racks (rack table rows), in simulation order
    power_ids: list[str]
    power_kind: np.ndarray
    power_rating: np.ndarray
    power_models: list                   # catalog PowerEquipment or None (lossless), per power device
    power_levels: list[np.ndarray]       # device indices, loads first: level k only feeds levels > k
    rack_feed: Any                       # (power device x rack) share of each rack's power drawn from a device
    dev_feed: Any                        # (power device x power device) [parent, child] share of the child's input
    cool_feed: Any                       # (power device x cooling device) share of a cooling device's power
    roots: np.ndarray                    # power devices with no feed (their input comes from outside)
    cool_ids: list[str]                  # in-hall units first, then plant units
    n_units: int
    cool_kind: np.ndarray
    cool_rating: np.ndarray
    unit_k: np.ndarray                   # kW unit power per kW heat at the unit's rating
    unit_min_flow: np.ndarray            # minimum flow fraction of each unit's fans/pumps
    unit_head: np.ndarray                # share of each unit's design head held by a setpoint
    unit_setpoint: np.ndarray            # °C facility water each unit needs
    unit_max_water: np.ndarray           # °C facility water above which its racks exceed their limits
    economizers: np.ndarray              # in-hall units with an airside economizer (CRAHs with `air_economizer`)
    economizer_air_c: np.ndarray         # (3 x economizers) °C supply air, return air, supply-fan heat
    rack_to_unit: Any                    # (unit x rack) share of each rack's heat absorbed by a unit
    unit_to_plant: Any                   # (plant x unit) share of each unit's output heat
    plant_to_plant: Any                  # (plant x plant) [downstream, upstream] share of an upstream's rejected heat
    plant_levels: list[np.ndarray]
    plant_spec: list[tuple]              # per plant unit: (first model, downstream model or None, setpoint, role)
    plant_models: list                   # catalog HeatRejection per plant unit
    plant_members: np.ndarray            # units in each plant unit's redundancy group (1 without a group)
    plant_terminal: np.ndarray           # plant units rejecting to ambient
    limited: np.ndarray                  # plant indices of free-cooling units fed by in-hall units
    limited_max_water: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def n_plants(self) -> int:
        return len(self.cool_ids) - self.n_units

    @property
    def unfed_cooling(self) -> np.ndarray:
        """Cooling devices with no power feed: their power is drawn at the grid meter directly."""
        return np.asarray(self.cool_feed.sum(axis=0)).ravel() < 0.5


def build(facility: Facility) -> Topology:
    """Read the facility graph once into a `Topology`; raise PhysicsError naming unfed or uncooled racks."""
    with bulk():  # ~10^5 small tuples and lists: the cyclic GC would rescan the whole (large) graph each time
        return _build(facility)


def _build(facility: Facility) -> Topology:
    nodes_by_kind, edges_by_kind = _scan(facility.graph)
    catalog = facility.catalog
    table = facility.table("rack")
    racks = table[table["system"].notna() & (table["gpus"] > 0)]
    if racks.empty:
        raise PhysicsError(f"facility {facility.name!r} has no populated rack; populate racks with a system first")
    rack_ids = list(racks.index)
    wanted = POWER_KINDS | UNIT_KINDS | PLANT_KINDS
    nodes = {n: a for k, members in nodes_by_kind.items() if k in wanted for n, a in members}
    kinds = {n: a["kind"] for n, a in nodes.items()}
    fed_by: dict[str, list[str]] = {}
    for u, v in edges_by_kind.get("power", ()):
        if u in kinds:
            fed_by.setdefault(v, []).append(u)
    heat_to: dict[str, list[str]] = {}
    for u, v in edges_by_kind.get("heat", ()):
        if v in kinds:
            heat_to.setdefault(u, []).append(v)

    # ---------------------------------------------------------------- power
    power_ids = [n for n, k in kinds.items() if k in POWER_KINDS]
    pcol = {n: i for i, n in enumerate(power_ids)}
    units = [n for n, k in kinds.items() if k in UNIT_KINDS]
    plants = [n for n, k in kinds.items() if k in PLANT_KINDS]
    cool_ids = units + plants
    ccol = {n: i for i, n in enumerate(cool_ids)}

    def feeds(node: str) -> list[str]:
        return [p for p in fed_by.get(node, ()) if p in pcol]

    rating = {n: _rating(nodes[n]) for n in kinds}
    n_racks = len(rack_ids)
    feed_sig = [tuple(feeds(r)) for r in rack_ids]
    unfed = [r for r, sig in zip(rack_ids, feed_sig) if not sig]
    if unfed:
        _fail("racks not fed by any power device", unfed, "give them fed_by=[...] a busway/PDU/UPS on a path from the grid")
    rr, rc, rv = _by_signature(feed_sig, lambda sig: ([pcol[p] for p in sig], _shares([rating[p] for p in sig])))
    dr, dc, dv = [], [], []
    cr, cc, cv = [], [], []
    for child, targets in ((power_ids, (dr, dc, dv)), (cool_ids, (cr, cc, cv))):
        col = pcol if child is power_ids else ccol
        for n in child:
            parents = feeds(n)
            if not parents:
                continue
            for p, s in zip(parents, _shares([rating[p] for p in parents])):
                targets[0].append(pcol[p]), targets[1].append(col[n]), targets[2].append(s)
    n_power = len(power_ids)
    dev_feed = _sparse(dr, dc, dv, (n_power, n_power))
    levels = _levels(power_ids, dev_feed)
    roots = np.asarray(dev_feed.sum(axis=0)).ravel() < 0.5
    sourceless = [n for n, root in zip(power_ids, roots) if root and kinds[n] not in FEEDLESS_KINDS]
    if sourceless:
        _fail("power devices with no feed (only grid, generator and battery devices may be sources)", sourceless,
              "give them fed_by=[...] the device that feeds them")
    power_models = [equipment_for(catalog, kinds[n], nodes[n].get("model")) for n in power_ids]

    # ---------------------------------------------------------------- heat: racks -> units
    techs = racks["cooling"].to_numpy(dtype=object)
    systems = racks["system"].to_numpy(dtype=object)
    lf = np.nan_to_num(racks["liquid_fraction"].to_numpy(dtype=float))
    limit_liquid = np.array([_limit(catalog.systems[s].max_coolant_supply_c) for s in systems])
    limit_air = np.array([float(catalog.systems[s].max_inlet_air_c) for s in systems])
    heat_sig = [tuple(u for u in heat_to.get(r, ()) if kinds[u] in UNIT_KINDS) for r in rack_ids]
    uncooled = [r for r, sig in zip(rack_ids, heat_sig) if not sig]
    if uncooled:
        _fail("racks whose heat reaches no in-hall cooling unit (CDU, CRAH, rear door)", uncooled,
              "give them cooled_by=[...] a CDU/CRAH/RDHx that rejects_to a plant unit")

    def streams(sig: tuple) -> tuple[list[int], np.ndarray, np.ndarray]:
        liquid = [u for u in sig if kinds[u] in LIQUID_UNITS]
        air = [u for u in sig if kinds[u] == "crah"]
        members = liquid + air
        share = np.concatenate([_shares([rating[u] for u in liquid]), _shares([rating[u] for u in air])])
        is_liquid = np.array([True] * len(liquid) + [False] * len(air))
        return [ccol[u] for u in members], share, is_liquid

    ur, uc, uv = _by_signature(heat_sig, streams, lf)
    n_units = len(units)
    rack_to_unit = _sparse(ur, uc, uv, (n_units, len(rack_ids)))

    rtu = rack_to_unit.tocsr()
    unit_racks = {j: rtu.indices[rtu.indptr[j]:rtu.indptr[j + 1]] for j in range(n_units)}
    unit_k = np.zeros(n_units)
    unit_min_flow = np.zeros(n_units)
    unit_head = np.zeros(n_units)
    unit_setpoint = np.zeros(n_units)
    unit_max_water = np.full(n_units, np.inf)
    notes = []
    economizers, economizer_air = [], []
    for j, u in enumerate(units):
        members = unit_racks[j]
        common = Counter(techs[members]).most_common(1)[0][0] if members.size else None
        tech = unit_tech(catalog, kinds[u], common)
        dt = nodes[u].get("air_dt_c")
        unit_k[j] = tech.fan_kw_per_kw(float(dt)) if isinstance(dt, (int, float)) and tech.medium == "air" and dt > 0 \
            else tech.unit_power_kw_per_kw
        unit_min_flow[j] = UNIT_MIN_FLOW if tech.unit_min_flow is None else tech.unit_min_flow
        unit_head[j] = UNIT_FIXED_HEAD if tech.unit_fixed_head is None else tech.unit_fixed_head
        own = nodes[u].get("facility_supply_c")
        unit_setpoint[j] = float(own) if isinstance(own, (int, float)) else tech.facility_supply_c
        if nodes[u].get("air_economizer") is True:
            if kinds[u] != "crah":
                _fail("air_economizer is set on units that are not CRAHs", [u],
                      "outside air can only replace the return air of a CRAH; remove air_economizer there")
            air_dt = float(dt) if isinstance(dt, (int, float)) and dt > 0 else tech.air_dt_c
            if air_dt is None:
                _fail("CRAHs with an air_economizer but no supply/return air difference", [u],
                      f"give them air_dt_c (K) or use a cooling technology with air_dt_c (not {tech.id!r})")
            economizers.append(j)
            economizer_air.append((tech.supply_temp_c, tech.supply_temp_c + air_dt, unit_k[j] * air_dt))
        offset = tech.supply_temp_c - tech.facility_supply_c
        if members.size:
            limit = limit_liquid[members] if tech.medium == "liquid" else limit_air[members]
            unit_max_water[j] = float(np.min(limit)) - offset

    # ---------------------------------------------------------------- heat: units -> plant -> plant
    pl = {n: i for i, n in enumerate(plants)}
    gr, gc, gv = [], [], []
    stranded = []
    for j, u in enumerate(units):
        out = [p for p in heat_to.get(u, ()) if p in pl]
        if not out:
            if unit_racks[j].size:
                stranded.append(u)
            continue
        for p, s in zip(out, _shares([rating[p] for p in out])):
            gr.append(pl[p]), gc.append(j), gv.append(s)
    if stranded:
        _fail("cooling units that reject their heat to no plant unit", stranded,
              "give them rejects_to=[...] a chiller, dry cooler or cooling tower")
    unit_to_plant = _sparse(gr, gc, gv, (len(plants), n_units))
    pr, pc, pv = [], [], []
    downstream: dict[int, list[str]] = {}
    for p in plants:
        out = [q for q in heat_to.get(p, ()) if q in pl]
        downstream[pl[p]] = out
        for q, s in zip(out, _shares([rating[q] for q in out])):
            pr.append(pl[q]), pc.append(pl[p]), pv.append(s)
    plant_to_plant = _sparse(pr, pc, pv, (len(plants), len(plants)))
    plant_models = [_plant_model(catalog, kinds[p], nodes[p].get("model"), bool(downstream[pl[p]]), p) for p in plants]
    group_of = [nodes[p].get("group") if isinstance(nodes[p].get("group"), str) else None for p in plants]
    group_size = Counter(g for g in group_of if g is not None)
    plant_members = np.array([group_size[g] if g is not None else 1 for g in group_of], dtype=float)
    plant_levels = _levels(plants, plant_to_plant, upward=False)

    # setpoints flow downstream: a plant unit serves the coldest water any unit upstream of it needs
    setpoint = np.full(len(plants), np.inf)
    g = unit_to_plant.tocoo()
    np.minimum.at(setpoint, g.row, unit_setpoint[g.col])
    max_water = np.full(len(plants), np.inf)
    np.minimum.at(max_water, g.row, unit_max_water[g.col])
    pp = plant_to_plant.tocsr()
    upstream_of: dict[int, int] = {}
    for level in plant_levels:
        for q in level:
            ups = pp.indices[pp.indptr[q]:pp.indptr[q + 1]]
            if ups.size:
                setpoint[q] = min(setpoint[q], float(np.min(setpoint[ups])))
                upstream_of[q] = int(ups[np.argmax(pp.data[pp.indptr[q]:pp.indptr[q + 1]])])
    fed_by_units = np.asarray(unit_to_plant.sum(axis=1)).ravel() > 0
    specs = []
    for i, p in enumerate(plants):
        sp_c = float(setpoint[i]) if np.isfinite(setpoint[i]) else 20.0
        if i in upstream_of and not fed_by_units[i]:
            specs.append((plant_models[upstream_of[i]], plant_models[i], sp_c, "down"))
        else:
            down = downstream[i]
            down_model = plant_models[pl[down[0]]] if down else None
            specs.append((plant_models[i], down_model, sp_c, "first"))
    kinds_arr = np.array([kinds[p] for p in plants], dtype=object)
    limited = np.flatnonzero(fed_by_units & (kinds_arr != "chiller"))
    terminal = np.asarray(plant_to_plant.sum(axis=0)).ravel() < 0.5

    cool_kind = np.array([kinds[n] for n in cool_ids], dtype=object)
    cool_rating = np.array([rating[n] for n in cool_ids])
    return Topology(
        racks=racks, power_ids=power_ids, power_kind=np.array([kinds[n] for n in power_ids], dtype=object),
        power_rating=np.array([rating[n] for n in power_ids]), power_models=power_models,
        power_levels=levels, rack_feed=_sparse(rr, rc, rv, (n_power, len(rack_ids))), dev_feed=dev_feed,
        cool_feed=_sparse(cr, cc, cv, (n_power, len(cool_ids))), roots=roots, cool_ids=cool_ids, n_units=n_units,
        cool_kind=cool_kind, cool_rating=cool_rating, unit_k=unit_k, unit_min_flow=unit_min_flow,
        unit_head=unit_head, unit_setpoint=unit_setpoint,
        unit_max_water=unit_max_water, economizers=np.asarray(economizers, dtype=np.int64),
        economizer_air_c=np.asarray(economizer_air, dtype=float).reshape(-1, 3).T, rack_to_unit=rack_to_unit, unit_to_plant=unit_to_plant,
        plant_to_plant=plant_to_plant, plant_levels=plant_levels, plant_spec=specs, plant_models=plant_models,
        plant_members=plant_members, plant_terminal=terminal, limited=limited, limited_max_water=max_water[limited], notes=notes,
    )


def _scan(graph) -> tuple[dict, dict]:
    """Nodes and edges grouped by kind: the facility graph's cached scan, or one pass over a plain DiGraph."""
    if hasattr(graph, "by_kind") and hasattr(graph, "edges_by_kind"):
        return graph.by_kind(), graph.edges_by_kind()
    by_kind: dict[str, list] = {}
    for n, a in graph.nodes(data=True):
        by_kind.setdefault(a.get("kind"), []).append((n, a))
    edges: dict[str, list] = {}
    for u, v, k in graph.edges(data="kind"):
        edges.setdefault(k, []).append((u, v))
    return by_kind, edges


def _limit(value: float | None) -> float:
    return float(value) if value is not None else np.inf


def _plant_model(catalog, kind: str, model: Any, has_downstream: bool, node: str) -> HeatRejection:
    """Catalog heat-rejection entry of a plant unit: its `model`, else the default for its kind."""
    if isinstance(model, str) and model:
        entry = catalog.heat_rejection(model)
    elif kind == "chiller":
        entry = catalog.heat_rejection("chiller_water_cooled" if has_downstream else "chiller_air_cooled")
    else:
        entry = catalog.heat_rejection(PLANT_DEFAULT[kind])
    if (entry.kind == "chiller") != (kind == "chiller"):
        raise PhysicsError(f"plant unit {node!r} is a {kind} but its model {entry.id!r} is a {entry.kind}; "
                           "give it a model of its own kind (see `twin catalog heat_rejection`)")
    return entry


def _levels(ids: list[str], share, upward: bool = True) -> list[np.ndarray]:
    """Group nodes so each group only depends on earlier ones: row i of `share` lists what i depends on.

    Power (upward=True): share[parent, child], so a device comes after everything it feeds (loads first).
    Heat: share[downstream, upstream], so a plant unit comes after everything upstream of it.
    """
    n = len(ids)
    csr = share.tocsr()
    deps = [csr.indices[csr.indptr[i]:csr.indptr[i + 1]] for i in range(n)]
    level = np.full(n, -1)
    remaining = set(range(n))
    depth = 0
    while remaining:
        ready = [i for i in remaining if all(level[d] >= 0 for d in deps[i])]
        if not ready:
            cyc = sorted(remaining)[:5]
            raise PhysicsError(f"{'power' if upward else 'heat'} edges form a cycle through {[ids[i] for i in cyc]}; "
                               "energy must flow one way (see facility.validate())")
        level[ready] = depth
        remaining.difference_update(ready)
        depth += 1
    return [np.flatnonzero(level == d) for d in range(depth)]


__all__ = ["Topology", "build", "LIQUID_UNITS", "PLANT_DEFAULT"]
