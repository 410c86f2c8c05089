"""An independent check that no device carries more than it may, with every device up or after one
failure. It walks the graph with networkx and sums loads with the validation rules' `device_loads`,
sharing no code with the contingency matrices or the placement model it is meant to catch.

>>> import blueprints
>>> from twin.contingency_check import overloads
>>> overloads(blueprints.load("ai-factory-hall"), failed="ups-a")
[]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import networkx as nx
import numpy as np
import pandas as pd

from twin.graph import HEAT_KINDS, bulk

if TYPE_CHECKING:
    from twin.facility import Facility

LIQUID, AIR = {"cdu", "rdhx"}, {"crah"}
IDLE = "idle"


def dead_devices(facility: Facility, failed: str | None, ctx=None) -> set[str]:
    """The failed device and every device it takes down: no live power feed left, or no live heat sink."""
    from twin.validation import context

    ctx = ctx or context(facility)
    dead = {failed} if failed else set()
    power = ctx.subgraph("power")
    for node in nx.topological_sort(power):
        preds = list(power.predecessors(node))
        if node in dead or (preds and all(p in dead for p in preds)):
            dead.add(node)
    heat = ctx.subgraph("heat")
    for node in reversed(list(nx.topological_sort(heat))):
        succs = list(heat.successors(node))
        if node in dead or (ctx.kinds.get(node) in HEAT_KINDS and succs and all(s in dead for s in succs)):
            dead.add(node)
    return dead


def lost_racks(facility: Facility, dead: set[str], ctx=None) -> set[str]:
    """Populated racks with no live power feed, or with every unit of one of their heat streams dead."""
    from twin.validation import context

    ctx = ctx or context(facility)
    lost: set[str] = set()
    for kind, streams in (("power", [None]), ("heat", [LIQUID, AIR])):
        links = ctx.rack_links(kind)
        kinds = links["device"].map(ctx.kinds)
        for stream in streams:
            sel = links if stream is None else links[kinds.isin(stream).to_numpy()]
            live = sel[~sel["device"].isin(dead)]
            lost |= set(sel["rack"]) - set(live["rack"])
    return lost


def rack_kw(facility: Facility, *, min_caps: bool = False) -> pd.Series:
    """kW each rack may draw: its nameplate at its cap (or at the minimum cap), idle racks their idle power."""
    from twin.validation import _min_cap_fraction

    cat = facility.catalog
    racks = facility.table("rack")
    out = pd.Series(0.0, index=racks.index)
    work = racks["workload"] if "workload" in racks else pd.Series(None, index=racks.index, dtype=object)
    low = _min_cap_fraction(cat)
    for idx, system, nodes, cap in zip(racks.index, racks["system"], racks["nodes"], racks["cap_w"]):
        if not isinstance(system, str):
            continue
        spec = cat.system(system)
        if work[idx] == IDLE:
            cap = spec.gpu_idle_w
        elif min_caps:
            cap = min(cap, low * spec.gpu_tdp_w)
        out[idx] = float(spec.rack_power_kw(nodes, cap))
    return out


def overloads(facility: Facility, failed: str | None = None, *, min_caps: bool = False,
              capacity: str = "rating", kw: pd.Series | None = None, ctx=None) -> list[str]:
    """Messages for every redundancy group whose live members carry more than their ratings sum to.

    With `failed`, that device and its cascade are down and their lost racks draw nothing; `min_caps`
    re-caps every surviving rack to the catalog's minimum (the N-1-secure promise). `capacity='usable'`
    holds spares back (2N: half; N+k: the k largest), as `twin validate` does, in the base case.
    """
    with bulk():
        from twin.validation import context, device_loads, groups, parse_redundancy

        ctx = ctx or context(facility)
        dead = dead_devices(facility, failed, ctx)
        lost = lost_racks(facility, dead, ctx)
        kw = (rack_kw(facility, min_caps=min_caps) if kw is None else kw).reindex(ctx.racks.index).fillna(0.0)
        kw[kw.index.isin(list(lost))] = 0.0
        racks = ctx.racks.copy()
        racks["nameplate_kw"] = kw.to_numpy()
        view = type(ctx)(facility, racks, ctx.kinds, ctx.devices)
        for kind in ("power", "heat"):
            g = ctx.subgraph(kind).copy()
            g.remove_nodes_from(dead)
            links = ctx.rack_links(kind)
            view._subgraphs[kind] = g
            view._rack_links[kind] = links[~links["device"].isin(dead)].reset_index(drop=True)
        loads = device_loads(view)
        rating = pd.to_numeric(ctx.devices["rating_kw"], errors="coerce").fillna(0.0).to_dict()
        scheme = ctx.devices["redundancy"].to_dict() if "redundancy" in ctx.devices else {}
        out = []
        for name, members in groups(ctx.devices).items():
            live = [m for m in members if m not in dead]
            if not live:
                continue
            load = loads.group(live)
            ratings = np.sort([rating[m] for m in live])
            usable = ratings.sum()
            if capacity == "usable" and failed is None:
                given = scheme.get(members[0])
                spares = parse_redundancy(given if isinstance(given, str) else None)
                k = spares(len(members)) if spares else 0
                usable = ratings[: len(members) - k].sum()
            if load > usable * (1 + 1e-6) + 1e-6:
                after = f" after {failed} fails" if failed else ""
                out.append(f"group {name} ({', '.join(live)}): carries {load:,.1f} kW but its live members "
                           f"can carry {usable:,.1f} kW{after}")
        return out


def n1_overloads(facility: Facility, devices: Iterable[str] | None = None, *, min_caps: bool = True) -> dict[str, list[str]]:
    """`overloads` after each single failure (default every device); only failures with problems are kept."""
    with bulk():
        from twin.validation import context

        ctx = context(facility)
        ids = list(devices) if devices is not None else list(ctx.devices.index)
        kw = rack_kw(facility, min_caps=min_caps)
        found = {d: overloads(facility, d, kw=kw, ctx=ctx) for d in ids}
        return {d: p for d, p in found.items() if p}


__all__ = ["dead_devices", "lost_racks", "rack_kw", "overloads", "n1_overloads"]
