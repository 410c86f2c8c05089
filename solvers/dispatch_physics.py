"""The twin's physics for dispatch: the simulator's engine run on rack power, linearized for the LP, and the
rack classes merged where the dispatch cannot tell them apart.

A dispatch decides each class's rack power (racks on, caps, utilization); everything downstream of rack power
(power-chain losses, cooling units and plant, auxiliaries, free-cooling limits) is the engine `twin.simulate`
runs (`twin.physics.engine`), evaluated on that power. The LP sees facility power as offset + slope . class
power per step; the offset makes the line exact at a reference dispatch, so moving the reference to each solution
converges to a dispatch whose simulated grid power
is the one the LP planned (the cross-check). Slopes are the engine's secants over each class's operating range,
computed once; only the offset follows the solution (a chord iteration, which converges where re-fitting tangents
at each solution would make the LP jump between vertices). Classes with the same racks, the same slopes and the same
free-cooling exposure are merged (identical halls of a 1 GW site become one class).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.physics import gpu
from twin.physics.cooling import free_capacity_kw
from twin.physics.power_chain import group_by_model
from twin.simulation import BLOCK_CELLS

if TYPE_CHECKING:
    from twin.physics.engine import Engine

MERGE_STEPS = 24
"""Steps (ambient quantiles) at which every engine class's slope is compared before classes are merged."""
MERGE_RTOL = 5e-3
"""Classes whose slopes (and free-cooling exposure) agree within this share at every merge step are one class: its
racks then run alike, which gives up at most that difference in overhead (the line stays exact at the solution)."""
FD_SHARE = 1e-3
"""Finite-difference step: this share of a class's full power (at least 1 kW)."""
SECANT_LOW = 0.5
"""The LP's slope of facility power in a group's rack power is the engine's secant from this share of full power."""
RUN_STEPS = 2048
"""The engine runs at most this many steps at once: a year in one block makes (steps x devices) temporaries that
measured 2x slower than blocks of 2,048 steps on the 1 GW site."""
SLOPE_RES_C = 0.5
"""Secant slopes are computed once per distinct (dry bulb, wet bulb) rounded to this many degrees and shared by the
steps that round alike: the LP's line is then off by what half a degree changes (the offset keeps it exact at the
reference dispatch, so the cross-check is unaffected) and a year needs a fraction of the engine runs."""
FREE_COOLING_MARGIN = 1e-6
"""Free-cooling rows are tightened by this share so solver tolerances never make the engine throttle."""


@dataclass
class SitePhysics:
    """The engine of a facility for a horizon, taking rack power per class (time x class, kW per rack)."""

    engine: Engine                 # the simulator's engine with fixed = 0, dyn = 1: utilization is kW per rack
    dry_bulb_c: np.ndarray
    wet_bulb_c: np.ndarray
    count: np.ndarray              # (c,) racks per engine class
    fixed_kw: np.ndarray           # (c,) real kW per rack at utilization 0
    max_kw: np.ndarray             # (c,) real kW per rack at utilization 1 and its cap
    keys: list[tuple]              # (c,) (system, nodes, cap_w, tier) of each class
    n_devices: int

    @property
    def n_classes(self) -> int:
        return int(self.count.size)

    def run(self, rack_kw: np.ndarray, *, per_device: bool = False, steps: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Engine outputs when each class's racks draw `rack_kw` (time x class); `steps` evaluates a subset."""
        db, wb = self.dry_bulb_c, self.wet_bulb_c
        if steps is not None:
            db, wb = db[steps], wb[steps]
        n = rack_kw.shape[0]
        eng = dataclasses.replace(self.engine, util=np.asarray(rack_kw, dtype=float))
        width = max(self.n_devices if per_device else 1, self.n_classes)
        block = max(1, min(n, BLOCK_CELLS // width, RUN_STEPS))
        parts = [eng.run(s, min(n, s + block), db[s:s + block], wb[s:s + block], per_device=per_device)
                 for s in range(0, n, block)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def grid_kw(self, rack_kw: np.ndarray, steps: np.ndarray | None = None) -> np.ndarray:
        return self.run(rack_kw, steps=steps)["grid_power_kw"]

    def free_cooling(self) -> tuple[np.ndarray, np.ndarray]:
        """(limited unit x class) heat per kW of rack power and (time x unit) free-cooling capacity, kW."""
        e, t = self.engine, self.engine.topo
        m_lim = e.m_lim.toarray()
        if not t.limited.size:
            return m_lim, np.zeros((self.dry_bulb_c.size, 0))
        cap = np.empty((self.dry_bulb_c.size, t.limited.size))
        for model, idx in group_by_model([t.plant_models[p] for p in t.limited]).items():
            rating = t.cool_rating[t.n_units + t.limited[idx]]
            cap[:, idx] = free_capacity_kw(model, rating, t.limited_max_water[idx], self.dry_bulb_c[:, None],
                                           self.wet_bulb_c[:, None])
        return m_lim, cap


def site_physics(facility, topo, catalog, workload, time_weather, cap_curve: str = gpu.DEFAULT_CAP_CURVE) -> SitePhysics:
    """Prepare the simulator's engine for a facility and weather, with rack power as its input."""
    from twin.graph import bulk
    from twin.physics.engine import prepare
    from twin.simulation import aux_power_kw

    n = time_weather["time"].size
    limit = facility.grid_limit_mw
    with bulk():
        engine = prepare(topo, catalog, workload, np.ones(n), cap_curve=cap_curve, aux_kw=aux_power_kw(facility),
                         grid_limit_kw=float(limit) * 1000.0 if isinstance(limit, (int, float)) else None)
    c = engine.n_classes
    first = np.zeros(c, dtype=int)
    first[engine.class_of_rack[::-1]] = np.arange(engine.class_of_rack.size)[::-1]
    racks = topo.racks
    tier = racks["tier"] if "tier" in racks else None
    keys = [(str(racks["system"].iat[r]), float(racks["nodes"].iat[r]), float(racks["cap_w"].iat[r]),
             tier.iat[r] if tier is not None and isinstance(tier.iat[r], str) else "") for r in first]
    power_engine = dataclasses.replace(
        engine, fixed=np.zeros(c), dyn=np.ones(c), util=np.zeros((n, c)), util_col=np.arange(c),
        rate=np.zeros_like(engine.rate), revenue=np.zeros_like(engine.revenue))
    return SitePhysics(power_engine, time_weather["dry_bulb_c"].values.astype(float),
                       time_weather["wet_bulb_c"].values.astype(float), engine.count.copy(), engine.fixed.copy(),
                       engine.fixed + engine.dyn, keys, len(topo.power_ids) + len(topo.cool_ids))


@dataclass
class Groups:
    """Engine classes merged into dispatch groups, and the group-level free-cooling rows."""

    of_class: np.ndarray           # (c,) group of each engine class
    count: np.ndarray              # (g,) racks per group
    keys: list[tuple]              # (g,) the racks' (system, nodes, cap_w, tier)
    max_kw: np.ndarray             # (g,) kW per rack at utilization 1
    lim_coef: np.ndarray           # (r, g) heat per kW of group power
    lim_cap_kw: np.ndarray         # (n, r) free-cooling capacity

    def rack_kw(self, group_kw: np.ndarray) -> np.ndarray:
        """(time x class) kW per rack when each group's power spreads evenly over its racks."""
        return (group_kw / self.count)[:, self.of_class]


def merge_classes(phys: SitePhysics) -> Groups:
    """Merge engine classes that have the same racks, slopes (at MERGE_STEPS ambient quantiles) and free-cooling
    exposure; keep only free-cooling rows that can bind, each distinct row once."""
    n, c = phys.dry_bulb_c.size, phys.n_classes
    m_lim, cap = phys.free_cooling()
    steps = np.unique(np.r_[np.argsort(phys.dry_bulb_c)[np.linspace(0, n - 1, MERGE_STEPS // 2).astype(int)],
                            np.argsort(phys.wet_bulb_c)[np.linspace(0, n - 1, MERGE_STEPS // 2).astype(int)]])
    ref = np.broadcast_to(phys.max_kw, (steps.size, c))
    slope = class_slopes(phys, ref, steps)
    full_heat = m_lim @ phys.max_kw                                        # heat at each limited unit at full load
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(full_heat > 0, cap[steps] / full_heat, np.inf)   # (s, r) share of full load it takes
    exposure = np.array([ratio[:, m_lim[:, k] > 0].min(axis=1) if (m_lim[:, k] > 0).any() else np.full(steps.size, np.inf)
                         for k in range(c)])
    expo = np.minimum(exposure, 1.0)               # at or above 1 the unit takes full load: it never binds
    of_class = np.full(c, -1)
    reps: list[int] = []
    for k in range(c):                     # classes are few (identical halls share one); tolerance, not rounding
        for x, r in enumerate(reps):
            if phys.keys[k] == phys.keys[r] and np.allclose(slope[:, k], slope[:, r], rtol=MERGE_RTOL, atol=0) \
                    and np.allclose(expo[k], expo[r], rtol=MERGE_RTOL, atol=0):
                of_class[k] = x
                break
        else:
            of_class[k] = len(reps)
            reps.append(k)
    g = len(reps)
    count = np.bincount(of_class, weights=phys.count, minlength=g)
    first = np.asarray(reps)
    member = np.zeros((c, g))
    member[np.arange(c), of_class] = 1.0
    coef = (m_lim @ member) / count[None, :]                              # heat per kW of group power
    keep = np.ones(coef.shape[0], dtype=bool)
    if coef.size:
        max_heat = coef @ (count * phys.max_kw[first])
        keep = max_heat > cap.min(axis=0) * (1.0 - FREE_COOLING_MARGIN)
    rows = np.concatenate([coef[keep], cap[:, keep].T], axis=1) if keep.any() else np.zeros((0, g + n))
    rows = np.unique(rows, axis=0) if rows.size else rows
    return Groups(of_class, count, [phys.keys[k] for k in first], phys.max_kw[first], rows[:, :g],
                  (rows[:, g:].T * (1.0 - FREE_COOLING_MARGIN)) if rows.size else np.zeros((n, 0)))


def class_slopes(phys: SitePhysics, rack_kw: np.ndarray, steps: np.ndarray | None = None) -> np.ndarray:
    """(time x class) grid kW per kW of each engine class's power, by finite differences of the engine."""
    base = phys.grid_kw(rack_kw, steps)
    out = np.empty(rack_kw.shape)
    for k in range(phys.n_classes):
        h = max(FD_SHARE * phys.max_kw[k], 1.0 / phys.count[k])
        bumped = np.array(rack_kw, dtype=float, copy=True)
        bumped[:, k] += h
        out[:, k] = (phys.grid_kw(bumped, steps) - base) / (h * phys.count[k])
    return out


def secant_slopes(phys: SitePhysics, groups: Groups, low: float = SECANT_LOW) -> np.ndarray:
    """(n, g) grid kW per kW of each group's rack power: the secant of the engine between `low` x and 1 x the
    group's full power, the others at full power (the range a dispatch moves in), per distinct weather (SLOPE_RES_C)."""
    key = np.round(np.c_[phys.dry_bulb_c, phys.wet_bulb_c] / SLOPE_RES_C)
    _, rep, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    full = np.broadcast_to(groups.count * groups.max_kw, (rep.size, groups.count.size))
    top = phys.grid_kw(groups.rack_kw(full), steps=rep)
    slope = np.empty(full.shape)
    for x in range(groups.count.size):
        h = (1.0 - low) * full[0, x]
        if h <= 0:
            slope[:, x] = 1.0
            continue
        bumped = np.array(full, dtype=float, copy=True)
        bumped[:, x] -= h
        slope[:, x] = (top - phys.grid_kw(groups.rack_kw(bumped), steps=rep)) / h
    return slope[inv.ravel()]


def offset(phys: SitePhysics, groups: Groups, group_kw: np.ndarray, slope: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """offset (n,) with facility grid power = offset + slope . group kW exact at `group_kw`; and the engine
    outputs there."""
    sim = phys.run(groups.rack_kw(group_kw))
    return sim["grid_power_kw"] - (slope * group_kw).sum(axis=1), sim


__all__ = ["SitePhysics", "Groups", "site_physics", "merge_classes", "class_slopes", "secant_slopes", "offset", "MERGE_STEPS"]
