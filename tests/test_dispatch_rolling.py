"""Long horizons dispatched in rolling windows: without coupling between steps they equal one LP; with a battery,
a generator ramp and deferred work they keep every carried state exact and lose little against one LP."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import solvers
from tests.conftest import small_facility
from twin.onsite import Generator, Storage

pytestmark = pytest.mark.solver
sd = importlib.import_module("solvers.dispatch")          # the module (`solvers.dispatch` is also the function)
HOURS = 96


@pytest.fixture
def short_windows(monkeypatch):
    """Windows of 24 h committed + 12 h ahead from 36 h on, so a 4-day horizon rolls through four windows."""
    monkeypatch.setattr(sd, "COMMIT_H", 24.0)
    monkeypatch.setattr(sd, "LOOKAHEAD_H", 12.0)
    monkeypatch.setattr(sd, "ROLL_AFTER_H", 36.0)


def _prices():
    h = np.arange(HOURS)
    return 80 - 40 * np.cos(2 * np.pi * (h - 6) / 24)      # USD/MWh, cheap at night


def test_uncoupled_steps_roll_to_the_single_lp_optimum(short_windows, monkeypatch):
    """No battery, no generator, nothing deferred: each step's decisions stand alone, so the windows' stitched
    optimum is the single LP's (objective and every series)."""
    f = small_facility()
    kw = dict(hours=HOURS, prices=_prices(), deadlines={"batch": 0.0})
    rolled = solvers.dispatch(f, **kw)
    monkeypatch.setattr(sd, "ROLL_AFTER_H", 1e9)
    single = solvers.dispatch(f, **kw)
    assert rolled.kpis["objective_usd"] == pytest.approx(single.kpis["objective_usd"], rel=1e-6)
    np.testing.assert_allclose(rolled.dataset.grid_import_kw, single.dataset.grid_import_kw, rtol=1e-5, atol=1e-3)


def test_rolled_battery_generator_and_backlog_carry_over_exactly(short_windows, monkeypatch):
    """Battery arbitrage, a ramp-limited generator and the batch tier's 24 h deadline across window boundaries:
    state of charge follows charge and discharge at every step (boundaries included) and ends at least where it
    started, the generator never ramps faster than its limit, no batch work waits past its deadline (checked against
    the arrivals of the last 24 h, counted here from the demand), energy balances, and the windows lose at most 2 %
    of the single LP's objective (never gain)."""
    f = small_facility()
    bat = Storage(energy_kwh=400, charge_kw=100, discharge_kw=100, charge_efficiency=0.95, discharge_efficiency=0.95)
    gen = Generator(rating_kw=200, cost_usd_per_kwh=0.09, ramp_kw_per_h=30)
    kw = dict(hours=HOURS, prices=_prices(), storage=bat, generator=gen)
    run = solvers.dispatch(f, **kw)
    ds = run.dataset
    soc, c, d = ds.battery_soc_kwh.values, ds.battery_charge_kw.values, ds.battery_discharge_kw.values
    prev = np.r_[0.5 * 400, soc[:-1]]
    np.testing.assert_allclose(soc, prev + 0.95 * c - d / 0.95, atol=1e-6)
    assert soc[-1] >= 0.5 * 400 - 1e-6
    assert np.abs(np.diff(ds.generator_kw.values)).max() <= 30 * (1 + 1e-6) + 1e-6
    served = ds.tokens_per_s.sel(tier="batch").values * 3600
    asked = ds.demand_tokens_per_s.sel(tier="batch").values * 3600
    backlog = np.cumsum(asked - served)
    within = np.array([asked[max(0, t - 23):t + 1].sum() for t in range(HOURS)])
    assert np.all(backlog <= within * (1 + 1e-6) + 1e-3 * asked.max())
    assert abs(backlog[-1]) <= 1e-6 * asked.sum()
    assert float(ds.late.max()) == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(ds.grid_import_kw, ds.grid_power_kw + c - d - ds.generator_kw, rtol=1e-12)
    assert run.met, run.explanation
    monkeypatch.setattr(sd, "ROLL_AFTER_H", 1e9)
    single = solvers.dispatch(f, **kw)
    assert run.kpis["objective_usd"] <= single.kpis["objective_usd"] * (1 + 1e-6)
    assert run.kpis["objective_usd"] >= single.kpis["objective_usd"] - 0.02 * abs(single.kpis["objective_usd"])


def test_rolled_event_is_met_with_its_notice(short_windows):
    """An event in the third window, known 6 h ahead (in the second): the rolled dispatch meets its target and the
    steps before the notice are the baseline's."""
    f = small_facility()
    ev = {"start": "2025-01-03T14:00", "duration_h": 3, "reduce_pct": 20, "notice_h": 6}
    run = solvers.dispatch(f, hours=HOURS, events=[ev])
    ds, base = run.dataset, run.baseline.dataset
    during = ds.event.values
    assert during.sum() == 3
    assert np.all(ds.grid_import_kw.values[during] <= 0.8 * base.grid_import_kw.values[during] * (1 + 1e-5))
    before = np.flatnonzero(during)[0] - 6
    np.testing.assert_allclose(ds.class_power_kw.values[:before], base.class_power_kw.values[:before], rtol=1e-6, atol=1e-6)
    assert run.met, run.explanation
