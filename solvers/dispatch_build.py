"""A facility turned into `DispatchData`: rack classes with their power and tokens per cap level (the twin's GPU
and token physics), tiers with demand, deadlines and prices, training jobs, energy prices and the grid limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from models.dispatch_data import TRAINING, DispatchData, Generator, Storage
from solvers.dispatch_inputs import DispatchInputError, read_prices, tier_market
from solvers.dispatch_physics import Groups
from twin.physics import gpu, tokens
from twin.physics.profiles import step_hours

DEFERRABLE_TTFT_S = 3600.0
"""A tier whose catalog time-to-first-token allows an hour or more is deferrable work (the batch tier: 24 h)."""
DROP_TIER = "standard"
"""Assumption: interactive demand left unserved costs what the catalog's standard tier sells a token for (an SLA
credit / lost-customer proxy), so curtailment cuts the free tier first, then standard, then premium."""
CAP_LEVEL_TOL = 0.005
"""Cap levels the dispatch offers: the cap curve's points, thinned where a straight line between neighbours stays
within 0.5 % of the throughput left out (fewer levels, a far smaller LP; the loss is at most that 0.5 %)."""
PENALTY_USD_PER_KWH = 1e4
"""Elastic price of importing above a limit (10 M USD/MWh): above what racks earn per kWh (a GB200 rack makes
~8 M tokens per kWh, ~800 USD at the 100 USD/Mtok late penalty), so the dispatch exceeds a limit only when no
rack, battery or generator can meet it; late deferred work costs 100 USD/Mtok (above every tier price), so it is
kept only when dropping interactive demand cannot free the power."""


@dataclass(frozen=True)
class Training:
    """Synchronous training on a share of the racks that have no dedicated tier: the job may run slower than full
    speed on average by `slowdown` (1/(1 + slowdown) of its full-speed progress) and fall at most `deadline_h`
    hours of nominal progress behind."""

    share: float = 0.0
    slowdown: float = 0.1
    deadline_h: float = 24.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise DispatchInputError(f"training share {self.share!r} must be between 0 and 1 (of the racks)")
        if self.slowdown < 0 or self.deadline_h < 0:
            raise DispatchInputError("training slowdown and deadline_h must be >= 0")


@dataclass
class ClassInfo:
    """What the dispatch classes are, for results: group, role, racks, system, cap."""

    names: list[str]
    group: np.ndarray            # (d,) physics group of each dispatch class
    role: list[str]              # 'inference' or 'training'
    levels: list[np.ndarray]     # cap fractions of TDP per class (columns of dyn_kw)
    tdp_w: np.ndarray


def cap_levels(points: list[tuple[float, float]], tol: float = CAP_LEVEL_TOL) -> list[float]:
    """The fewest of a cap curve's points whose straight lines stay within `tol` of every point left out (greedy
    from the lowest cap): the measured curve's six points become 0.5, 0.7 and 1.0 (within 0.35 %)."""
    if len(points) <= 2:
        return [p for p, _ in points]
    x = np.array([p for p, _ in points])
    y = np.array([f for _, f in points])
    keep, i = [0], 0
    while i < len(x) - 1:
        j = i + 1
        while j + 1 < len(x) and np.all(np.abs(np.interp(x[i + 1:j + 2], [x[i], x[j + 1]], [y[i], y[j + 1]])
                                               - y[i + 1:j + 2]) <= tol * y[i + 1:j + 2]):
            j += 1
        keep.append(j)
        i = j
    return x[keep].tolist()


def dispatch_data(facility, groups: Groups, time: np.ndarray, *, workload: tokens.Workload, prices: Any = None,
                  demand: Any = None, training: Training | None = None, caps: bool = True, switch_off: bool = True,
                  cap_curve: str = gpu.DEFAULT_CAP_CURVE, deadlines: dict[str, float] | None = None,
                  storage: Storage | None = None, generator: Generator | None = None,
                  demand_charge_usd_per_kw: float = 0.0) -> tuple[DispatchData, ClassInfo]:
    """Build the dispatch arrays of a facility for the steps `time` (physics offset/slope filled by the solver)."""
    from models.design_data import ELECTRICITY_USD_PER_KWH

    catalog = facility.catalog
    training = training or Training()
    mix = workload.tiers(catalog)
    tiers = [t for t, s in mix.items() if s > 0]
    tiers += sorted({k[3] for k in groups.keys if k[3] and k[3] not in tiers})
    curve = catalog.power_cap_curve(cap_curve)
    names, group, role, count, fixed, levels, tdp = [], [], [], [], [], [], []
    for x, (system, nodes, cap_w, tier) in enumerate(groups.keys):
        spec = catalog.system(system)
        parts = [("inference", groups.count[x])] if tier else \
            [("inference", groups.count[x] * (1 - training.share)), ("training", groups.count[x] * training.share)]
        for r, n in parts:
            if n <= 0:
                continue
            names.append(f"{system} {nodes:g}n {cap_w:g}W{' ' + tier if tier else ''}{' training' if r == 'training' else ''}")
            group.append(x)
            role.append(r)
            count.append(n)
            fixed.append(float(gpu.rack_power_terms_kw(spec, nodes, cap_w)[0]))
            top = cap_w / spec.gpu_tdp_w
            pts = [(p, f) for p, f in curve.points if p <= top + 1e-9] if caps else []
            levels.append(np.unique(np.r_[cap_levels(pts), top]))
            tdp.append(spec.gpu_tdp_w)
    if any(r == "training" for r in role):
        tiers.append(TRAINING)
    d, k, j = len(names), max(len(lv) for lv in levels), len(tiers)
    dyn = np.full((d, k), np.nan)
    speed = np.zeros((d, k))
    tok = np.zeros((d, j))
    usd = np.zeros((d, j))
    for i in range(d):
        system, nodes, cap_w, tier = groups.keys[group[i]]
        spec = catalog.system(system)
        caps_w = levels[i] * spec.gpu_tdp_w
        dyn[i, :caps_w.size] = gpu.rack_power_terms_kw(spec, nodes, caps_w)[1]
        speed[i, :caps_w.size] = gpu.cap_factor(catalog, caps_w, spec.gpu_tdp_w, cap_curve)
        if role[i] == "training":
            tok[i, tiers.index(TRAINING)] = 1.0
            continue
        for t in ([tier] if tier else [t for t in tiers if t != TRAINING]):
            point = tokens.tier_point(catalog, system, t, workload)
            tok[i, tiers.index(t)] = nodes * spec.gpus_per_node * point.tokens_per_s_per_gpu
            usd[i, tiers.index(t)] = tokens.revenue_usd_per_mtok(catalog, t, point.output_share)
    count_a = np.asarray(count)
    top_speed = speed.max(axis=1)
    share = np.array([mix.get(t, 0.0) for t in tiers])
    dedicated = np.array([bool(groups.keys[group[i]][3]) for i in range(d)])
    inference = np.array([r == "inference" for r in role])
    capacity = ((count_a * top_speed)[:, None] * tok * np.where(dedicated[:, None], 1.0, share[None, :]))[inference].sum(axis=0)
    itiers = [i for i, t in enumerate(tiers) if t != TRAINING]
    dem = np.zeros((time.size, j))
    dem[:, itiers] = tier_market(catalog, [tiers[i] for i in itiers], capacity[itiers], time, demand)
    deadline = np.zeros(j)
    for i, t in enumerate(tiers):
        if t == TRAINING:
            deadline[i] = training.deadline_h
            dem[:, i] = (count_a * top_speed)[~inference].sum() / (1.0 + training.slowdown)
        elif deadlines is not None and t in deadlines:
            deadline[i] = float(deadlines[t])
        elif catalog.tier(t).max_ttft_s >= DEFERRABLE_TTFT_S:
            deadline[i] = catalog.tier(t).max_ttft_s / 3600.0
    drop_value = catalog.tier(DROP_TIER).price_usd_per_mtok if DROP_TIER in catalog.tiers else 0.0
    site_price = facility.graph.graph.get("electricity_usd_per_kwh") or ELECTRICITY_USD_PER_KWH
    limit = facility.grid_limit_mw
    if not isinstance(limit, (int, float)) or not limit > 0:
        raise DispatchInputError(f"facility {facility.name!r} has no grid limit (grid_limit_mw); a dispatch needs one")
    n = time.size
    data = DispatchData(
        time=time, step_h=step_hours(time), classes=names, count=count_a, fixed_kw=np.asarray(fixed), dyn_kw=dyn,
        speed=speed, tiers=tiers, tokens_per_s=tok, usd_per_mtok=usd, demand=dem, deadline_h=deadline,
        drop_usd_per_mtok=np.where(deadline > 0, 0.0, drop_value), offset_kw=np.zeros(n), slope=np.ones((n, d)),
        limit_kw=np.full(n, float(limit) * 1000.0), price_usd_per_kwh=read_prices(prices, time, float(site_price)),
        switch_off=switch_off, lim_coef=groups.lim_coef[:, group], lim_cap_kw=groups.lim_cap_kw,
        demand_charge_usd_per_kw=float(demand_charge_usd_per_kw), penalty_usd_per_kwh=np.full(n, PENALTY_USD_PER_KWH),
        storage=storage or Storage(), generator=generator or Generator())
    return data, ClassInfo(names, np.asarray(group), role, levels, np.asarray(tdp))


__all__ = ["dispatch_data", "cap_levels", "Training", "ClassInfo", "DEFERRABLE_TTFT_S", "DROP_TIER", "PENALTY_USD_PER_KWH"]
