"""The facility's networkx graph, which counts its own changes so derived tables know when to rebuild."""

from __future__ import annotations

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
CONTAINS_PARENT = {"hall": "site", "row": "hall", "rack": "row", "gpu": "rack"}


class _Clock:
    """A global change counter: any edit to any facility graph moves it forward."""

    now = 0


class TrackedDict(dict):
    """An attribute dict that moves the change clock on every write."""

    __slots__ = ()

    def __setitem__(self, key, value):
        _Clock.now += 1
        super().__setitem__(key, value)

    def __delitem__(self, key):
        _Clock.now += 1
        super().__delitem__(key)

    def update(self, *args, **kwargs):
        _Clock.now += 1
        super().update(*args, **kwargs)

    def pop(self, *args):
        _Clock.now += 1
        return super().pop(*args)

    def popitem(self):
        _Clock.now += 1
        return super().popitem()

    def setdefault(self, key, default=None):
        _Clock.now += 1
        return super().setdefault(key, default)

    def clear(self):
        _Clock.now += 1
        super().clear()

    def __ior__(self, other):
        _Clock.now += 1
        return super().__ior__(other)

    def __reduce__(self):
        return (dict, (dict(self),))


def _ticking(name: str):
    method = getattr(nx.DiGraph, name)

    def wrapper(self, *args, **kwargs):
        _Clock.now += 1
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

    @property
    def version(self) -> int:
        """A number that changes whenever any facility graph is edited."""
        return _Clock.now
