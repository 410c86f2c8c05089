"""`dispatch`: operate a facility over a horizon (hours to a year, 5-min to hourly steps) at time-varying prices,
tier demand and grid events; the LP of `models.dispatch` solved by HiGHS, cross-checked with the twin's engine.

>>> import blueprints, solvers
>>> run = solvers.dispatch(blueprints.load("ai-factory-hall"), hours=24)
>>> bool((run.dataset.grid_import_kw <= run.dataset.grid_limit_kw * (1 + 1e-6)).all())
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from models.dispatch import MTOK, build
from models.dispatch_data import TRAINING, DispatchData, Generator, Storage
from solvers.dispatch_build import ClassInfo, Training, dispatch_data
from solvers.dispatch_inputs import Event, read_events
from solvers.dispatch_physics import Groups, SitePhysics, merge_classes, offset, secant_slopes, site_physics
from solvers.highs import Session, Solution, Status
from twin.errors import TwinError
from twin.physics import gpu, tokens

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

MAX_ROUNDS = 6
COMMIT_H = 168.0
LOOKAHEAD_H = 48.0
COMMIT_STEPS = 576
LOOKAHEAD_STEPS = 288
"""Horizons longer than ROLL_AFTER_H or ROLL_AFTER_STEPS are dispatched in rolling windows: each commits COMMIT_H
hours (at most COMMIT_STEPS steps) and looks LOOKAHEAD_H (at most LOOKAHEAD_STEPS steps, never less than the longest
deadline) further; batteries, generator, backlogs and monthly peaks carry over. A year hourly is then 52 LPs of 216
steps instead of one of 8,760, a week at 5 minutes 4 LPs of 864 steps instead of one of 2,016 (measured: about half
the solve time, 0.002 % of the objective given up); what is given up is foresight beyond the window."""
ROLL_AFTER_H = 3 * COMMIT_H
ROLL_AFTER_STEPS = 3 * COMMIT_STEPS
TOL_SHARE = 1e-5
"""The LP's facility power must agree with the simulated one within this share of the grid limit."""
EXCESS_SHARE = 1e-7
"""...and the simulated import may exceed a limit by at most this share of the grid limit (else another round)."""


class DispatchError(TwinError):
    """HiGHS could not solve a dispatch; the message says what to change."""


@dataclass
class Dispatch:
    """A solved dispatch: decisions and simulated series on simulate's coords, KPIs, what could not be met."""

    dataset: xr.Dataset
    kpis: dict[str, float]
    explanation: str
    cross_check: dict[str, float]
    events: list[Event] = field(default_factory=list)
    baseline: Dispatch | None = None
    status: Status = Status.OPTIMAL

    @property
    def met(self) -> bool:
        """True when every limit, event target and deadline was met."""
        return not self.explanation

    def save(self, path):
        return self.dataset.twin.save(path)


def dispatch(
    facility: Facility,
    hours: int = 168,
    freq: str = "1h",
    *,
    weather: Any = None,
    start: str = "2025-01-01",
    prices: Any = None,
    events: Any = None,
    demand: Any = None,
    workload: tokens.Workload | None = None,
    training: Training | dict | None = None,
    storage: Storage | None = None,
    generator: Generator | None = None,
    demand_charge_usd_per_kw: float = 0.0,
    caps: bool = True,
    switch_off: bool = True,
    deadlines: dict[str, float] | None = None,
    cap_curve: str = gpu.DEFAULT_CAP_CURVE,
    per_device: bool | None = None,
    time_limit: float = 300.0,
    progress: Callable[[str], None] | None = None,
) -> Dispatch:
    """Dispatch `facility` for `hours` at `freq`: racks on, caps, tiers, deferred work, battery, generator, import.

    prices: USD/MWh (number, array per step, or CSV `time, price_usd_per_mwh`); default the site's electricity
    price. events: curtailment requests (file or list, see `solvers.dispatch_inputs.read_events`); with events
    the facility is first dispatched without them (the baseline the targets in % and the cost refer to).
    demand: tokens/s per (time, tier), or a share of capacity; default capacity x the diurnal profile.
    training: `Training(share, slowdown, deadline_h)` for a share of the racks. storage / generator: behind the
    meter; default the facility's battery and generator devices (`twin.onsite`).
    """
    evs = read_events(events)
    base = baseline(facility, hours, freq, weather=weather, start=start, prices=prices, demand=demand,
                    workload=workload, training=training, storage=storage, generator=generator,
                    demand_charge_usd_per_kw=demand_charge_usd_per_kw, caps=caps, switch_off=switch_off,
                    deadlines=deadlines, cap_curve=cap_curve, time_limit=time_limit, progress=progress,
                    label=" without events (baseline)" if evs else "")
    if per_device is None:
        per_device = base.data.n_steps * base.phys.n_devices <= 20_000_000
    if not evs:
        return base.result(per_device)
    return base.under(evs, per_device, progress)


@dataclass
class Baseline:
    """A facility prepared for dispatch (physics, classes, arrays) and dispatched without events; `under(events)`
    re-dispatches it under grid events, warm-started, as often as needed (the flexibility report does)."""

    facility: Facility
    data: DispatchData
    phys: SitePhysics
    groups: Groups
    info: ClassInfo
    wx: Any
    workload: tokens.Workload
    solved: _Solved
    time_limit: float
    _plain: Dispatch | None = None

    def result(self, per_device: bool = False) -> Dispatch:
        """The dispatch without events."""
        if per_device:
            return _result(self.facility, self.data, self.phys, self.groups, self.info, self.solved, self.wx,
                           self.workload, [], None, True)
        if self._plain is None:
            self._plain = _result(self.facility, self.data, self.phys, self.groups, self.info, self.solved, self.wx,
                                  self.workload, [], None, False)
        return self._plain

    def under(self, events: Any, per_device: bool = False, progress: Callable[[str], None] | None = None) -> Dispatch:
        """The dispatch under `events` (targets in % and costs against this baseline; decisions before the
        earliest notice kept)."""
        evs = read_events(events)
        (progress or (lambda _msg: None))("dispatching with the events")
        base = self.solved
        ev_data = with_events(self.data, evs, base.grid_kw)
        ev_data.pinned = base.values
        ev_data.fixed_before = min(e.notice_step(self.data.time) for e in evs)
        run = _solve(ev_data, self.phys, self.groups, self.info, self.time_limit, start=base.group_kw,
                     slope=base.slope, sessions=base.sessions)
        return _result(self.facility, ev_data, self.phys, self.groups, self.info, run, self.wx, self.workload, evs,
                       self.result(), per_device)


def baseline(facility: Facility, hours: int = 168, freq: str = "1h", *, weather: Any = None, start: str = "2025-01-01",
             prices: Any = None, demand: Any = None, workload: tokens.Workload | None = None,
             training: Training | dict | None = None, storage: Storage | None = None, generator: Generator | None = None,
             demand_charge_usd_per_kw: float = 0.0, caps: bool = True, switch_off: bool = True,
             deadlines: dict[str, float] | None = None, cap_curve: str = gpu.DEFAULT_CAP_CURVE, time_limit: float = 300.0,
             progress: Callable[[str], None] | None = None, label: str = "") -> Baseline:
    """Prepare `facility` for dispatch and dispatch it without events (arguments as `dispatch`)."""
    import twin.weather as weather_mod
    from twin.physics.topology import build as topology

    say = progress or (lambda _msg: None)
    workload = workload if workload is not None else tokens.Workload()
    if isinstance(training, dict):
        training = Training(**training)
    wx = weather_mod.load(weather if weather is not None else facility.climate, hours=int(hours), freq=freq, start=start)
    time = wx["time"].values
    topo = topology(facility)
    say("preparing the twin's physics")
    phys = site_physics(facility, topo, facility.catalog, workload, wx, cap_curve)
    groups = merge_classes(phys)
    if storage is None or generator is None:
        from twin.onsite import behind_the_meter

        own_storage, own_generator = behind_the_meter(facility)
        storage = storage if storage is not None else own_storage
        generator = generator if generator is not None else own_generator
    data, info = dispatch_data(facility, groups, time, workload=workload, prices=prices, demand=demand,
                               training=training, caps=caps, switch_off=switch_off, cap_curve=cap_curve,
                               deadlines=deadlines, storage=storage, generator=generator,
                               demand_charge_usd_per_kw=demand_charge_usd_per_kw)
    say("dispatching" + label)
    solved = _solve(data, phys, groups, info, time_limit)
    return Baseline(facility, data, phys, groups, info, wx, workload, solved, time_limit)


def with_events(data: DispatchData, events: list[Event], baseline_kw: np.ndarray) -> DispatchData:
    """A copy of `data` whose import limit, price and penalty follow the events (targets from `baseline_kw`)."""
    limit = data.limit_kw.copy()
    payment = np.zeros(data.n_steps)
    penalty = np.array(data.penalty_usd_per_kwh, dtype=float, copy=True)
    for e in events:
        m = e.mask(data.time, data.step_h)
        if not m.any():
            raise TwinError(f"event {e.id!r} ({e.start}, {e.duration_h:g} h) lies outside the dispatch horizon "
                            f"{data.time[0]} .. {data.time[-1]}; lengthen --hours or move the event")
        limit[m] = np.minimum(limit[m], e.target_kw(baseline_kw[m], float(data.limit_kw[m].min())))
        payment[m] += e.payment_usd_per_mwh / 1000.0
        if e.penalty_usd_per_mwh is not None:
            penalty[m] = e.penalty_usd_per_mwh / 1000.0
    return dataclasses.replace(data, limit_kw=limit, payment_usd_per_kwh=payment, penalty_usd_per_kwh=penalty,
                               baseline_kw=np.asarray(baseline_kw, dtype=float))


@dataclass
class _Solved:
    values: dict[str, np.ndarray]  # per-step families (n, k)
    group_kw: np.ndarray           # (n, g)
    grid_kw: np.ndarray            # (n,) import the LP planned
    sim: dict[str, np.ndarray]     # engine outputs at the dispatched power
    model_kw: np.ndarray           # (n,) facility power the LP's line gave
    rounds: int
    solution: Solution             # HiGHS's last (one LP) or last window's solution
    timings: dict[str, float]
    slope: np.ndarray              # (n, g) the LP's grid kW per kW of group power
    sessions: list                 # HiGHS holding each window's last problem (warm starts)
    objective: float               # USD: the committed steps' part of the objective + demand charges


def _solve(data: DispatchData, phys: SitePhysics, groups: Groups, info: ClassInfo, time_limit: float,
           start: np.ndarray | None = None, slope: np.ndarray | None = None, sessions: list | None = None) -> _Solved:
    """Solve with the twin's line through a reference dispatch, move the reference to the solution, repeat until
    the simulated facility power equals the planned one (within TOL_SHARE of the limit); then steps whose simulated
    import is still above their limit get that excess taken off it for another round. Each round is one LP, or for
    horizons beyond ROLL_AFTER_H the rolling windows in turn; the engine runs once per round over the horizon."""
    import time as clock

    n = data.n_steps
    t0 = clock.perf_counter()
    slope_g = secant_slopes(phys, groups) if slope is None else slope
    timings = {"physics_s": clock.perf_counter() - t0, "build_s": 0.0, "solve_s": 0.0}
    ref = start if start is not None else np.broadcast_to(groups.count * groups.max_kw, (n, groups.count.size)).copy()
    tol = max(TOL_SHARE * float(np.max(data.limit_kw)), 1e-3)
    margin = np.zeros(n)
    limit = data.limit_kw.copy()
    rolled = float(np.sum(data.step_h)) > ROLL_AFTER_H or n > ROLL_AFTER_STEPS
    sessions = list(sessions) if sessions is not None else []
    prev = None
    for rounds in range(1, MAX_ROUNDS + 1):
        t0 = clock.perf_counter()
        base, sim = offset(phys, groups, ref, slope_g)
        timings["physics_s"] += clock.perf_counter() - t0
        if prev is not None:
            err = sim["grid_power_kw"] - prev.model_kw
            excess = prev.grid_kw + err - limit
            if np.max(np.abs(err)) <= tol:
                if np.max(excess) <= EXCESS_SHARE * tol / TOL_SHARE:
                    break
                margin += np.maximum(excess, 0.0)      # the line is right; what is left over is the solver's tolerance
        data.offset_kw, data.slope = base, slope_g[:, info.group]
        data.limit_kw = limit - margin
        values, objective, sol = (_windows if rolled else _one)(data, sessions, time_limit, timings)
        class_kw = _class_kw(data, values)
        group_kw = np.zeros((n, groups.count.size))
        np.add.at(group_kw.T, info.group, class_kw.T)
        prev = _Solved(values, group_kw, values["grid"][:, 0], sim, base + (slope_g * group_kw).sum(axis=1),
                       rounds, sol, timings, slope_g, sessions, objective)
        ref = group_kw
    else:
        sim = phys.run(groups.rack_kw(prev.group_kw))
    data.limit_kw = limit
    return dataclasses.replace(prev, sim=sim, timings=timings)


def _lp(data: DispatchData, sessions: list, k: int, time_limit: float, timings: dict) -> tuple[dict, np.ndarray, Solution]:
    """Build and solve one LP in the k-th HiGHS session (warm from its last problem when the matrix is the same):
    (per-step values, each step's part of the objective, the solution)."""
    import time as clock

    n = data.n_steps
    t0 = clock.perf_counter()
    lp = build(data)
    if k < len(sessions):
        try:
            sessions[k].update(lp)
        except ValueError:                          # another matrix (e.g. other cap levels): start afresh
            sessions[k] = Session(lp, time_limit=time_limit)
    else:
        sessions.append(Session(lp, time_limit=time_limit))
    t1 = clock.perf_counter()
    sol = sessions[k].solve()
    timings["build_s"] += t1 - t0
    timings["solve_s"] += clock.perf_counter() - t1
    if not sol.ok:
        raise DispatchError(f"HiGHS ended with status {sol.status.value} on the dispatch LP ({lp.n_vars:,} variables, "
                            f"{lp.n_rows:,} rows); raise time_limit={time_limit:g} or shorten the horizon")
    values, step_usd = {}, np.zeros(n)
    for (name, f), cost in zip(lp.var_families.items(), lp.cost):
        if f.index.names[0] == "t":
            values[name] = sol.x[f.start:f.stop].reshape(n, -1)
            step_usd += (cost * sol.x[f.start:f.stop]).reshape(n, -1).sum(axis=1)
    return values, step_usd, sol


def _one(data: DispatchData, sessions: list, time_limit: float, timings: dict) -> tuple[dict, float, Solution]:
    values, _, sol = _lp(data, sessions, 0, time_limit, timings)
    return values, float(sol.objective), sol


def _windows(data: DispatchData, sessions: list, time_limit: float, timings: dict) -> tuple[dict, float, Solution]:
    """The horizon in rolling windows (see COMMIT_H): each window's first COMMIT_H hours are kept, and its battery
    charge, generator output, backlog and monthly peaks start the next."""
    hours = np.cumsum(data.step_h)
    n = data.n_steps
    step = float(np.median(data.step_h))
    look = max(min(LOOKAHEAD_H, LOOKAHEAD_STEPS * step), float(np.max(data.deadline_h, initial=0.0)))
    commit = min(COMMIT_H, COMMIT_STEPS * step)
    cuts = np.searchsorted(hours, np.arange(commit, hours[-1], commit) + 1e-9, side="right")
    bounds = np.unique(np.r_[0, cuts[cuts < n], n])
    months = data.time.astype("datetime64[M]").astype(np.int64)
    full = dataclasses.replace(data, horizon_window=data.window())
    peaks: dict[int, float] = {}
    carry: dict[str, Any] = {"soc": data.storage.soc_start * data.storage.energy_kwh, "backlog": None, "gen": None}
    parts, usd = [], 0.0
    per_rack_h = data.tier_rate() * data.unit_per_h()
    deferred = np.flatnonzero(data.deadline_h > 0)
    for w, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        c = int(np.searchsorted(hours, hours[b - 1] + look + 1e-9, side="right")) if b < n else n
        values, step_usd, sol = _lp(_slice(full, slice(a, c), months, peaks, carry), sessions, w, time_limit, timings)
        got = {name: v[:b - a] for name, v in values.items()}
        parts.append(got)
        usd += float(step_usd[:b - a].sum())
        if "soc" in got:
            carry["soc"] = float(got["soc"][-1, 0])
        if "gen" in got:
            carry["gen"] = float(got["gen"][-1, 0])
        if deferred.size:
            carry["backlog"] = np.zeros(len(data.tiers))
            carry["backlog"][deferred] = got["backlog"][-1] * per_rack_h[deferred]
        for m in np.unique(months[a:b]):
            peaks[int(m)] = max(peaks.get(int(m), 0.0), float(got["grid"][months[a:b] == m, 0].max()))
    joined = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    return joined, usd - data.demand_charge_usd_per_kw * sum(peaks.values()), sol


def _slice(data: DispatchData, sl: slice, months: np.ndarray, peaks: dict[int, float], carry: dict[str, Any]) -> DispatchData:
    """The steps `sl` of a dispatch as its own horizon, starting where the committed steps before it left the
    battery, generator, backlog and each month's import peak."""
    n = data.n_steps
    cut = {f.name: getattr(data, f.name)[sl] for f in dataclasses.fields(data)
           if isinstance(getattr(data, f.name), np.ndarray) and getattr(data, f.name).shape[:1] == (n,)}
    sub = dataclasses.replace(data, **cut, backlog_start=carry["backlog"], gen_start_kw=carry["gen"])
    if data.storage.energy_kwh > 0:
        sub.storage = dataclasses.replace(data.storage, soc_start=carry["soc"] / data.storage.energy_kwh)
        sub.soc_end_kwh = data.storage.soc_start * data.storage.energy_kwh
    if data.demand_charge_usd_per_kw > 0:
        sub.peak_start_kw = np.array([peaks.get(int(m), 0.0) for m in np.unique(months[sl])])
    if data.pinned is not None:
        sub.pinned = {k: v[sl] for k, v in data.pinned.items()}
        sub.fixed_before = int(np.clip(data.fixed_before - sl.start, 0, sl.stop - sl.start))
    return sub


def _class_kw(data: DispatchData, values: dict[str, np.ndarray]) -> np.ndarray:
    """(n, d) rack power of each dispatch class from the LP's racks on and work."""
    gk = np.argwhere(np.isfinite(data.dyn_kw))
    kw = values["on"] * data.fixed_kw[None, :]
    np.add.at(kw.T, gk[:, 0], (values["work"] * data.dyn_kw[gk[:, 0], gk[:, 1]][None, :]).T)
    return kw


def _result(facility, data, phys, groups, info, solved: _Solved, wx, workload, events, baseline, per_device) -> Dispatch:
    from solvers.dispatch_result import dataset, explain, kpis

    sim, coords = solved.sim, None
    if per_device:
        topo = phys.engine.topo
        sim = phys.run(groups.rack_kw(solved.group_kw), per_device=True)
        coords = {"device": ("device", np.array(topo.power_ids + topo.cool_ids, dtype=str), {"long_name": "device id"}),
                  "device_kind": ("device", np.concatenate([topo.power_kind, topo.cool_kind]).astype(str)),
                  "device_rating_kw": ("device", np.concatenate([topo.power_rating, topo.cool_rating]), {"units": "kW"})}
    ds = dataset(facility, data, info, solved, sim, wx, workload, events, coords)
    k = kpis(data, ds, solved.objective, baseline)
    err = sim["grid_power_kw"] - solved.model_kw
    check = {
        "grid_max_abs_kw": float(np.max(np.abs(err))),
        "grid_max_rel": float(np.max(np.abs(err) / np.maximum(sim["grid_power_kw"], 1e-9))),
        "rounds": float(solved.rounds),
        "throttled_steps": float(np.sum(sim["throttling"])),
        **{k_: float(v) for k_, v in solved.timings.items()},
    }
    ds.attrs.update({f"cross_check_{k_}": v for k_, v in check.items()})
    text = explain(data, ds, events)
    return Dispatch(ds, k, text, check, events, baseline, solved.solution.status)


__all__ = ["dispatch", "baseline", "Baseline", "Dispatch", "DispatchError", "with_events", "Training", "Storage", "Generator", "TRAINING", "MTOK"]
