"""Facility rules, each a function over the tables returning every `Problem` it finds (all reported at once)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import networkx as nx
import numpy as np
import pandas as pd

from twin.coverage import check_heat_streams, check_sources, check_throughput
from twin.errors import PlausibilityWarning, Problem, ValidationError, did_you_mean
from twin.plausible import check_finite, check_oversized, check_ranges
from twin.tables import parent_map
from twin.graph import (
    CONTAINS_PARENT, DEVICE_KINDS, EDGE_KINDS, HEAT_KINDS, NODE_KINDS, PLANT_KINDS, POWER_KINDS,
    SOURCE_KINDS, bulk,
)

if TYPE_CHECKING:
    from twin.facility import Facility

POWER_TARGETS = POWER_KINDS | {"rack"} | HEAT_KINDS
HEAT_SOURCES = {"rack"} | HEAT_KINDS


@dataclass
class Context:
    """What the rules share: the facility, its tables, and the kind of every node but the GPUs."""

    facility: Facility
    racks: pd.DataFrame
    kinds: dict[str, str]
    devices: pd.DataFrame
    acyclic: dict[str, bool] = field(default_factory=dict)
    _subgraphs: dict[str, nx.DiGraph] = field(default_factory=dict)
    _rack_links: dict[str, pd.DataFrame] = field(default_factory=dict)
    _loads: Loads | None = None

    def loads(self) -> Loads:
        """What every device carries (`device_loads`), computed once per context."""
        if self._loads is None:
            self._loads = device_loads(self)
        return self._loads

    def kinds_of(self, nodes: pd.Series) -> pd.Series:
        """Kinds of many nodes (GPUs, absent from `kinds`, are looked up in the graph one by one)."""
        kinds = nodes.map(self.kinds)
        missing = kinds.isna()
        if missing.any():
            attrs = self.facility.graph.nodes
            kinds[missing] = [attrs[n].get("kind") for n in nodes[missing]]
        return kinds

    def subgraph(self, edge_kind: str) -> nx.DiGraph:
        """The power or heat graph between devices (racks left out: they only end power and start heat)."""
        if edge_kind not in self._subgraphs:
            self._split(edge_kind)
        return self._subgraphs[edge_kind]

    def rack_links(self, edge_kind: str) -> pd.DataFrame:
        """(device, rack) pairs of one edge kind: the device feeding the rack, or cooling it."""
        if edge_kind not in self._rack_links:
            self._split(edge_kind)
        return self._rack_links[edge_kind]

    def _split(self, edge_kind: str) -> None:
        pairs = self.facility.graph.edges_by_kind().get(edge_kind, [])
        frame = pd.DataFrame(pairs, columns=["u", "v"], dtype=object)
        is_rack_u = (self.kinds_of(frame["u"]) == "rack").to_numpy()
        is_rack_v = (self.kinds_of(frame["v"]) == "rack").to_numpy()
        g = nx.DiGraph()
        g.add_edges_from(frame[~is_rack_u & ~is_rack_v].itertuples(index=False, name=None))
        self._subgraphs[edge_kind] = g
        links = pd.concat([
            pd.DataFrame({"device": frame["u"][is_rack_v & ~is_rack_u], "rack": frame["v"][is_rack_v & ~is_rack_u]}),
            pd.DataFrame({"device": frame["v"][is_rack_u & ~is_rack_v], "rack": frame["u"][is_rack_u & ~is_rack_v]}),
        ], ignore_index=True)
        self._rack_links[edge_kind] = links


def _missing(value) -> bool:
    """None, or the NaN pandas puts where a device lacks an attribute."""
    return value is None or (isinstance(value, float) and value != value)


def _p(where: str, rule: str, message: str, fix: str) -> Problem:
    return Problem(str(where), rule, message, fix)


def check_kinds(ctx: Context) -> list[Problem]:
    """Every node and edge has a known kind, and edges join the kinds they may join."""
    out = []
    for kind, pairs in ctx.facility.graph.by_kind().items():
        if kind in NODE_KINDS:
            continue
        for node, _ in pairs:
            out.append(_p(node, "node-kind", f"unknown kind {kind!r}", f"use one of the node kinds ({did_you_mean(kind, NODE_KINDS)})"))
    allowed = {"power": (POWER_KINDS, POWER_TARGETS), "heat": (HEAT_SOURCES, HEAT_KINDS)}
    for kind, pairs in ctx.facility.graph.edges_by_kind().items():
        if not pairs:
            continue
        frame = pd.DataFrame(pairs, columns=["u", "v"])
        ku, kv = ctx.kinds_of(frame["u"]), ctx.kinds_of(frame["v"])
        if kind == "contains":
            bad = ku.to_numpy(dtype=object) != kv.map(CONTAINS_PARENT).to_numpy(dtype=object)
            for u, v, a, b in zip(frame["u"][bad], frame["v"][bad], ku[bad], kv[bad]):
                out.append(_p(v, "contains", f"is a {b} contained by {a} {u!r}", f"a {b} belongs to a {CONTAINS_PARENT.get(b, 'nothing')}"))
        elif kind in allowed:
            src, dst = allowed[kind]
            bad = ~(ku.isin(src) & kv.isin(dst)).to_numpy()
            for u, v, a, b in zip(frame["u"][bad], frame["v"][bad], ku[bad], kv[bad]):
                out.append(_p(u, f"{kind}-edge", f"{kind} edge {u!r} ({a}) -> {v!r} ({b}) joins kinds that cannot be joined",
                              f"{kind} edges run from {sorted(src)} to {sorted(dst)}"))
        else:
            for u, v in pairs:
                out.append(_p(u, "edge-kind", f"edge {u!r} -> {v!r} has unknown kind {kind!r}", "use 'power', 'heat' or 'contains'"))
    return out


def check_structure(ctx: Context) -> list[Problem]:
    """Each hall, row and rack sits in its parent; each rack holds exactly its system's GPUs (none when the
    facility is lean, `gpu_nodes=False`)."""
    out = []
    for kind in ("hall", "row"):
        table = ctx.facility.table(kind)
        for node in table.index[table[CONTAINS_PARENT[kind]].isna()]:
            out.append(_p(node, "contains", f"{kind} is not inside a {CONTAINS_PARENT[kind]}",
                          f"add it with add_{kind}() or a contains edge from its {CONTAINS_PARENT[kind]}"))
    racks = ctx.racks
    for node in racks.index[racks["row"].isna()]:
        out.append(_p(node, "contains", "rack is not inside a row", "add racks with add_racks(row, ...)"))
    have = pd.Series(list(parent_map(ctx.facility, "rack").values()), dtype=object).value_counts()
    have = have.reindex(racks.index, fill_value=0).to_numpy()
    lean = not ctx.facility.gpu_nodes
    want = np.zeros(len(racks), dtype=np.int64) if lean else racks["gpus"].to_numpy()
    for node, h, w in zip(racks.index[have != want], have[have != want], want[have != want]):
        given = "the facility is built without GPU nodes (gpu_nodes=False)" if lean else \
            f"its system and node count give {w}"
        out.append(_p(node, "gpu-count", f"holds {h} GPU nodes but {given}",
                      "re-populate the rack with Facility.populate() (Facility.set_gpu_nodes switches the whole facility)"))
    return out


def check_acyclic(ctx: Context) -> list[Problem]:
    """Power and heat subgraphs are DAGs (energy flows one way)."""
    out = []
    for kind in ("power", "heat"):
        g = ctx.subgraph(kind)
        ok = nx.is_directed_acyclic_graph(g)
        ctx.acyclic[kind] = ok
        if not ok:
            cycle = [u for u, _ in nx.find_cycle(g)]
            out.append(_p(cycle[0], f"{kind}-dag", f"{kind} edges form a cycle: {' -> '.join(cycle + cycle[:1])}",
                          f"remove one {kind} edge of the cycle so {kind} flows one way"))
    return out


def check_reach(ctx: Context) -> list[Problem]:
    """Every rack is fed from a grid source and its heat reaches a final heat sink."""
    out = []
    power = ctx.subgraph("power")
    sources = [n for n in power if ctx.kinds.get(n) in SOURCE_KINDS] + [
        n for n in ctx.rack_links("power")["device"] if ctx.kinds.get(n) in SOURCE_KINDS]
    fed = set(sources).union(*(nx.descendants(power, s) for s in sources if s in power))
    heat = ctx.subgraph("heat")
    sinks = [n for n, k in ctx.kinds.items() if k in PLANT_KINDS and (n not in heat or heat.out_degree(n) == 0)]
    cooled = set(sinks).union(*(nx.ancestors(heat, s) for s in sinks if s in heat))
    for rule, edge, reached, message, fix in (
        ("fed", "power", fed, "rack is not fed from any grid source",
         "give it fed_by=[...] a PDU/busway/UPS on a path from a 'grid' device"),
        ("cooled", "heat", cooled, "rack heat reaches no heat-rejection plant (chiller, dry cooler, cooling tower)",
         "give it cooled_by=[...] a CDU/CRAH/RDHx that rejects_to a plant unit"),
    ):
        links = ctx.rack_links(edge)
        ok = set(links["rack"][links["device"].isin(reached)])
        out += [_p(rack, rule, message, fix) for rack in ctx.racks.index if rack not in ok]
    return out


def check_ratings(ctx: Context) -> list[Problem]:
    """Every power and cooling device has a positive numeric rating_kw."""
    out = []
    if ctx.devices.empty:
        return out
    rating = pd.to_numeric(ctx.devices.get("rating_kw"), errors="coerce")
    bad = ~(rating > 0) | ~np.isfinite(rating)
    for node in ctx.devices.index[bad.to_numpy()]:
        given = ctx.facility.graph.nodes[node].get("rating_kw")
        what = "missing" if given is None else f"{given!r}"
        out.append(_p(node, "rating", f"rating_kw is {what}; it must be a positive number of kW",
                      "set rating_kw to the device's nameplate capacity in kW"))
    return out


def check_catalog_ids(ctx: Context) -> list[Problem]:
    """Systems, cooling technologies and equipment models exist in the catalog."""
    out = []
    cat = ctx.facility.catalog
    racks = ctx.racks
    for node, sys_id in racks["system"].dropna().items():
        if sys_id not in cat.systems:
            out.append(_p(node, "system", f"unknown system {sys_id!r}", did_you_mean(sys_id, cat.systems)))
    halls = ctx.facility.table("hall")
    for node, tech in pd.concat([halls.get("cooling", pd.Series(dtype=object)), racks["cooling"]]).items():
        if tech is None or tech not in cat.cooling:
            out.append(_p(node, "cooling", f"unknown cooling technology {tech!r}", did_you_mean(str(tech), cat.cooling)))
    if "model" in ctx.devices:
        known = {**cat.power_equipment, **cat.heat_rejection_units}
        for node, model in ctx.devices["model"].dropna().items():
            if not isinstance(model, str) or model not in known:
                out.append(_p(node, "model", f"unknown equipment model {model!r}", did_you_mean(model, known)))
    return out


def check_racks(ctx: Context) -> list[Problem]:
    """Node count allowed for the system, cap within the system's range, kW within the cooling limit."""
    out = []
    cat = ctx.facility.catalog
    racks = ctx.racks[ctx.racks["system"].isin(cat.systems.keys())]
    for node, row in _rack_failures(racks, cat):
        spec = cat.systems[row["system"]]
        if row["nodes"] not in spec.nodes_per_rack:
            out.append(_p(node, "rack-nodes", f"holds {row['nodes']} {spec.id} nodes; allowed {list(spec.nodes_per_rack)}",
                          f"set nodes to one of {list(spec.nodes_per_rack)}"))
            continue
        cap = row["cap_w"]
        low = spec.gpu_tdp_w * _min_cap_fraction(cat)
        if not (low - 1e-9 <= cap <= spec.gpu_tdp_w + 1e-9):
            out.append(_p(node, "power-cap", f"power_cap_w {cap:g} W is outside {low:g}-{spec.gpu_tdp_w:g} W for {spec.id}",
                          "set power_cap_w between the minimum cap and the GPU TDP (or None for TDP)"))
        tech = cat.cooling.get(row["cooling"])
        if tech is None:
            continue
        if tech.id not in spec.cooling:
            out.append(_p(node, "cooling-compat", f"{spec.id} cannot be cooled by {tech.id!r}",
                          f"use a hall cooling of {list(spec.cooling)}"))
        if row["nameplate_kw"] > tech.max_rack_kw + 1e-9:
            out.append(_p(node, "rack-density", f"rack draws {row['nameplate_kw']:.1f} kW but its cooling {tech.id!r} "
                          f"supports at most {tech.max_rack_kw:g} kW", "lower nodes or power_cap_w, or use denser cooling"))
    return out


def _rack_failures(racks: pd.DataFrame, cat) -> list:
    """The racks some vectorized test flags; only these get the detailed per-rack messages."""
    tdp = racks["gpu_tdp_w"].to_numpy()
    low = tdp * _min_cap_fraction(cat)
    cap = racks["cap_w"].to_numpy()
    limit = racks["cooling"].map(lambda t: cat.cooling[t].max_rack_kw if t in cat.cooling else np.inf).to_numpy()
    pairs = {(s, c): (c in cat.systems[s].cooling or c not in cat.cooling) for s, c in set(zip(racks["system"], racks["cooling"]))}
    ok_pair = np.array([pairs[(s, c)] for s, c in zip(racks["system"], racks["cooling"])], dtype=bool)
    allowed = {s: set(cat.systems[s].nodes_per_rack) for s in racks["system"].unique()}
    ok_nodes = np.array([n in allowed[s] for s, n in zip(racks["system"], racks["nodes"])], dtype=bool)
    flagged = ~ok_nodes | ~ok_pair | ~((cap >= low - 1e-9) & (cap <= tdp + 1e-9)) | (racks["nameplate_kw"].to_numpy() > limit + 1e-9)
    return list(racks[flagged].iterrows())


def _min_cap_fraction(cat) -> float:
    curve = cat.power_cap_curves.get("measured_default")
    return curve.min_cap_fraction if curve is not None else 0.0


def parse_redundancy(text) -> Callable[[int], int] | None:
    """Spare members for a scheme: 'N' -> 0, 'N+k' -> k, '2N' -> half; None if unreadable."""
    if text in (None, "N"):
        return lambda n: 0
    s = str(text).replace(" ", "").upper()
    if s == "2N":
        return lambda n: n // 2
    m = re.fullmatch(r"N\+(\d+)", s)
    return (lambda n, k=int(m.group(1)): k) if m else None


def groups(devices: pd.DataFrame) -> dict[str, list[str]]:
    """Redundancy groups by name; an ungrouped device is a group of its own."""
    out: dict[str, list[str]] = {}
    named = devices["group"] if "group" in devices else pd.Series(None, index=devices.index, dtype=object)
    for node, g in named.items():
        out.setdefault(g if isinstance(g, str) else node, []).append(node)
    return out


def check_redundancy(ctx: Context) -> list[Problem]:
    """Members of a group share kind and scheme, and are enough for the scheme."""
    out = []
    dev = ctx.devices
    for name, members in groups(dev).items():
        kinds = {ctx.kinds[m] for m in members}
        raw = [dev.at[m, "redundancy"] if "redundancy" in dev else None for m in members]
        schemes = {str(s) for s in raw if not _missing(s)} or {None}
        where = f"group {name} ({', '.join(members)})" if len(members) > 1 or name != members[0] else name
        if len(kinds) > 1:
            out.append(_p(where, "redundancy", f"mixes device kinds {sorted(kinds)}", "a group holds devices of one kind"))
        if len(schemes) > 1:
            out.append(_p(where, "redundancy", f"members disagree on redundancy {sorted(map(str, schemes))}",
                          "give every member the same redundancy"))
            continue
        scheme = schemes.pop()
        spares = parse_redundancy(scheme)
        if spares is None:
            out.append(_p(where, "redundancy", f"redundancy {scheme!r} is not N, N+k or 2N", "use 'N', 'N+1', 'N+2' or '2N'"))
        elif scheme is not None and str(scheme).upper().replace(" ", "") == "2N" and (len(members) < 2 or len(members) % 2):
            out.append(_p(where, "redundancy", f"2N needs an even number (>= 2) of members, has {len(members)}",
                          "add or remove a member"))
        elif len(members) - spares(len(members)) < 1:
            out.append(_p(where, "redundancy", f"{scheme} needs more than {spares(len(members))} members, has {len(members)}",
                          "add members to the group"))
    return out


class Loads:
    """Per device, the racks whose load it carries and the kW of each, kept sparse (the rack positions it
    reaches and their kW): memory grows with the (device, rack) pairs, not with devices x racks."""

    def __init__(self) -> None:
        self._at: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __contains__(self, node: object) -> bool:
        return node in self._at

    def set(self, node: str, racks: np.ndarray, kw: np.ndarray) -> None:
        self._at[node] = (racks, kw)

    def racks(self, node: str) -> np.ndarray:
        """Positions (in the rack table) of the racks a device carries."""
        return self._at[node][0]

    def total(self, node: str) -> float:
        """kW one device carries."""
        return float(self._at[node][1].sum())

    def group(self, members: list[str]) -> float:
        """kW a group carries: every rack reaching any member, at the largest share any member takes of it."""
        parts = [self._at[m] for m in members if m in self._at]
        if not parts:
            return 0.0
        if len(parts) == 1:
            return float(parts[0][1].sum())
        idx = np.concatenate([p[0] for p in parts])
        val = np.concatenate([p[1] for p in parts])
        order = np.lexsort((-val, idx))
        first = np.ones(len(idx), dtype=bool)
        first[1:] = idx[order][1:] != idx[order][:-1]
        return float(val[order][first].sum())


def _union(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))


def device_loads(ctx: Context) -> Loads:
    """Per device, the kW it carries from each rack: power downstream, heat upstream by stream share.

    Reach is propagated as sorted rack-position arrays in topological order (children before parents for
    power, units before plants for heat): time and memory linear in the (device, rack) pairs.
    """
    racks = ctx.racks
    col = pd.Series(np.arange(len(racks)), index=racks.index)
    kw = np.nan_to_num(racks["nameplate_kw"].to_numpy(dtype=float))
    lf = np.nan_to_num(racks["liquid_fraction"].to_numpy(dtype=float))
    loads = Loads()
    if ctx.acyclic.get("power", True):
        power = ctx.subgraph("power")
        devices = [n for n in reversed(list(nx.topological_sort(power))) if ctx.kinds.get(n) in POWER_KINDS]
        devices += [n for n in ctx.rack_links("power")["device"].unique() if n not in power and ctx.kinds.get(n) in POWER_KINDS]
        own = _direct(ctx.rack_links("power"), col)
        reach: dict[str, np.ndarray] = {}
        for node in devices:
            parts = [own[node]] if node in own else []
            parts += [reach[c] for c in (power.succ[node] if node in power else ()) if c in reach]
            reach[node] = _union(parts)
            loads.set(node, reach[node], kw[reach[node]])
    if ctx.acyclic.get("heat", True):
        heat = ctx.subgraph("heat")
        order = [n for n in nx.topological_sort(heat) if ctx.kinds.get(n) in HEAT_KINDS]
        order += [n for n in ctx.rack_links("heat")["device"].unique() if n not in heat and ctx.kinds.get(n) in HEAT_KINDS]
        own = _direct(ctx.rack_links("heat"), col)
        share = {"cdu": lf, "rdhx": lf, "crah": 1.0 - lf}
        streams: dict[str, dict[str, np.ndarray]] = {}
        for node in order:
            parts: dict[str, list[np.ndarray]] = {}
            if node in own and len(own[node]):
                parts[ctx.kinds[node]] = [own[node]]
            for parent in (heat.pred[node] if node in heat else ()):
                for stream, seen in streams.get(parent, {}).items():
                    parts.setdefault(stream, []).append(seen)
            mine = streams[node] = {stream: _union(p) for stream, p in parts.items()}
            idx = np.concatenate([np.zeros(0, np.int64), *mine.values()])
            val = np.concatenate([np.zeros(0), *(kw[seen] * share[s][seen] for s, seen in mine.items())])
            at, inverse = np.unique(idx, return_inverse=True)
            loads.set(node, at, np.bincount(inverse, weights=val, minlength=len(at)))
    return loads


def _direct(frame: pd.DataFrame, col: pd.Series) -> dict[str, np.ndarray]:
    """device -> sorted positions of the racks it links to directly (rows of `frame`)."""
    if not len(frame):
        return {}
    frame = frame[frame["rack"].isin(col.index)]
    pos = col[frame["rack"]].to_numpy()
    return {d: np.unique(p) for d, p in pd.Series(pos).groupby(frame["device"].to_numpy(), sort=False)}


def check_loads(ctx: Context) -> list[Problem]:
    """Nameplate load carried by each device group fits its usable capacity (ratings less spares)."""
    out = []
    dev = ctx.devices
    if dev.empty:
        return out
    loads = ctx.loads()
    rating = pd.to_numeric(dev["rating_kw"], errors="coerce").fillna(0.0)
    for name, members in groups(dev).items():
        if not all(m in loads for m in members):
            continue
        scheme = dev.at[members[0], "redundancy"] if "redundancy" in dev else None
        spares = parse_redundancy(scheme if isinstance(scheme, str) else None)
        if spares is None:
            continue
        ratings = np.sort(rating[members].to_numpy())
        usable = ratings[: len(members) - spares(len(members))].sum() if spares(len(members)) else ratings.sum()
        load = loads.group(members)
        if load > usable + 1e-6:
            what = "heat" if ctx.kinds[members[0]] in HEAT_KINDS else "rack nameplate power"
            where = name if members == [name] else f"group {name} ({', '.join(members)})"
            out.append(_p(where, "capacity", f"carries {load:,.1f} kW of {what} but its usable capacity is {usable:,.1f} kW"
                          + (f" ({scheme})" if isinstance(scheme, str) else ""),
                          "raise rating_kw, add members, or move racks to another feed/cooling unit"))
    return out


def check_positions(ctx: Context) -> list[Problem]:
    """Rack footprints lie inside their hall, and no two racks stand on the same spot."""
    out = []
    racks = ctx.racks
    halls = ctx.facility.table("hall")
    if racks.empty or halls.empty:
        return out
    h = halls.reindex(racks["hall"].to_numpy())
    x, y = racks["x_m"].to_numpy(float), racks["y_m"].to_numpy(float)
    hw, hd = racks["width_m"].to_numpy(float) / 2, racks["depth_m"].to_numpy(float) / 2
    x0, y0 = h["x_m"].to_numpy(float), h["y_m"].to_numpy(float)
    x1, y1 = x0 + h["width_m"].to_numpy(float), y0 + h["depth_m"].to_numpy(float)
    inside = (x - hw >= x0 - 1e-6) & (x + hw <= x1 + 1e-6) & (y - hd >= y0 - 1e-6) & (y + hd <= y1 + 1e-6)
    for node in racks.index[~inside]:
        out.append(_p(node, "position", f"footprint at ({racks.at[node, 'x_m']:g}, {racks.at[node, 'y_m']:g}) m lies outside hall "
                      f"{racks.at[node, 'hall']}", "move the rack or enlarge the hall (width_m/depth_m)"))
    spot = pd.DataFrame({"x": np.round(x, 2), "y": np.round(y, 2)}, index=racks.index)
    for node in spot.index[spot.duplicated(keep="first").to_numpy()]:
        out.append(_p(node, "position", f"stands on the same spot as another rack ({spot.at[node, 'x']:g}, {spot.at[node, 'y']:g}) m",
                      "give each rack its own x_m/y_m"))
    return out


def check_site(ctx: Context) -> list[Problem]:
    """The grid limit, when given, is a positive number of MW."""
    limit = ctx.facility.grid_limit_mw
    if limit is None:
        return []
    try:
        ok = float(limit) > 0 and np.isfinite(float(limit))
    except (TypeError, ValueError):
        ok = False
    return [] if ok else [_p("site.grid_limit_mw", "grid-limit", f"grid limit is {limit!r}", "set a positive number of MW")]


RULES: tuple[Callable[[Context], list[Problem]], ...] = (
    check_site, check_finite, check_ranges, check_kinds, check_structure, check_acyclic, check_reach, check_sources,
    check_heat_streams, check_ratings, check_catalog_ids, check_racks, check_throughput, check_redundancy,
    check_loads, check_positions,
)
WARNINGS: tuple[Callable[[Context], list[Problem]], ...] = (check_oversized,)
"""Rules whose findings are reported as a PlausibilityWarning (legitimate in some designs), not errors."""


def validate(facility: Facility, *, raise_on_error: bool = True) -> list[Problem]:
    """Run every rule; raise a ValidationError listing every problem (or return them). Findings of the
    `WARNINGS` rules (a valid facility only) come as one PlausibilityWarning listing them."""
    with bulk():
        ctx = context(facility)
        problems = [p for rule in RULES for p in rule(ctx)]
        notes = [] if problems else [p for rule in WARNINGS for p in rule(ctx)]
    if notes:
        shown = "\n".join(f"  - {p}" for p in notes[:20]) + (f"\n  ... and {len(notes) - 20} more" if len(notes) > 20 else "")
        warnings.warn(PlausibilityWarning(f"facility {facility.name!r}: {len(notes)} plausibility warning(s):\n{shown}"),
                      stacklevel=3)
    if problems and raise_on_error:
        raise ValidationError(problems, subject=f"facility {facility.name!r}")
    return problems


def context(facility: Facility) -> Context:
    """The shared inputs of the rules (tables, kinds) for one facility."""
    index = facility.graph.by_kind()
    kinds = {n: kind for kind, pairs in index.items() if kind != "gpu" for n, _ in pairs}
    frames = [facility.table(k) for k in sorted(DEVICE_KINDS) if k in index]
    devices = pd.concat(frames) if frames else pd.DataFrame(columns=["rating_kw"])
    return Context(facility, facility.table("rack"), kinds, devices)
