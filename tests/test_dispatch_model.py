"""The dispatch LP on hand-built arrays: optima computed by hand (in each docstring) or by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models.dispatch import build
from models.dispatch_data import DispatchData
from solvers.highs import solve_direct, solve_pyomo
from twin.onsite import Generator, Storage

pytestmark = pytest.mark.solver


def hand(n=1, **kw) -> DispatchData:
    """One class of 2 racks: 1 kW on, +9 kW at full cap (speed 1) or +6 kW at 70 % cap (speed 0.8); one tier
    'std' at 10 USD/Mtok, 1,000 tokens/s per rack at full speed (36 USD per full-speed rack-hour)."""
    t = np.arange("2025-01-01T00", f"2025-01-01T{n:02d}", dtype="datetime64[h]")
    base = dict(time=t, step_h=np.ones(n), classes=["a"], count=np.array([2.0]), fixed_kw=np.array([1.0]),
                dyn_kw=np.array([[6.0, 9.0]]), speed=np.array([[0.8, 1.0]]), tiers=["std"],
                tokens_per_s=np.array([[1000.0]]), usd_per_mtok=np.array([[10.0]]), demand=np.full((n, 1), 1e9),
                deadline_h=np.zeros(1), drop_usd_per_mtok=np.zeros(1), offset_kw=np.zeros(n), slope=np.ones((n, 1)),
                limit_kw=np.full(n, 12.0), price_usd_per_kwh=np.full(n, 0.1))
    base.update(kw)
    return DispatchData(**base)


def solve(data):
    lp = build(data)
    sol = solve_direct(lp)
    assert sol.ok
    return sol, {k: sol.x[f.start:f.stop] for k, f in lp.var_families.items()}


def test_power_limited_racks_run_capped_and_some_are_switched_off():
    """Under a 12 kW limit a rack at 70 % cap earns 28.8 USD/h for 7 kW (4.11 USD/kW) vs 36 for 10 kW: all work at
    70 %, 12/7 racks on (continuous counts): profit = 36 x 0.8 x 12/7 - 12 x 0.1."""
    sol, v = solve(hand())
    assert sol.objective == pytest.approx(36 * 0.8 * 12 / 7 - 1.2, rel=1e-7)
    assert v["on"][0] == pytest.approx(12 / 7, rel=1e-7)


def test_racks_kept_on_spread_the_power_over_more_racks():
    """Both racks on (2 kW idle) leave 10 kW: 10/6 units at 70 % cap, speed 4/3: profit = 36 x 4/3 - 1.2."""
    sol, _ = solve(hand(switch_off=False))
    assert sol.objective == pytest.approx(36 * 4 / 3 - 1.2, rel=1e-7)


def test_equals_brute_force_over_a_grid_of_decisions():
    """Every (on, work at each cap) on a 1/84 grid (12/7 and 10/6 lie on it): none beats the LP, the best equals it."""
    data = hand()
    sol, _ = solve(data)
    grid = np.arange(0, 2 + 1e-9, 1 / 84)
    best = -np.inf
    for on, w0, w1 in itertools.product(grid, grid, grid):
        power = on * 1.0 + 6 * w0 + 9 * w1
        if w0 + w1 > on + 1e-12 or power > 12 + 1e-9:
            continue
        best = max(best, 36 * (0.8 * w0 + w1) - 0.1 * power)
    assert best <= sol.objective + 1e-9
    assert best == pytest.approx(sol.objective, rel=1e-9)


def test_pyomo_and_direct_paths_agree():
    data = hand(n=3, price_usd_per_kwh=np.array([0.1, 0.5, 0.05]), limit_kw=np.array([12.0, 5.0, 20.0]))
    lp = build(data)
    a, b = solve_direct(lp), solve_pyomo(lp)
    assert a.objective == pytest.approx(b.objective, rel=1e-8)


def test_battery_arbitrage_by_hand():
    """Load 1 kW, price 0 then 0.2 USD/kWh, 1 kWh / 1 kW battery at 90 % each way, half full and at least half full at
    the end: charge 0.5/0.9 = 0.556 kWh at 0 (full), discharge 0.9 x 0.9 x 0.556 = 0.45 kWh later: cost 0.2 x 0.55."""
    bess = Storage(energy_kwh=1, charge_kw=1, discharge_kw=1, charge_efficiency=0.9, discharge_efficiency=0.9, soc_start=0.5)
    data = hand(n=2, demand=np.zeros((2, 1)), offset_kw=np.ones(2), price_usd_per_kwh=np.array([0.0, 0.2]), storage=bess)
    sol, v = solve(data)
    assert sol.objective == pytest.approx(-0.2 * 0.55, rel=1e-7)
    assert v["discharge"][1] == pytest.approx(0.45, rel=1e-7)
    assert v["soc"][-1] == pytest.approx(0.5, abs=1e-9)


def test_deferred_work_waits_for_the_grid():
    """Batch demand of 100 tokens/s in hour 0 (deadline 2 h), no import allowed in hour 0: the 360,000 tokens are
    served in hour 1 on one rack at full speed (10 kW): revenue 3.6 USD, energy 10 kWh x 0.1, and the tokens waited
    one hour at the holding cost of 0.001 USD per million tokens per hour."""
    data = hand(n=2, count=np.array([1.0]), fixed_kw=np.array([0.0]), dyn_kw=np.array([[10.0]]), speed=np.array([[1.0]]),
                tokens_per_s=np.array([[100.0]]), tiers=["batch"], deadline_h=np.array([2.0]),
                demand=np.array([[100.0], [0.0]]), limit_kw=np.array([0.0, 20.0]))
    sol, v = solve(data)
    assert sol.objective == pytest.approx(3.6 - 1.0 - 0.36 * 1e-3, rel=1e-9)
    assert v["backlog"][0] == pytest.approx(1.0, rel=1e-7)          # 360,000 tokens = 1 rack-hour at 100 tokens/s
    assert v["late"].max() == pytest.approx(0.0, abs=1e-6)


def test_deadline_missed_only_through_the_elastic_late_variable():
    data = hand(n=2, count=np.array([1.0]), fixed_kw=np.array([0.0]), dyn_kw=np.array([[10.0]]), speed=np.array([[1.0]]),
                tokens_per_s=np.array([[100.0]]), tiers=["batch"], deadline_h=np.array([1.0]),
                demand=np.array([[100.0], [0.0]]), limit_kw=np.array([0.0, 0.0]))
    _, v = solve(data)
    assert v["late"][1] == pytest.approx(1.0, rel=1e-7)             # the rack-hour of 360,000 tokens


def test_generator_follows_prices_within_its_ramp():
    """Load 100 kW; grid 1, 0.1, 1 USD/kWh; a 60 kW generator at 0.3 USD/kWh ramping 20 kW/h: 60, 40, 60 kW (lower
    in hour 1 would force hours 0 and 2 down too: saving 0.2 per kW there costs 1.4)."""
    gen = Generator(rating_kw=60, cost_usd_per_kwh=0.3, ramp_kw_per_h=20)
    data = hand(n=3, demand=np.zeros((3, 1)), offset_kw=np.full(3, 100.0), limit_kw=np.full(3, 1e6),
                price_usd_per_kwh=np.array([1.0, 0.1, 1.0]), generator=gen)
    sol, v = solve(data)
    np.testing.assert_allclose(v["gen"], [60.0, 40.0, 60.0], rtol=1e-8)
    assert sol.objective == pytest.approx(-(0.3 * 160 + 40 + 6 + 40), rel=1e-8)


def test_demand_charge_shaves_the_peak_with_the_battery():
    """Loads 10 then 20 kW; 100 USD per kW of peak; free energy; a 10 kWh / 10 kW lossless battery full at the start:
    discharging 5 kW in hour 1 and recharging 5 kW in hour 0 would break the end-of-horizon rule, so the peak
    falls only by what the battery can give and take back: charge 5 in hour 0 (15 kW), give 5 in hour 1 (15 kW)."""
    bess = Storage(energy_kwh=10, charge_kw=10, discharge_kw=10, soc_start=0.5)
    data = hand(n=2, demand=np.zeros((2, 1)), offset_kw=np.array([10.0, 20.0]), price_usd_per_kwh=np.zeros(2),
                limit_kw=np.full(2, 100.0), storage=bess, demand_charge_usd_per_kw=100.0)
    sol, v = solve(data)
    assert sol.objective == pytest.approx(-1500.0, rel=1e-7)
    np.testing.assert_allclose(v["grid"], [15.0, 15.0], rtol=1e-7)
