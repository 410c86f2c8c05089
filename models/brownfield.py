"""Brownfield design (`keep_plant`): every existing power and cooling device keeps its rating, and those
ratings are rows of the design model.

Rack positions are grouped into units: positions in one hall fed by the same power devices and cooled by
the same cooling units (typically a row and its busways). Each unit is a hall class of its own with the
hall's present cooling technology (its cooling units stay), so the model decides racks per unit. Each
device group then gets one row: the nameplate kW (power devices), liquid heat (CDUs, rear doors), air heat
(CRAHs) or both streams (the plant behind them) of the racks it serves <= its usable capacity (ratings
less spares), the same quantities `twin.validation.check_loads` checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from twin.graph import HEAT_KINDS, POWER_KINDS

if TYPE_CHECKING:
    from models.design_data import DesignData
    from models.linear import LinearProblem
    from twin.facility import Facility

LIQUID_UNITS = ("cdu", "rdhx")


@dataclass
class DeviceRow:
    """One kept device group: its usable kW and, per unit, which heat streams of a rack it carries."""

    group: str
    members: list[str]
    usable_kw: float
    power: np.ndarray     # (unit,) 1 where the unit's racks draw power through the group
    liquid: np.ndarray    # (unit,) 1 where the group carries the liquid share of their heat
    air: np.ndarray       # (unit,) 1 where it carries the air share


def units(facility: Facility) -> dict[tuple[str, frozenset, frozenset], list[str]]:
    """Rack positions keyed by (hall, direct power feeds, direct cooling units), in facility order."""
    graph = facility.graph
    racks = facility.table("rack")
    out: dict[tuple[str, frozenset, frozenset], list[str]] = {}
    for rack, hall in racks["hall"].items():
        feeds = frozenset(u for u, d in graph.pred[rack].items() if d.get("kind") == "power")
        cooled = frozenset(v for v, d in graph.succ[rack].items() if d.get("kind") == "heat")
        out.setdefault((str(hall), feeds, cooled), []).append(rack)
    return out


def device_rows(facility: Facility, keys: list[tuple[str, frozenset, frozenset]]) -> list[DeviceRow]:
    """A row per power or cooling device group that serves any unit, with its usable capacity."""
    from twin.validation import context, groups, parse_redundancy

    graph = facility.graph
    edges = nx.get_edge_attributes(graph, "kind")
    power = graph.edge_subgraph([e for e, k in edges.items() if k == "power"])
    heat = graph.edge_subgraph([e for e, k in edges.items() if k == "heat"])
    n = len(keys)
    reach = {}   # device -> (power, liquid, air) (unit,) arrays
    for u, (_, feeds, cooled) in enumerate(keys):
        for feed in feeds:
            for dev in {feed} | (nx.ancestors(power, feed) if feed in power else set()):
                reach.setdefault(dev, np.zeros((3, n)))[0, u] = 1.0
        for unit in cooled:
            stream = 1 if graph.nodes[unit].get("kind") in LIQUID_UNITS else 2
            for dev in {unit} | (nx.descendants(heat, unit) if unit in heat else set()):
                reach.setdefault(dev, np.zeros((3, n)))[stream, u] = 1.0
    ctx = context(facility)
    dev = ctx.devices
    out = []
    for name, members in groups(dev).items():
        hit = [m for m in members if m in reach]
        kind = ctx.kinds.get(members[0])
        if not hit or kind not in POWER_KINDS | HEAT_KINDS:
            continue
        scheme = dev.at[members[0], "redundancy"] if "redundancy" in dev else None
        spares = parse_redundancy(scheme if isinstance(scheme, str) else None) or (lambda k: 0)
        ratings = np.sort(dev.loc[members, "rating_kw"].astype(float).to_numpy())
        usable = float(ratings[: len(members) - spares(len(members))].sum())
        r = np.max([reach[m] for m in hit], axis=0)
        out.append(DeviceRow(str(name), list(members), usable, r[0], r[1], r[2]))
    return out


def unit_classes(facility: Facility) -> tuple[list, dict[str, list[str]], list[DeviceRow]]:
    """(hall classes, one per unit, with the hall's present cooling only; unit -> rack ids; device rows)."""
    from models.design_data import HallClass, device_groups, hall_chain
    from twin.physics.power_chain import Stage, chain_losses

    halls = facility.table("hall")
    cat = facility.catalog
    members_of = device_groups(facility)
    keyed = units(facility)
    classes, racks_of = [], {}
    for i, ((hall, _, _), racks) in enumerate(keyed.items()):
        chain = hall_chain(facility, racks[0], members_of)
        stages = [Stage(model, 1.0 / usable, members) for model, members, usable in chain]
        rate = float(chain_losses(cat, stages, 1.0)["losses_kw"]) if stages else 0.0
        floor = halls.at[hall, "max_floor_kg_m2"] if "max_floor_kg_m2" in halls else None
        floor = float(floor) if isinstance(floor, (int, float)) and floor == floor else float("inf")
        name = f"unit-{i + 1}"
        classes.append(HallClass(name, [hall], len(racks), [str(halls.at[hall, "cooling"])], chain, rate, floor))
        racks_of[name] = racks
    return classes, racks_of, device_rows(facility, list(keyed))


def add_device_rows(lp: LinearProblem, data: DesignData, rv: np.ndarray, k_of: np.ndarray, c_of: np.ndarray,
                    o_of: np.ndarray) -> None:
    """Rows `device[group]`: the kept ratings as limits on the racks each group serves."""
    rows_, cols, vals = [], [], []
    for i, row in enumerate(data.device_rows):
        kw = data.rack_kw[o_of]
        lf = data.liquid[o_of, c_of]
        coef = kw * (row.power[k_of] + row.liquid[k_of] * lf + row.air[k_of] * (1.0 - lf))
        keep = coef > 0
        rows_.append(np.full(int(keep.sum()), i))
        cols.append(rv[keep])
        vals.append(coef[keep])
    if not data.device_rows:
        return
    lp.add_rows("device", [(r.group,) for r in data.device_rows], rows=np.concatenate(rows_),
                cols=np.concatenate(cols), vals=np.concatenate(vals), ub=np.array([r.usable_kw for r in data.device_rows]))


__all__ = ["DeviceRow", "units", "device_rows", "unit_classes", "add_device_rows"]
