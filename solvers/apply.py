"""Turning design decisions into a solved facility: racks populated and capped, tiers assigned, each hall's
cooling plant rebuilt for its chosen technology and sized for the design year, power devices re-rated to
what they now carry.

The copy leaves out the input's GPU nodes and cooling plant (a 1 GW site has ~400k GPU nodes: copying
and deleting them took most of the time); with `gpus=False` the racks get their system, node count and
cap but no GPU nodes yet (what the simulator reads), so verification rounds stay fast, and
`add_gpu_nodes` gives the final facility its GPU nodes once (none for a lean input, `Facility.gpu_nodes`)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from models.design_data import DesignData
from twin.design_year.sizing import TRIM_CHILLER, size_free_cooling
from twin.facility import Facility
from twin.graph import HEAT_KINDS, POWER_KINDS, bulk
from twin.plant import add_cooling_plant

COVER_PASSES = 3
RATING_HEADROOM = 1e-4
"""Power devices re-rated for their simulated load get 0.01 % on top, for the change in their own losses."""


def solved_facility(facility: Facility, data: DesignData, decisions: dict[str, dict[tuple, float]], *,
                    gpus: bool = True) -> Facility:
    """A copy of `facility` built as decided (the input is left untouched); `gpus=False` leaves out GPU nodes."""
    with bulk():
        return _build(facility, data, decisions, gpus)


def add_gpu_nodes(facility: Facility) -> None:
    """Give every populated rack its GPU nodes (after `solved_facility(..., gpus=False)`), unless the facility
    was built lean (`Facility.gpu_nodes` False: the solved design stays lean)."""
    if facility.gpu_nodes:
        facility.set_gpu_nodes(True)


def _build(facility: Facility, data: DesignData, decisions: dict[str, dict[tuple, float]], gpus: bool) -> Facility:
    out = facility.copy(without=("gpu", *HEAT_KINDS))
    if out.grid_limit_mw != data.grid_limit_kw / 1000.0:
        out.grid_limit_mw = data.grid_limit_kw / 1000.0      # the limit it is designed for (grid_mw=...)
    racks = out.table("rack")
    by_hall = {hall: list(idx) for hall, idx in racks.groupby("hall").groups.items()}
    halls_count = _rounded(decisions["halls"])
    racks_count = _rounded(decisions["racks"])
    serve_count = _rounded(decisions["serve"])
    placed: dict[tuple, list[str]] = defaultdict(list)
    options_in: dict[str, set[tuple]] = defaultdict(set)
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
                    _fill(out, take, opt)
                    placed[opt] += take
                    options_in[hall].add(opt)
                    todo = [(opt, cnt - len(take))] + todo[1:] if cnt > len(take) else todo[1:]
                if slots:
                    out.populate(slots, None)
        for hall in free:
            out.populate(by_hall[hall], None)
    _assign_tiers(out, placed, serve_count)
    racks = out.table("rack")
    for hall, idx in racks.groupby("hall").groups.items():
        members = racks.loc[idx]
        heat = float(np.nan_to_num(members["nameplate_kw"].to_numpy(dtype=float)).sum())
        tech = out.catalog.cooling_tech(out.graph.nodes[hall]["cooling"])
        liquid = float(np.average(members["liquid_fraction"], weights=members["nameplate_kw"])) if heat > 0 \
            else tech.liquid_heat_fraction
        main, air = _chains(data, tech.id, options_in.get(hall, ()))
        add_cooling_plant(out, hall, list(idx), heat, liquid, tech.unit_kind, main, **({"air_rejection": air} if air else {}))
    size_free_cooling(out, data.year.dataset, allowed=data.year.throttle_hours)
    _rerate_power(out)
    _cover_losses(out, data.year.dataset.isel(time=data.year.rows()), data.workload)
    if gpus:
        add_gpu_nodes(out)
    return out


def _fill(facility: Facility, racks: list[str], option: tuple) -> None:
    """Give racks a system, node count and cap (GPU nodes come with `add_gpu_nodes`)."""
    system, nodes, cap = option
    for rack in racks:
        facility.graph.nodes[rack].update(system=system, nodes=int(nodes), power_cap_w=cap)


def _chains(data: DesignData, cooling: str, options) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The heat-rejection chains a hall's racks were designed with (a trim chiller wins over none)."""
    year = data.year
    j = data.coolings.index(cooling)
    index = {o: i for i, o in enumerate(data.options)}
    chains = [year.classes[year.heat_class[index[o], j]][2:] for o in options if year.heat_class[index[o], j] >= 0]
    if not chains:
        return tuple(data.rejection[cooling]), None
    return max((c[0] for c in chains), key=_trimmed), max((c[1] for c in chains), key=_trimmed)


def _trimmed(chain: tuple[str, ...] | None) -> bool:
    return chain is not None and chain[0] == TRIM_CHILLER


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


def _cover_losses(facility: Facility, hours, workload) -> None:
    """Raise the ratings of power device groups that, simulated at full load in the design year's binding
    `hours`, carry more than their usable rating once downstream losses and chain-fed cooling count (the
    nameplate re-rating leaves those out). A raised rating changes the device's own losses a little, so
    this repeats until nothing is over (at most COVER_PASSES simulations)."""
    import pandas as pd

    from twin.simulation import simulate
    from twin.validation import groups, parse_redundancy

    for _ in range(COVER_PASSES):
        ds = simulate(facility, weather=hours, workload=workload, hours=hours.sizes["time"], utilization=1.0,
                      per_rack=False, per_device=True)
        if not ds["device_overload"].values.any():
            return
        ids = list(ds["device"].values)
        col = {d: i for i, d in enumerate(ids)}
        load = ds["device_load_kw"].values.astype(float)
        devices = pd.concat([facility.table(k) for k in POWER_KINDS if facility.nodes_of(k)])
        for members in groups(devices).values():
            idx = [col[m] for m in members if m in col]
            if not idx or not ds["device_overload"].values[:, idx].any():
                continue
            scheme = devices.at[members[0], "redundancy"] if "redundancy" in devices else None
            spares = parse_redundancy(scheme if isinstance(scheme, str) else None) or (lambda n: 0)
            need = load[:, idx].sum(axis=1).max() / max(1, len(members) - spares(len(members)))
            for m in members:
                node = facility.graph.nodes[m]
                node["rating_kw"] = float(max(float(node["rating_kw"]), need * (1.0 + RATING_HEADROOM)))


def _rounded(values: dict[tuple, float]) -> dict[tuple, int]:
    return {k: int(round(v)) for k, v in values.items() if round(v) > 0}
