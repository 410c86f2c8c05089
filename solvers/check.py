"""An independent checker of a design plan: every constraint re-derived from the solved facility, the
catalog and the simulator, never from the model's own arrays or matrix."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from solvers.plan import Plan
    from twin.facility import Facility

LIQUID_UNITS = ("cdu", "rdhx")
"""Cooling units that take a rack's liquid share of heat; every other unit takes its air share."""
STRUCTURE = ("site", "hall", "row", "rack", "gpu")


def check_plan(plan: Plan, *, original: Facility | None = None, rtol: float = 1e-6) -> list[str]:
    """Every broken constraint of a plan, as messages (empty when the plan is sound). With `original`, a
    `keep_plant` plan must also keep every device of it with its rating."""
    facility, data = plan.facility, plan.data
    cat = facility.catalog
    problems = [str(p) for p in facility.validate(raise_on_error=False)]
    problems += rating_problems(facility, rtol=rtol)
    if original is not None and getattr(data, "keep_plant", False):
        problems += kept_problems(original, facility, rtol=rtol)
    racks = facility.table("rack")
    built = racks[racks["system"].notna()]
    halls = facility.table("hall")
    for hall, members in built.groupby("hall"):
        if set(members["cooling"]) != {halls.at[hall, "cooling"]}:
            problems.append(f"hall {hall}: racks use {sorted(set(members['cooling']))}, not one cooling technology")
        allowed = halls.at[hall, "cooling_options"] if "cooling_options" in halls and isinstance(
            halls.at[hall, "cooling_options"], list) else list(cat.cooling)
        if halls.at[hall, "cooling"] not in allowed:
            problems.append(f"hall {hall}: cooling {halls.at[hall, 'cooling']!r} is not among its options {allowed}")
        limit_kg = halls.at[hall, "max_floor_kg_m2"] if "max_floor_kg_m2" in halls else None
        if isinstance(limit_kg, (int, float)) and limit_kg == limit_kg:
            for system in set(members["system"]):
                spec = cat.system(system)
                load = spec.rack_weight_kg / (spec.rack_width_m * spec.rack_depth_m)
                if load > limit_kg * (1 + rtol):
                    problems.append(f"hall {hall}: {system} racks load the floor with {load:,.0f} kg/m2, "
                                    f"above its {limit_kg:,.0f} kg/m2")
    sim = plan.cross_check(rtol=float("inf"))
    limit = data.grid_limit_kw / 1000.0
    if sim["grid_mw"] > limit * (1 + rtol):
        problems.append(f"grid: the solved facility draws {sim['grid_mw']:.4f} MW at the design ambient, "
                        f"above the {limit:g} MW limit")
    per_tier = sim["tokens_per_s_by_tier"]
    for j, tier in enumerate(data.tiers):
        got = per_tier.get(tier, 0.0)
        if got > data.demand[j] * (1 + rtol) + 1e-6:
            problems.append(f"tier {tier}: serves {got:,.0f} tokens/s above its demand {data.demand[j]:,.0f}")
        if got < data.commitment[j] * (1 - rtol) - 1e-6:
            problems.append(f"tier {tier}: serves {got:,.0f} tokens/s below its commitment {data.commitment[j]:,.0f}")
    gpu_capex = float(sum(cat.system(s).capex_usd_per_gpu * g for s, g in zip(built["system"], built["gpus"])))
    if gpu_capex > data.capex_budget * (1 + rtol):
        problems.append(f"budget: GPU systems alone cost ${gpu_capex:,.0f}, above the ${data.capex_budget:,.0f} budget")
    if abs(sim["tokens_per_s"] - plan.kpis["tokens_per_s"]) > rtol * max(plan.kpis["tokens_per_s"], 1.0):
        problems.append(f"tokens: simulated {sim['tokens_per_s']:,.1f} tokens/s vs planned {plan.kpis['tokens_per_s']:,.1f}")
    return problems


def device_loads(facility: Facility) -> dict[str, float]:
    """kW each device carries, walked here with networkx from the rack table: a power device the nameplate of
    every rack below it; a cooling unit and the plant behind it the liquid (CDU, rear door) or air (CRAH)
    share of the heat of the racks it cools, both shares where both streams reach it."""
    g = facility.graph
    racks = facility.table("rack")
    used = racks[racks["system"].notna()]
    kw = used["nameplate_kw"].astype(float)
    share = {"liquid": used["liquid_fraction"].astype(float), "air": 1.0 - used["liquid_fraction"].astype(float)}
    power = g.edge_subgraph([(u, v) for u, v, k in g.edges(data="kind") if k == "power"])
    heat = g.edge_subgraph([(u, v) for u, v, k in g.edges(data="kind") if k == "heat"])
    loads: dict[str, float] = {}
    for dev in (n for n in power if g.nodes[n].get("kind") not in STRUCTURE):
        below = used.index.intersection(list(nx.descendants(power, dev)))
        loads[dev] = float(kw[below].sum())
    reached: dict[str, dict[str, set]] = {}     # device -> stream -> racks whose heat of that stream reaches it
    for unit in (n for n in heat if g.nodes[n].get("kind") not in STRUCTURE):
        cooled = [r for r in heat.predecessors(unit) if r in kw.index]
        if not cooled:
            continue
        stream = "liquid" if g.nodes[unit]["kind"] in LIQUID_UNITS else "air"
        for dev in {unit} | nx.descendants(heat, unit):
            reached.setdefault(dev, {"liquid": set(), "air": set()})[stream].update(cooled)
    for dev, streams in reached.items():
        loads[dev] = sum(float((kw[list(r)] * share[s][list(r)]).sum()) for s, r in streams.items())
    return loads


def usable_kw(facility: Facility) -> dict[str, tuple[list[str], float]]:
    """Redundancy group -> (members, sum of ratings less the spares of its scheme), read off the nodes."""
    members: dict[str, list[str]] = {}
    for n, a in facility.graph.nodes(data=True):
        if "rating_kw" in a and a.get("kind") not in STRUCTURE:
            members.setdefault(a.get("group") or n, []).append(n)
    out = {}
    for name, group in members.items():
        scheme = str(facility.graph.nodes[group[0]].get("redundancy") or "N").replace(" ", "").upper()
        k = re.fullmatch(r"N\+(\d+)", scheme)
        spares = len(group) // 2 if scheme == "2N" else int(k.group(1)) if k else 0
        ratings = sorted(float(facility.graph.nodes[m]["rating_kw"]) for m in group)
        out[name] = (group, sum(ratings[: len(group) - spares]))
    return out


def rating_problems(facility: Facility, *, rtol: float = 1e-6) -> list[str]:
    """Device groups whose busiest member carries more than the group's usable rating."""
    loads = device_loads(facility)
    out = []
    for name, (group, usable) in usable_kw(facility).items():
        load = max(loads.get(m, 0.0) for m in group)
        if load > usable * (1 + rtol) + 1e-6:
            out.append(f"device {name}: carries {load:,.1f} kW on {usable:,.1f} kW usable")
    return out


def kept_problems(original: Facility, facility: Facility, *, rtol: float = 1e-6) -> list[str]:
    """Devices of `original` that a kept-plant design removed or re-rated."""
    after = facility.graph.nodes
    out = []
    for n, a in original.graph.nodes(data=True):
        if "rating_kw" not in a or a.get("kind") in STRUCTURE:
            continue
        if n not in after:
            out.append(f"device {n}: removed from the kept plant")
        elif abs(float(after[n].get("rating_kw") or 0.0) - float(a["rating_kw"])) > rtol * max(1.0, float(a["rating_kw"])):
            out.append(f"device {n}: re-rated {float(a['rating_kw']):,.1f} -> {float(after[n]['rating_kw']):,.1f} kW in the kept plant")
    return out
