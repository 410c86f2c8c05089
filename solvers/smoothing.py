"""`smoothing`: the cheapest GPU power floor and storage that keep a training job's grid power within ramp and
oscillation limits (the LP of `models.smoothing`), verified by re-simulating the job's hour with those sizes.

>>> from twin.dynamics import Limits, TrainingJob
>>> s = smoothing(TrainingJob(gpus=72 * 64), limits=Limits(ramp_mw_per_s=0.5, bands_hz=((0.1, 5.0, 0.2),)), seconds=600)
>>> s.after["ok"] and not s.before["ok"]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.smoothing import SmoothingData, build
from solvers.highs import solve_direct
from twin.dynamics import Limits, TrainingJob, check, job_power
from twin.dynamics.training import in_checkpoint, iterations
from twin.errors import InfeasibleDesign

STORAGE_USD_PER_KW_YEAR = 30.0
"""Assumption: annualized cost of storage power (inverter, PSU capacitors), USD per kW-year."""
STORAGE_USD_PER_KWH_YEAR = 40.0
"""Assumption: annualized cost of storage energy, USD per kWh-year (a utility battery of ~1,500 USD/kW for 4 h
recovered over 15 years at 7 %); rack-level storage costs more per kWh and less per kW."""


@dataclass
class Smoothing:
    """Sizes, cost and the job's hour before and after, checked against the limits."""

    floor_kw: float
    storage_kw: float
    storage_kwh: float
    cost_usd_per_year: float
    burn_mwh_per_year: float
    before: dict
    after: dict
    series: dict = field(repr=False, default_factory=dict)   # t_s, load_kw, grid_kw, storage_kw, soc_kwh, burn_kw


def smoothing(job: TrainingJob, catalog=None, limits: Limits = Limits(), *, hz: float = 10.0, seconds: float = 3600.0,
              usd_per_kwh: float = 0.08, usd_per_kw_year: float = STORAGE_USD_PER_KW_YEAR,
              usd_per_kwh_year: float = STORAGE_USD_PER_KWH_YEAR) -> Smoothing:
    """Size the floor and storage for `job` (steady iterations and its checkpoints; start and stop ramps are the
    job's own `ramp_s`), then re-simulate `seconds` of it running and check the limits independently (FFT, ramps,
    state of charge, storage power)."""
    from twin.catalog import default_catalog
    from twin.physics import gpu

    catalog = catalog or default_catalog()
    per_iter = job.iteration_s * hz
    if abs(per_iter - round(per_iter)) > 1e-9:
        raise InfeasibleDesign(f"iteration_s x hz = {per_iter:g} samples; pick hz so that an iteration is whole samples")
    na = int(round(per_iter))
    _, p_a = job_power(job, catalog, seconds=job.iteration_s, hz=hz, steady=True)
    spec = catalog.system(job.system)
    idle = _idle_kw(job, spec, gpu)
    every, dip = iterations(job)
    ramp_kw = limits.ramp_mw_per_s * 1000.0
    margin_s = 1.5 * (float(p_a.mean()) - idle) / ramp_kw + 2.0
    pad = int(np.ceil(margin_s / job.iteration_s)) * na
    inside = np.r_[np.zeros(pad, bool), np.ones(dip * na, bool), np.zeros(pad, bool)]
    data = SmoothingData(hz=hz, p_a=p_a, inside_b=inside, idle_kw=idle, ramp_kw_per_s=ramp_kw,
                         bands=[(lo, hi, a * 1000.0) for lo, hi, a in limits.bands_hz],
                         steady_share=1.0 - dip / every, checkpoints_per_h=3600.0 / (every * job.iteration_s),
                         usd_per_kwh=usd_per_kwh, usd_per_kw_year=usd_per_kw_year, usd_per_kwh_year=usd_per_kwh_year)
    lp = build(data)
    sol = solve_direct(lp, time_limit=120)
    if not sol.ok:
        raise InfeasibleDesign(f"no floor and storage meet a ramp of {limits.ramp_mw_per_s:g} MW/s and the bands "
                               f"{limits.bands_hz} (HiGHS: {sol.status.value}); loosen the limits")
    v = {name: sol.x[f.start:f.stop] for name, f in lp.var_families.items()}
    size = {k: float(v[k][0]) for k in ("floor", "power", "energy")}
    t, load = job_power(_running(job), catalog, seconds=seconds, hz=hz)
    dips = in_checkpoint(job, t, hz)
    phase = np.mod(np.arange(t.size), na)
    store = np.where(dips, 0.0, v["store_a"][phase])
    burn = np.where(dips, 0.0, v["burn_a"][phase])
    starts = np.flatnonzero(np.diff(np.r_[0, dips.astype(int)]) == 1)
    for s0 in starts:                                   # window B centred on every checkpoint
        lo = s0 - pad
        a, b = max(lo, 0), min(lo + inside.size, t.size)
        store[a:b] += v["store_b"][a - lo:b - lo]
        burn[a:b] += v["burn_b"][a - lo:b - lo]
    grid = load + burn - store
    soc = -np.cumsum(store) / hz / 3600.0
    soc = soc - soc.min()
    after = check(grid, hz, limits)
    after["storage_kw_max"] = float(np.abs(store).max())
    after["soc_range_kwh"] = float(soc.max())
    after["ok"] = bool(after["ok"] and after["storage_kw_max"] <= size["power"] * (1 + 1e-6) + 1e-6
                       and after["soc_range_kwh"] <= size["energy"] * (1 + 1e-6) + 1e-9)
    burn_year = (float(v["burn_a"].mean()) * data.steady_share
                 + float(v["burn_b"].sum()) / hz / 3600.0 * data.checkpoints_per_h) * data.hours_per_year / 1000.0
    return Smoothing(size["floor"], size["power"], size["energy"], float(sol.objective), burn_year,
                     check(load, hz, limits), after,
                     {"t_s": t, "load_kw": load, "grid_kw": grid, "storage_kw": store, "soc_kwh": soc, "burn_kw": burn})


def _idle_kw(job: TrainingJob, spec, gpu) -> float:
    cap = spec.gpu_tdp_w if job.cap_w is None else job.cap_w
    fixed, _ = gpu.rack_power_terms_kw(spec, job.gpus / spec.gpus_per_node, cap)
    racks = job.gpus / (spec.gpus_per_node * max(spec.nodes_per_rack))
    return float(fixed + max(racks - 1.0, 0.0) * spec.rack_overhead_w / 1000.0)


def _running(job: TrainingJob) -> TrainingJob:
    """The job already running at the window's start (its start ramp before it), so the hour shows steady work."""
    import dataclasses

    return dataclasses.replace(job, start_s=-job.ramp_s - job.iteration_s, stop_s=None)


__all__ = ["smoothing", "Smoothing", "STORAGE_USD_PER_KW_YEAR", "STORAGE_USD_PER_KWH_YEAR"]
