"""Turning design decisions into a solved facility: racks populated and capped, tiers assigned, each hall's
cooling plant rebuilt for its chosen technology, power devices re-rated to what they now carry."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from models.design_data import DesignData
from twin.facility import Facility
from twin.graph import HEAT_KINDS, POWER_KINDS
from twin.plant import add_cooling_plant


def solved_facility(facility: Facility, data: DesignData, decisions: dict[str, dict[tuple, float]]) -> Facility:
    """A copy of `facility` built as decided (the input is left untouched)."""
    out = facility.copy()
    racks = out.table("rack")
    by_hall = {hall: list(idx) for hall, idx in racks.groupby("hall").groups.items()}
    halls_count = _rounded(decisions["halls"])
    racks_count = _rounded(decisions["racks"])
    serve_count = _rounded(decisions["serve"])
    removed = [n for kind in HEAT_KINDS for n in out.nodes_of(kind)]
    out.graph.remove_nodes_from(removed)
    placed: dict[tuple, list[str]] = defaultdict(list)
    for hclass in data.halls:
        free = list(hclass.halls)
        for cooling in data.coolings:
            n = halls_count.get((hclass.name, cooling), 0)
            chosen, free = free[:n], free[n:]
            todo = [(opt, cnt) for (k, c, opt), cnt in racks_count.items() if k == hclass.name and c == cooling]
            for hall in chosen:
                out.graph.nodes[hall]["cooling"] = cooling
                slots = list(by_hall[hall])
                while todo and slots:
                    opt, cnt = todo[0]
                    take = slots[: min(cnt, len(slots))]
                    slots = slots[len(take):]
                    system, nodes, cap = opt
                    out.populate(take, system, nodes=nodes, power_cap_w=cap)
                    placed[opt] += take
                    todo = [(opt, cnt - len(take))] + todo[1:] if cnt > len(take) else todo[1:]
                if slots:
                    out.populate(slots, None)
        for hall in free:
            out.populate(by_hall[hall], None)
    _assign_tiers(out, placed, serve_count)
    racks = out.table("rack")
    for hall, idx in racks.groupby("hall").groups.items():
        members = racks.loc[idx]
        heat = float(members["nameplate_kw"].sum())
        tech = out.catalog.cooling_tech(out.graph.nodes[hall]["cooling"])
        liquid = float(np.average(members["liquid_fraction"], weights=members["nameplate_kw"])) if heat > 0 \
            else tech.liquid_heat_fraction
        add_cooling_plant(out, hall, list(idx), heat, liquid, tech.unit_kind, data.rejection[tech.id])
    _rerate_power(out)
    return out


def _assign_tiers(facility: Facility, placed: dict[tuple, list[str]], serve: dict[tuple, int]) -> None:
    """Give each rack the tier it serves (the `tier` attribute the simulator honours)."""
    for (opt, tier), count in serve.items():
        racks = placed.get(opt, [])
        take, placed[opt] = racks[:count], racks[count:]
        for rack in take:
            facility.graph.nodes[rack]["tier"] = tier
    for racks in placed.values():
        for rack in racks:
            facility.graph.nodes[rack]["tier"] = None


def _rerate_power(facility: Facility) -> None:
    """Rate every power device group for the rack nameplate it now carries (ratings less spares)."""
    from twin.validation import context, device_loads, groups, parse_redundancy

    ctx = context(facility)
    devices = ctx.devices[[ctx.kinds[n] in POWER_KINDS for n in ctx.devices.index]]
    loads = device_loads(ctx)
    for members in groups(devices).values():
        if not all(m in loads for m in members):
            continue
        load = loads.group(members)
        if load <= 0:
            continue
        scheme = devices.at[members[0], "redundancy"] if "redundancy" in devices else None
        spares = parse_redundancy(scheme if isinstance(scheme, str) else None) or (lambda n: 0)
        rating = load / max(1, len(members) - spares(len(members)))
        for m in members:
            facility.graph.nodes[m]["rating_kw"] = float(rating)


def _rounded(values: dict[tuple, float]) -> dict[tuple, int]:
    return {k: int(round(v)) for k, v in values.items() if round(v) > 0}
