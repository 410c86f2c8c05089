"""An independent checker of a design plan: every constraint re-derived from the solved facility, the
catalog and the simulator, never from the model's own arrays or matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from solvers.plan import Plan


def check_plan(plan: Plan, *, rtol: float = 1e-6) -> list[str]:
    """Every broken constraint of a plan, as messages (empty when the plan is sound)."""
    facility, data = plan.facility, plan.data
    cat = facility.catalog
    problems = [str(p) for p in facility.validate(raise_on_error=False)]
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
