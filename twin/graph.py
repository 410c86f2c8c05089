"""The facility's networkx graph, which counts its own changes so derived tables know when to rebuild."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Iterable

import networkx as nx

STRUCTURE_KINDS = frozenset({"site", "hall", "row", "rack", "gpu"})
POWER_KINDS = frozenset(
    {"grid", "substation", "transformer", "generator", "battery", "ups", "switchboard", "busway", "pdu"}
)
UNIT_KINDS = frozenset({"cdu", "crah", "rdhx"})
PLANT_KINDS = frozenset({"chiller", "dry_cooler", "cooling_tower"})
HEAT_KINDS = UNIT_KINDS | PLANT_KINDS
DEVICE_KINDS = POWER_KINDS | HEAT_KINDS
NODE_KINDS = STRUCTURE_KINDS | DEVICE_KINDS
EDGE_KINDS = frozenset({"power", "heat", "contains"})
SOURCE_KINDS = frozenset({"grid"})
FEEDLESS_KINDS = frozenset({"grid", "generator", "battery"})
"""Power devices that may have no feed (their energy comes from outside the graph); any other needs fed_by."""
CONTAINS_PARENT = {"hall": "site", "row": "hall", "rack": "row", "gpu": "rack"}


class bulk:
    """Pause the cyclic garbage collector while building many small containers (a 1 GW graph has ~10^6).

    Measured: a 1 GW facility builds ~1.8x faster this way; nothing built here forms reference cycles.
    Nests: only the outermost block turns the collector back on.
    """

    __slots__ = ("enabled",)

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.enabled:
            gc.enable()


class _Clock:
    """Global change counters: `now` moves on any edit of any facility graph, `structure` only when
    nodes or edges come or go or a `kind` changes (what the kind and edge indexes depend on)."""

    now = 0
    structure = 0


def _touch(structural: bool) -> None:
    _Clock.now += 1
    if structural:
        _Clock.structure += 1


class TrackedDict(dict):
    """An attribute dict that moves the change clocks on every write."""

    __slots__ = ()

    def __setitem__(self, key, value):
        _touch(key == "kind")
        super().__setitem__(key, value)

    def __delitem__(self, key):
        _touch(key == "kind")
        super().__delitem__(key)

    def update(self, *args, **kwargs):
        _touch("kind" in kwargs or bool(args and (not isinstance(args[0], dict) or "kind" in args[0])))
        super().update(*args, **kwargs)

    def pop(self, key, *default):
        _touch(key == "kind")
        return super().pop(key, *default)

    def popitem(self):
        _touch(True)
        return super().popitem()

    def setdefault(self, key, default=None):
        _touch(key == "kind")
        return super().setdefault(key, default)

    def clear(self):
        _touch(True)
        super().clear()

    def __ior__(self, other):
        _touch(True)
        return super().__ior__(other)

    def __reduce__(self):
        return (dict, (dict(self),))


@dataclass(frozen=True)
class Scan:
    """One pass over a graph: nodes by kind, edges by kind (rack -> GPU containment apart), GPU parents."""

    by_kind: dict[str, list[tuple[str, dict]]]
    edges: dict[str, list[tuple[str, str]]]
    gpu_rack: dict[str, str]


def _ticking(name: str):
    method = getattr(nx.DiGraph, name)

    def wrapper(self, *args, **kwargs):
        _touch(True)
        return method(self, *args, **kwargs)

    wrapper.__name__ = name
    wrapper.__doc__ = method.__doc__
    return wrapper


class FacilityGraph(nx.DiGraph):
    """A DiGraph whose structural and attribute edits are all counted (see `version`)."""

    node_attr_dict_factory = TrackedDict
    edge_attr_dict_factory = TrackedDict
    graph_attr_dict_factory = TrackedDict

    add_node = _ticking("add_node")
    add_nodes_from = _ticking("add_nodes_from")
    remove_node = _ticking("remove_node")
    remove_nodes_from = _ticking("remove_nodes_from")
    add_edge = _ticking("add_edge")
    add_edges_from = _ticking("add_edges_from")
    remove_edge = _ticking("remove_edge")
    remove_edges_from = _ticking("remove_edges_from")
    clear = _ticking("clear")
    clear_edges = _ticking("clear_edges")
    update = _ticking("update")

    def add_new_nodes(self, items: Iterable[tuple[str, dict]]) -> None:
        """Add many nodes known to be new, as (id, attributes) pairs, at bulk speed (indexes kept current)."""
        node, succ, pred = self._node, self._succ, self._pred
        scan = self._current_scan()
        with bulk():
            for n, attrs in items:
                data = node[n] = TrackedDict(attrs)
                succ[n] = {}
                pred[n] = {}
                if scan is not None:
                    scan.by_kind.setdefault(data.get("kind"), []).append((n, data))
        self._moved(scan)

    def add_new_edges(self, edges: Iterable[tuple[str, str]], **attrs) -> None:
        """Add many edges between existing nodes, all with the same attributes (each its own dict)."""
        node, succ, pred = self._node, self._succ, self._pred
        scan = self._current_scan()
        kind = attrs.get("kind")
        with bulk():
            for u, v in edges:
                if scan is not None:
                    if v in succ[u]:
                        scan = None
                    elif kind == "contains" and node[u].get("kind") == "rack" and node[v].get("kind") == "gpu":
                        scan.gpu_rack[v] = u
                    else:
                        scan.edges.setdefault(kind, []).append((u, v))
                data = TrackedDict(attrs)
                succ[u][v] = data
                pred[v][u] = data
        self._moved(scan)

    def add_gpus(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Add new GPU nodes, each contained by an existing rack: (rack, gpu id) pairs, one loop for both."""
        node, succ, pred = self._node, self._succ, self._pred
        scan = self._current_scan()
        gpus = scan.by_kind.setdefault("gpu", []) if scan is not None else []
        gpu_rack = scan.gpu_rack if scan is not None else {}
        with bulk():
            for rack, gpu in pairs:
                data = node[gpu] = TrackedDict(kind="gpu")
                edge = TrackedDict(kind="contains")
                succ[gpu] = {}
                pred[gpu] = {rack: edge}
                succ[rack][gpu] = edge
                gpus.append((gpu, data))
                gpu_rack[gpu] = rack
        self._moved(scan)

    def copy_without(self, kinds: Iterable[str] = ()) -> FacilityGraph:
        """An independent copy (attribute dicts copied, values shared, as `copy`) leaving out nodes of `kinds`
        and their edges, written straight into the adjacency at bulk speed (a 1 GW site without its GPU
        nodes copies in a fraction of a second; networkx's `copy` of all of it takes seconds)."""
        drop = frozenset(kinds)
        out = FacilityGraph()
        out.graph.update(self.graph)
        node, succ = self._node, self._succ
        with bulk():
            keep = {n: TrackedDict(d) for n, d in node.items() if d.get("kind") not in drop}
            out_succ = {n: {} for n in keep}
            out_pred = {n: {} for n in keep}
            for u, targets in succ.items():
                if u not in keep:
                    continue
                mine = out_succ[u]
                for v, d in targets.items():
                    if v in keep:
                        data = mine[v] = TrackedDict(d)
                        out_pred[v][u] = data
            out._node, out._succ, out._pred = keep, out_succ, out_pred
        out._moved(None)
        return out

    def _current_scan(self) -> Scan | None:
        hit = self.__dict__.get("_scan")
        return hit[1] if hit is not None and hit[0] == _Clock.structure else None

    def _moved(self, scan: Scan | None) -> None:
        """After a bulk edit: move the clocks, and keep the scan if it was updated along the way."""
        _touch(True)
        nx._clear_cache(self)
        if scan is not None:
            self.__dict__["_scan"] = (_Clock.structure, scan)

    def scan(self) -> Scan:
        """Nodes and edges by kind, and each GPU's rack, from one pass; kept until the structure changes.

        Rack -> GPU containment (most of a large graph's edges) is kept apart in `gpu_rack`; any other
        edge touching a GPU stays in `edges`, so rules still see it.
        """
        hit = self.__dict__.get("_scan")
        if hit is not None and hit[0] == _Clock.structure:
            return hit[1]
        node = self._node
        by_kind: dict[str, list] = {}
        edges: dict[str, list] = {}
        gpu_rack: dict[str, str] = {}
        with bulk():
            for u, targets in self._succ.items():
                attrs = node[u]
                kind = attrs.get("kind")
                by_kind.setdefault(kind, []).append((u, attrs))
                if kind == "rack":
                    for v, d in targets.items():
                        edge = d.get("kind")
                        if edge == "contains" and node[v].get("kind") == "gpu":
                            gpu_rack[v] = u
                        else:
                            edges.setdefault(edge, []).append((u, v))
                else:
                    for v, d in targets.items():
                        edges.setdefault(d.get("kind"), []).append((u, v))
        result = Scan(by_kind, edges, gpu_rack)
        self.__dict__["_scan"] = (_Clock.structure, result)
        return result

    def by_kind(self) -> dict[str, list[tuple[str, dict]]]:
        """kind -> [(node id, attribute dict)] in insertion order."""
        return self.scan().by_kind

    def edges_by_kind(self) -> dict[str, list[tuple[str, str]]]:
        """kind -> [(u, v)] for every edge except rack -> GPU containment (see `scan`)."""
        return self.scan().edges

    @property
    def version(self) -> int:
        """A number that changes whenever any facility graph is edited."""
        return _Clock.now
