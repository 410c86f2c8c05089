"""Optimize samples: the design model's coefficient arrays in each sampled world, solved twice, once re-optimized
and once with the base design's halls and racks fixed (the fixed design in an uncertain world).

The arrays (`models.design_data`) come from the twin's physics at the design ambient; building them takes a
large share of a solve, so a job builds them once at the inputs' medians and once per catalog input moved to the
top of its range, and each sample sums the responses (`base + sum (f_i - 1) x dA/df_i`): exact for the arrays
linear in a catalog field (rack kW in node power, capex, unit and fan power per kW, loss terms), first order in a
chiller's COP. Throughput, prices, demand and the electricity price act on the arrays and the market directly.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from solvers.uncertainty_runs import sampled_facility, values_by_name
from twin.errors import InfeasibleDesign
from twin.uncertainty import Input

if TYPE_CHECKING:
    from models.design_data import DesignData
    from models.linear import LinearProblem
    from twin.facility import Facility

OPTIMIZE_KPIS = {
    "profit_usd_per_year": "USD year-1", "market_revenue_usd_per_year": "USD year-1", "tokens_per_s": "s-1",
    "total_capex_usd": "USD", "capital_cost_usd_per_year": "USD year-1", "energy_usd_per_year": "USD year-1",
    "facility_mw": "MW", "it_mw": "MW", "pue": "1", "gpus": "1", "racks": "1", "usd_per_mtok_sold": "USD Mtok-1",
    "npv_usd": "USD", "margin_usd_per_mw_year": "USD MW-1 year-1", "revenue_usd_per_gpu_hour": "USD h-1",
    "grid_excess_mw": "MW",
}
MODES = ("fixed", "reoptimized")
FIXED_FAMILIES = ("halls", "racks")
"""Decisions the fixed design keeps; serving (tiers, sales) and plant sizes follow the sampled world."""
MARKET_FACTORS = {"token_price": "token_price_factor", "demand": "demand_factor", "gpu_hour_price": "gpu_hour_price_factor"}


@dataclass
class OptimizeJob:
    """What every sample of an optimize run shares: the base arrays, their responses, the base design."""

    facility: Facility
    inputs: list[Input]
    objective: str
    data: DesignData
    responses: dict[str, dict[str, Any]]          # input name -> {array name: d array / d factor}
    fixed: dict[str, dict[tuple, float]]          # the base design's halls and racks
    choice: str                                    # the base design's systems and coolings
    time_limit: float = 60.0
    mip_gap: float = 1e-3
    key: str = ""
    options: dict[str, Any] = field(default_factory=dict)


def arrays_of(data: DesignData) -> dict[str, Any]:
    """The numeric coefficients of a design: float arrays and numbers, and each hall class's chain rate."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            out[f.name] = value
        elif isinstance(value, float) and f.name != "capex_budget":
            out[f.name] = value
    out["chain_rate"] = np.array([h.chain_rate for h in data.halls])
    return out


def make_job(facility: Facility, inputs: Sequence[Input], objective: str, options: Mapping[str, Any], *,
             verify: bool, time_limit: float, mip_gap: float,
             mapper: Callable[[Callable, list], list] | None = None) -> OptimizeJob:
    """Base arrays at the medians (with the verified design's correction), the response of the arrays to each
    catalog input (computed by `mapper(fn, items)`, e.g. on the run's dask workers), and the base design to fix."""
    from models.design_data import design_data
    from solvers.design import optimize

    data = design_data(facility, **options)
    if verify:
        verified = optimize(facility, objective, verify=True, time_limit=time_limit, mip_gap=mip_gap, **options).data
        if data.year is not None and verified.year is not None:
            data.year.correction_kw = dict(verified.year.correction_kw)
    base = arrays_of(data)
    moving = [i for i in inputs if i.fields and i.spread.high_value != 1.0]
    items = [(facility, dict(options), i) for i in moving]
    tops = (mapper or (lambda fn, xs: [fn(x) for x in xs]))(moved_arrays, items)
    responses: dict[str, dict[str, Any]] = {}
    for i, moved in zip(moving, tops):
        top = i.spread.high_value
        diff = {k: (np.asarray(moved[k], float) - np.asarray(base[k], float)) / (top - 1.0) for k in base
                if k in moved and np.shape(moved[k]) == np.shape(base[k]) and not _same(moved[k], base[k])}
        if diff:
            responses[i.name] = diff
    job = OptimizeJob(facility, list(inputs), objective, data, responses, {}, "", time_limit, mip_gap,
                      options=dict(options))
    values, _ = solve(job, data, fixed=False)
    job.fixed = {name: dict(values[name]) for name in FIXED_FAMILIES}
    job.choice = choice(data, values)
    return job


def moved_arrays(item: tuple[Facility, dict, Input]) -> dict[str, Any]:
    """The design arrays with one catalog input at the top of its range (a task of `make_job`'s mapper)."""
    from models.design_data import design_data

    facility, options, i = item
    return arrays_of(design_data(sampled_facility(facility, [i], np.array([i.spread.high_value])), **options))


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.array_equal(a, b) or np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True))


def sampled_data(job: OptimizeJob, values: np.ndarray) -> DesignData:
    """The design arrays and market of one sample."""
    v = values_by_name(job.inputs, values)
    base = job.data
    arrays = {k: (np.array(a, float) if isinstance(a, np.ndarray) else a) for k, a in arrays_of(base).items()}
    for name, diff in job.responses.items():
        step = v.get(name, 1.0) - 1.0
        if step:
            for k, d in diff.items():
                arrays[k] = arrays[k] + step * d
    data = copy.copy(base)
    for k, a in arrays.items():
        if k != "chain_rate":
            setattr(data, k, float(a) if isinstance(base.__dict__[k], float) else a)
    data.halls = [dataclasses.replace(h, chain_rate=float(r)) for h, r in zip(base.halls, arrays["chain_rate"])]
    scale = np.array([v.get(f"throughput[{o[0]}]", 1.0) for o in base.options])
    data.tokens = data.tokens * scale[:, None]
    if base.billing == "tokens":
        data.usd_per_hour = data.usd_per_hour * scale[:, None]
    market = {MARKET_FACTORS[k]: v[k] for k in MARKET_FACTORS if k in v}
    if market:
        data.market = base.market.scaled(**market)
    if "demand" in v:
        data.demand = data.demand * v["demand"]
    if "electricity_price" in v:
        data.finance = base.finance.scaled(electricity_usd_per_kwh=v["electricity_price"])
        data.electricity_usd_per_kwh = base.electricity_usd_per_kwh * v["electricity_price"]
    if "capex_plant" in v:
        f = v["capex_plant"]
        data.power_capex_per_kw = data.power_capex_per_kw * f
        building = data.finance.classes["building"]
        classes = {**data.finance.classes, "building": dataclasses.replace(
            building, capex_usd_per_kw_it=building.capex_usd_per_kw_it * f)}
        data.finance = dataclasses.replace(data.finance, classes=classes)
    return data


def solve(job: OptimizeJob, data: DesignData, fixed: bool) -> tuple[dict, dict[str, float]]:
    """(decision values, KPIs) of the design model on `data`: free, or with the base halls and racks fixed and
    the grid row open (a fixed design may need more than the limit in a world that draws more: `grid_excess_mw`)."""
    from models.design import build
    from solvers.highs import Status, solve_direct
    from solvers.plan import kpis

    lp = build(data, job.objective)
    if fixed:
        _fix(lp, job.fixed)
    sol = solve_direct(lp, time_limit=job.time_limit, mip_gap=job.mip_gap)
    if sol.status is Status.INFEASIBLE or not sol.ok:
        what = "the fixed design cannot run" if fixed else "no design meets the limits"
        raise InfeasibleDesign(f"{what} in this sample (HiGHS: {sol.status.value})")
    values = lp.split(sol.x)
    k = kpis(data, values)
    k["grid_excess_mw"] = max(0.0, k["facility_mw"] - k["grid_limit_mw"])
    return values, k


def _fix(lp: LinearProblem, fixed: Mapping[str, Mapping[tuple, float]]) -> None:
    """Bound each fixed family's columns to the base design's values (0 where the base had none); open the grid."""
    for pos, (name, fam) in enumerate(lp.var_families.items()):
        if name in fixed:
            vals = np.array([round(fixed[name].get(ix, 0.0)) for ix in fam.index], dtype=float)
            lp.col_lb[pos], lp.col_ub[pos] = vals, vals.copy()
    for pos, name in enumerate(lp.row_families):
        if name == "grid":
            lp.row_ub[pos] = np.full_like(lp.row_ub[pos], np.inf)


def choice(data: DesignData, values: Mapping[str, Mapping[tuple, float]]) -> str:
    """The systems and coolings a design builds, e.g. 'gb200_nvl72/dlc' ('+' between several)."""
    built = sorted({f"{o[0]}/{c}" for (_, c, o), n in values["racks"].items() if n >= 0.5})
    return "+".join(built) or "nothing"


def optimize_sample(job: OptimizeJob, values: np.ndarray) -> dict[str, Any]:
    """Both modes' KPIs (`fixed|<kpi>`, `reoptimized|<kpi>`) and the re-optimized choice of one sample."""
    data = sampled_data(job, values)
    out: dict[str, Any] = {}
    for mode in MODES:
        try:
            decisions, k = solve(job, data, fixed=mode == "fixed")
        except InfeasibleDesign:
            if mode == "reoptimized":
                raise
            continue                              # the fixed design's KPIs stay missing (NaN) in this sample
        out.update({f"{mode}|{name}": float(k[name]) for name in OPTIMIZE_KPIS if name in k})
        if mode == "reoptimized":
            out["choice"] = choice(data, decisions)
    return out


__all__ = ["OptimizeJob", "make_job", "sampled_data", "optimize_sample", "solve", "choice", "OPTIMIZE_KPIS", "MODES"]
