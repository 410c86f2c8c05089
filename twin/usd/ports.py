"""A facility's edges as connection points: which ports each node has, which port links to which, and manifolds.

Power edges end on one input port per feed (`power_in_0`, `power_in_1`, ...) and leave from one output port per
source. Heat edges leave a rack through a manifold: racks whose heat goes to the same units share one manifold
(a hall's coolant header or air return), which then links to those units' ports, so a hall of 400 racks on 34
CDUs is 434 links, not 13,600. Everything else links port to port. An edge none of these fit (or one with
attributes besides `kind`) is kept verbatim for `twin:otherEdges`. Pure Python over the graph's edge index.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, repeat
from operator import eq
from typing import TYPE_CHECKING, Any

from twin.graph import CONTAINS_PARENT
from twin.usd.schema import POWER, Link, Port, link_for

if TYPE_CHECKING:
    from twin.facility import Facility


@dataclass
class Manifold:
    """Racks whose heat of one link type goes to the same units: members' source ports -> the units' ports."""

    link: Link
    racks: list[str]
    targets: list[str]


@dataclass
class Ports:
    """Per node its ports (name -> Port) and per source port the target (node, port) pairs it links to."""

    ports: dict[str, dict[str, Port]] = field(default_factory=dict)
    links: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    manifolds: list[Manifold] = field(default_factory=list)
    rack_links: dict[str, tuple[int, tuple[Link, ...]]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    gpus: dict[str, int] = field(default_factory=dict)
    other_nodes: list[list[Any]] = field(default_factory=list)
    other_edges: list[list[Any]] = field(default_factory=list)


def build(facility: Facility) -> Ports:
    """Every edge of the facility as hierarchy, GPU counts, ports and links, or kept verbatim (module docstring)."""
    g = facility.graph
    nodes, succ = g._node, g._succ  # the raw dicts: this loop runs once per edge (~250k at 1 GW)
    out = Ports()
    carried = _gpus(facility, out)
    rack_heat: dict[str, dict[Link, list[str]]] = {}
    power_in: dict[str, int] = {}
    kinds: dict[tuple, Link | None] = {}
    for kind, pairs in g.edges_by_kind().items():
        if kind == "contains":
            for u, v in pairs:
                if u in carried and v in carried and _structural(nodes, u, v) and v not in out.parent:
                    out.parent[v] = u
                else:
                    out.other_edges.append([u, v, dict(succ[u][v])])
            continue
        if kind == "heat":
            pairs = _rack_heat(facility, pairs, rack_heat)
        for u, v in pairs:
            attrs = succ[u][v]
            ku, kv = nodes[u].get("kind"), nodes[v].get("kind")
            key = (kind, ku, kv)
            link = kinds[key] if key in kinds else kinds.setdefault(key, link_for(kind, ku, kv))
            if link is None or len(attrs) != 1 or u not in carried or v not in carried:
                out.other_edges.append([u, v, dict(attrs)])
            elif link is POWER:
                k = power_in.get(v, 0)
                power_in[v] = k + 1
                target = numbered(k)
                out.ports.setdefault(u, {})[link.source.name] = link.source
                out.ports.setdefault(v, {})[target.name] = target
                out.links.setdefault((u, link.source.name), []).append((v, target.name))
            elif ku == "rack":
                rack_heat.setdefault(u, {}).setdefault(link, []).append(v)
            else:
                _add_link(out, link, u, v)
    _manifolds(out, rack_heat)
    for rack in facility.nodes_of("rack"):
        out.rack_links[rack] = (power_in.get(rack, 0), tuple(sorted(rack_heat.get(rack, {}), key=_by_name)))
    return out


def _rack_heat(facility: Facility, pairs: list[tuple[str, str]], rack_heat: dict) -> list[tuple[str, str]]:
    """Group the heat edges from racks to cooling units (most of a large graph's edges) into `rack_heat`
    (rack -> link -> units) with array operations; returns the heat edges left for the per-edge loop."""
    from itertools import repeat

    import numpy as np

    from twin.graph import DEVICE_KINDS
    from twin.usd.schema import AIR, AIR_UNITS, TCS

    g = facility.graph
    scan = g.scan()
    racks = [n for n, _ in scan.by_kind.get("rack", [])]
    units = [(n, k) for k in DEVICE_KINDS for n, _ in scan.by_kind.get(k, [])]
    if not racks or not units or not pairs:
        return pairs
    rack_pos = dict(zip(racks, range(len(racks))))
    unit_pos = dict(zip((n for n, _ in units), range(len(units))))
    us, vs = zip(*pairs)
    r = np.fromiter(map(rack_pos.get, us, repeat(-1)), dtype=np.int64, count=len(us))
    d = np.fromiter(map(unit_pos.get, vs, repeat(-1)), dtype=np.int64, count=len(vs))
    plain = np.fromiter(map(len, map(dict.__getitem__, map(g._succ.__getitem__, us), vs)), dtype=np.int64,
                        count=len(us)) == 1
    sel = (r >= 0) & (d >= 0) & plain
    if not sel.any():
        return pairs
    air = np.array([k in AIR_UNITS for _, k in units])
    rs, ds = r[sel], d[sel]
    la = air[ds]
    order = np.lexsort((np.flatnonzero(sel), la, rs))  # by rack, then link, keeping edge order within
    rs, ds, la = rs[order], ds[order], la[order]
    cut = np.flatnonzero((np.diff(rs) != 0) | (np.diff(la) != 0)) + 1
    names = [n for n, _ in units]
    for part_r, part_d, part_a in zip(np.split(rs, cut), np.split(ds, cut), np.split(la, cut)):
        link = AIR if part_a[0] else TCS
        rack_heat.setdefault(racks[part_r[0]], {})[link] = [names[i] for i in part_d.tolist()]
    return [pairs[i] for i in np.flatnonzero(~sel).tolist()]


def _gpus(facility: Facility, out: Ports) -> set[str]:
    """Count each rack's GPUs where they are what `populate` makes (ids `<rack>/gpu-NN`, no attributes of their
    own); any other GPU and every node of a kind the stage has no prim for is kept verbatim. Returns the ids
    that get a prim."""
    from twin.facility import SITE, gpu_ids
    from twin.graph import DEVICE_KINDS

    g = facility.graph
    scan = g.scan()
    nodes = g._node  # the raw dict: these loops run once per GPU (~400k at 1 GW)
    counts = Counter(scan.gpu_rack.values())
    racks = facility.nodes_of("rack")
    expected = list(chain.from_iterable(gpu_ids(rack, counts[rack]) for rack in racks if rack in counts))
    bare = sum(map(len, map(nodes.__getitem__, scan.gpu_rack))) == len(scan.gpu_rack)  # no GPU has own attributes
    owners = chain.from_iterable(repeat(rack, counts[rack]) for rack in racks if rack in counts)
    if bare and len(expected) == len(scan.gpu_rack) and all(map(eq, map(scan.gpu_rack.get, expected), owners)):
        out.gpus.update((rack, counts.get(rack, 0)) for rack in racks)  # every rack's GPUs as populate makes them
    else:
        _gpus_one_by_one(facility, out, bare)
    carried = {SITE} if SITE in nodes and nodes[SITE].get("kind") == "site" else set()
    for kind, pairs in scan.by_kind.items():
        if kind in DEVICE_KINDS or kind in ("hall", "row", "rack"):
            carried.update(n for n, _ in pairs)
        elif kind != "gpu":
            out.other_nodes += [[n, dict(d)] for n, d in pairs if n not in carried]
    gpus = scan.by_kind.get("gpu", [])
    if len(gpus) != len(scan.gpu_rack):  # GPUs in no rack
        out.other_nodes += [[n, dict(d)] for n, d in gpus if n not in scan.gpu_rack]
    return carried


def _gpus_one_by_one(facility: Facility, out: Ports, bare: bool) -> None:
    from twin.facility import gpu_ids

    g = facility.graph
    nodes = g._node
    kids: dict[str, list[str]] = {}
    for gpu, rack in g.scan().gpu_rack.items():
        kids.setdefault(rack, []).append(gpu)
    for rack in facility.nodes_of("rack"):
        own = kids.get(rack, [])
        expected = gpu_ids(rack, len(own))
        canonical = (own == expected or set(own) == set(expected)) and (bare or all(len(nodes[k]) == 1 for k in own))
        out.gpus[rack] = len(own) if canonical else 0
        if not canonical:
            out.other_nodes += [[k, dict(nodes[k])] for k in own]
            out.other_edges += [[rack, k, dict(g._succ[rack][k])] for k in own]


def _by_name(link: Link) -> str:
    return link.source.name


def _structural(nodes, u: str, v: str) -> bool:
    """A contains edge the prim hierarchy carries: site -> hall -> row -> rack (rack -> GPU is apart already)."""
    return CONTAINS_PARENT.get(nodes[v].get("kind")) == nodes[u].get("kind")


def _add_link(out: Ports, link: Link, u: str, v: str) -> None:
    for node, port, companion in ((u, link.source, link.companions[0]), (v, link.target, link.companions[1])):
        own = out.ports.setdefault(node, {})
        own[port.name] = port
        own.setdefault(companion.name, companion)
    out.links.setdefault((u, link.source.name), []).append((v, link.target.name))


def _manifolds(out: Ports, rack_heat: dict[str, dict[Link, list[str]]]) -> None:
    groups: dict[tuple[Link, frozenset[str]], Manifold] = {}
    for rack, by_link in rack_heat.items():
        for link, targets in by_link.items():
            key = (link, frozenset(targets))
            m = groups.get(key)
            if m is None:
                m = groups[key] = Manifold(link, [], list(targets))
                out.manifolds.append(m)
                for t in targets:
                    own = out.ports.setdefault(t, {})
                    own[link.target.name] = link.target
                    own.setdefault(link.companions[1].name, link.companions[1])
            m.racks.append(rack)


@lru_cache(maxsize=None)
def numbered(k: int) -> Port:
    p = POWER.target
    return Port(f"{p.name}_{k}", p.domain, p.direction, p.system, p.disconnect, p.edge, p.end)


def rack_ports(n_power_in: int, links: tuple[Link, ...]) -> dict[str, Port]:
    """The ports of a rack with `n_power_in` feeds whose heat leaves by `links` (the same for all such racks)."""
    ports = {numbered(k).name: numbered(k) for k in range(n_power_in)}
    for link in links:
        ports[link.source.name] = link.source
        ports.setdefault(link.companions[0].name, link.companions[0])
    return ports

