"""`optimize`: choose what to build inside the MW limit (Pyomo model, HiGHS solve), explain infeasibility.

>>> import blueprints, solvers
>>> plan = solvers.optimize(blueprints.load("ai-factory-hall"), objective="tokens", time_limit=30)
>>> plan.kpis["facility_mw"] <= plan.kpis["grid_limit_mw"]
True
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from models.design import OBJECTIVES, build
from models.design_data import HOURS_PER_YEAR, DesignData, design_data
from solvers.apply import add_gpu_nodes, solved_facility
from solvers.brownfield import kept_facility
from solvers.changes import diff
from solvers.highs import Solution, Status, solve_direct, solve_pyomo
from solvers.plan import Plan, binding_hour, decisions_dataset, kpis
from solvers.verify import correct, simulate_year
from twin.errors import InfeasibleDesign, InputError, TwinError
from twin.progress import Progress, Stages

if TYPE_CHECKING:
    from twin.facility import Facility

DINKELBACH_STEPS = 8
VERIFY_ROUNDS = 6
SOLVERS = {"pyomo": solve_pyomo, "highspy": solve_direct}
"""The product path (Pyomo + HiGHS) and the same arrays handed to highspy directly (the speed baseline)."""


def optimize(
    facility: Facility,
    objective: str = "profit",
    *,
    time_limit: float = 60.0,
    mip_gap: float = 1e-3,
    grid_mw: float | None = None,
    power_caps: bool = True,
    systems: Sequence[str] | None = None,
    capex_budget_usd: float | None = None,
    workload: Any = None,
    design_exceedance_hours: int | str | None = None,
    design_throttle_hours: int | str | None = None,
    verify: bool = True,
    progress: Progress | None = None,
    evidence: str | None = None,
    cap_curve: str | None = None,
    cap_levels: Sequence[float] | None = None,
    market: Any = None,
    finance: Any = None,
    billing: str | None = None,
    keep_plant: bool | None = None,
    solver: str = "pyomo",
) -> Plan:
    """Design the facility for `objective` ('profit', 'revenue', 'tokens' or 'tokens-per-dollar') within its
    grid limit at every hour of its design weather year (but `design_exceedance_hours`, default the site's or
    0; ASHRAE '0.4%', '1%', '2%' accepted) and without throttling (but `design_throttle_hours`).

    Every knob has a blueprint twin (site attribute of the same name; see blueprints/README.md):
    systems (default: the blueprint's `site.systems` and racks), evidence ('measured' default or 'claims'),
    cap_curve / cap_levels (catalog power-cap curve and cap fractions), market / finance
    (`twin.economics.Market` / `Finance`, default the site's), billing ('tokens' or 'gpu_hours'), workload
    (`twin.physics.tokens.Workload`; its `tier_mix` binds the design), keep_plant (brownfield: every
    existing power and cooling device keeps its rating, as rows of the design model; `models.brownfield`).

    With `verify`, the solved facility is simulated through the whole design year at full load; where it
    draws more than the limit (the linear model is a surrogate of the simulator), those hours' rows get the
    surrogate's error (plus a margin) subtracted and the model is re-solved, up to VERIFY_ROUNDS times, so
    rounds converge from below. Raises InfeasibleDesign with the shortfall in domain units when no design
    meets the limits, or when a verified year still throttles or overloads a device. progress:
    `progress(done, total, stage)` as each solve and verification starts (`twin.progress.Stages`; a re-solve
    adds two stages). solver: 'pyomo' (Pyomo + HiGHS, the product path) or 'highspy' (the same arrays handed
    to HiGHS directly). `Plan.timings` says where the time went.
    """
    if objective not in OBJECTIVES:
        raise TwinError(f"objective {objective!r} is not one of {list(OBJECTIVES)}; pick one of those")
    for name, value, floor in (("time_limit", time_limit, 0.0), ("mip_gap", mip_gap, None)):
        number = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        if not number or (value <= floor if floor is not None else value < 0):
            raise InputError(f"{name}={value!r} must be a finite number " + ("above 0" if floor is not None else "of at least 0"))
    if solver not in SOLVERS:
        raise TwinError(f"solver {solver!r} is not one of {list(SOLVERS)}; pick one of those")
    clock = Clock()
    if billing is not None:
        facility = facility.copy()
        facility.graph.graph["billing"] = billing
    data = design_data(facility, grid_mw=grid_mw, power_caps=power_caps, systems=systems, workload=workload,
                       evidence=evidence, cap_curve=cap_curve, cap_levels=cap_levels, market=market, finance=finance,
                       keep_plant=keep_plant, exceedance_hours=design_exceedance_hours,
                       throttle_hours=design_throttle_hours)
    if capex_budget_usd is not None:
        data.capex_budget = float(capex_budget_usd)
    if data.aux_kw >= data.grid_limit_kw:
        raise InfeasibleDesign(f"auxiliary load {data.aux_kw / 1000:.2f} MW alone uses up the "
                               f"{data.grid_limit_kw / 1000:g} MW grid limit; raise the limit or lower aux_power_kw")
    clock.lap("data_s")
    stages = Stages(progress, ["solving", "verifying by simulation"] if verify else ["solving"])
    year = None
    for rounds in range(1, (VERIFY_ROUNDS if verify else 1) + 1):
        solution, lp = _solve(data, objective, time_limit, mip_gap, SOLVERS[solver])
        values = lp.split(solution.x)
        clock.lap("model_solve_s")
        built = kept_facility(facility, data, values) if data.keep_plant else solved_facility(facility, data, values, gpus=False)
        clock.lap("facility_s")
        stages.next()
        if not verify:
            break
        year = simulate_year(built, data)
        clock.lap("verify_s")
        if year.over_grid_hours <= year.allowed_exceedance_hours:
            stages.next()
            break
        if rounds < VERIFY_ROUNDS:
            stages.add(f"re-solving (round {rounds + 1})", f"verifying (round {rounds + 1})")
        stages.next()
        correct(data, values, year)
    else:
        raise InfeasibleDesign(f"after {VERIFY_ROUNDS} rounds the simulated design still draws "
                               f"{year.peak_grid_mw:.3f} MW ({year.over_grid_hours} h over the "
                               f"{data.grid_limit_kw / 1000:g} MW limit) in its design year")
    if year is not None and year.failures():
        raise InfeasibleDesign(f"the solved design fails its design year: {'; '.join(year.failures())}; "
                               "allow throttle hours (design_throttle_hours) or another heat rejection")
    if not data.keep_plant:
        add_gpu_nodes(built)
    clock.lap("gpu_nodes_s")
    plan = Plan(objective, kpis(data, values, year, rounds), decisions_dataset(data, values), built, solution, data)
    plan.changes = diff(facility, plan.facility)
    clock.lap("kpis_s")
    plan.timings = {**clock.laps, "total_s": clock.total(), "rounds": rounds}
    return plan


class Clock:
    """Seconds per stage of a run, summed over rounds."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self.last
        self.last = now

    def total(self) -> float:
        return self.last - self.start


def pareto(facility: Facility, budgets: Sequence[float], *, objective: str = "profit", **kwargs) -> list[Plan]:
    """Revenue (or tokens) vs capex: one plan per capex budget (epsilon-constraint sweep)."""
    return [optimize(facility, objective, capex_budget_usd=b, **kwargs) for b in budgets]


def _solve(data: DesignData, objective: str, time_limit: float, mip_gap: float, solve=solve_pyomo):
    if objective != "tokens-per-dollar":
        lp = build(data, objective)
        return _checked(solve(lp, time_limit=time_limit, mip_gap=mip_gap), data), lp
    lam, best = 0.0, None
    for _ in range(DINKELBACH_STEPS):
        lp = build(data, objective, lam=lam)
        sol = _checked(solve(lp, time_limit=time_limit, mip_gap=mip_gap), data)
        k = kpis(data, lp.split(sol.x))
        cost_year = k["capital_cost_usd_per_year"] + k["om_usd_per_year"] + k["energy_usd_per_year"]
        mtok_year = k["tokens_per_s"] * 3600 * HOURS_PER_YEAR / 1e6
        ratio = mtok_year / cost_year if cost_year > 0 else 0.0
        best = (sol, lp)
        if abs(sol.objective) <= 1e-6 * max(mtok_year, 1.0) or abs(ratio - lam) <= 1e-4 * max(ratio, 1e-12):
            break
        lam = ratio
    return best


def _checked(sol: Solution, data: DesignData) -> Solution:
    if sol.status is Status.INFEASIBLE:
        raise InfeasibleDesign(explain(data))
    if not sol.ok:
        raise InfeasibleDesign(f"HiGHS ended with status {sol.status.value} and no usable design; "
                               "raise time_limit or loosen mip_gap")
    return sol


def explain(data: DesignData) -> str:
    """Say, in domain units, which limits are short and by how much: for each limit alone, re-solve with a
    slack on it (an elastic model) and report the smallest slack that makes a design possible."""
    found = []
    for rows in (("grid",), ("budget",), ("commitment",)):
        if rows == ("budget",) and not np.isfinite(data.capex_budget):
            continue
        lp = build(data, "revenue", elastic=rows)
        sol = solve_pyomo(lp, time_limit=60, mip_gap=1e-6)
        if sol.ok:
            found.append(_shortfall(data, lp.split(sol.x)))
    found = [f for f in found if f]
    if not found:
        return "no design meets the limits, and no single limit explains it"
    return "no design meets the limits: " + "; or ".join(found)


def _shortfall(data: DesignData, v: dict) -> str:
    over = v.get("over_grid", {}).get(("kW",), 0.0)
    if over > 1e-6:
        return (f"needs {over / 1000:.2f} MW more than the {data.grid_limit_kw / 1000:g} MW limit at "
                f"{data.year.describe(binding_hour(data, v['racks']))}")
    over_budget = v.get("over_budget", {}).get(("USD",), 0.0)
    if over_budget > 1e-3:
        return f"needs ${over_budget / 1e6:,.1f}M more than the ${data.capex_budget / 1e6:,.1f}M capex budget"
    short = [(t, s * data.commitment[data.tiers.index(t)]) for (t,), s in v.get("short_commitment", {}).items() if s > 1e-9]
    return "; ".join(f"falls {s:,.0f} tokens/s short of the {data.commitment[data.tiers.index(t)]:,.0f} tokens/s "
                     f"committed on tier {t!r}" for t, s in short)


def cap_comparison(facility: Facility, objective: str = "profit", **kwargs) -> dict[str, Plan]:
    """The same design with and without power caps, to show what caps are worth."""
    return {"caps": optimize(facility, objective, **kwargs),
            "no caps": optimize(facility, objective, power_caps=False, **kwargs)}


__all__ = ["optimize", "pareto", "explain", "cap_comparison"]
