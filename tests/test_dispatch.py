"""`solvers.dispatch` on facilities: the dispatched series re-simulated, energy balance, limits, curtailment of a
mixed site, the elastic explanation, and brute force over the twin's own engine."""

from __future__ import annotations

import numpy as np
import pytest

import blueprints
import solvers
import twin
from solvers.dispatch_physics import merge_classes, site_physics
from tests.conftest import small_facility
from twin.physics.tokens import Workload

pytestmark = pytest.mark.solver
INTERACTIVE = ("free", "standard", "premium")


def test_full_demand_without_caps_reproduces_simulate():
    """Demand at full capacity, caps and switching off disabled: the dispatch must run every rack flat out, so its
    grid, cooling, losses and tokens equal twin.simulate at utilization 1."""
    f = small_facility()
    run = solvers.dispatch(f, hours=24, demand=1.0, caps=False, switch_off=False)
    sim = twin.simulate(f, hours=24, utilization=1.0)
    ds = run.dataset
    for name in ("grid_power_kw", "it_power_kw", "cooling_power_kw", "losses_kw", "aux_power_kw"):
        np.testing.assert_allclose(ds[name].values, sim[name].values, rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(ds["tokens_per_s"].sel(tier=sim.tier.values).values, sim["tokens_per_s"].values, rtol=1e-6)


def test_diurnal_demand_reproduces_simulate_diurnal():
    """Default demand (each tier's capacity share x the diurnal profile), racks kept on at their caps: utilization
    follows the profile exactly, as twin.simulate(utilization='diurnal') has it (batch made interactive, else the
    dispatch may shift it to a cooler hour)."""
    f = small_facility()
    run = solvers.dispatch(f, hours=48, caps=False, switch_off=False, deadlines={"batch": 0.0})
    sim = twin.simulate(f, hours=48, utilization="diurnal")
    for name in ("grid_power_kw", "cooling_power_kw", "losses_kw"):
        np.testing.assert_allclose(run.dataset[name].values, sim[name].values, rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(run.dataset["tokens_per_s"].sel(tier=sim.tier.values).values, sim["tokens_per_s"].values,
                               rtol=1e-6)


def test_energy_balances_every_step_and_the_cross_check_holds():
    f = small_facility()
    run = solvers.dispatch(f, hours=24, events=[{"start": "2025-01-01T10:00", "duration_h": 4, "target_mw": 0.3}])
    ds = run.dataset
    parts = ds.it_power_kw + ds.losses_kw + ds.cooling_power_kw + ds.aux_power_kw
    np.testing.assert_allclose(ds.grid_power_kw, parts, rtol=1e-12)
    np.testing.assert_allclose(ds.grid_import_kw, ds.grid_power_kw + ds.battery_charge_kw - ds.battery_discharge_kw
                               - ds.generator_kw, rtol=1e-12)
    assert run.cross_check["grid_max_rel"] < 1e-4
    assert float((ds.grid_import_kw - ds.grid_limit_kw).max()) <= 1e-5 * 1000
    assert run.met, run.explanation


@pytest.fixture(scope="module")
def hall():
    return blueprints.load("ai-factory-hall")


def test_a_quarter_off_for_three_hours_keeps_interactive_tiers_served(hall):
    """Mixed site: half the racks train (25 % slowdown allowed), a batch tier with a 24 h deadline. A 25 % cut for
    3 h at the afternoon peak, 1 h notice. Where the baseline's flexible load (training racks + batch serving) is at
    least the cut, no interactive token is dropped, import stays under the target, and the cost is reported."""
    event = {"id": "peak-cut", "start": "2025-01-01T13:00", "duration_h": 3, "reduce_pct": 25, "notice_h": 1}
    run = solvers.dispatch(hall, hours=48, events=[event], training={"share": 0.5, "slowdown": 0.25, "deadline_h": 24})
    ds = run.dataset
    during = ds.event.values
    assert during.sum() == 3
    base = run.baseline.dataset
    imp = base.grid_import_kw.values[during]
    train_kw = base.class_power_kw.where(base.class_role == "training").sum("rack_class").values[during]
    inf_kw = base.class_power_kw.where(base.class_role == "inference").sum("rack_class").values[during]
    batch_share = (base.tokens_per_s.sel(tier="batch") / base.tokens_per_s.drop_sel(tier="training").sum("tier")).values[during]
    assert np.all(train_kw + batch_share * inf_kw >= 0.25 * imp)       # the premise: flexible load covers the cut
    assert np.all(ds.grid_import_kw.values[during] <= 0.75 * imp * (1 + 1e-5))
    assert float(ds.dropped_tokens_per_s.sel(tier=list(INTERACTIVE)).sum()) == pytest.approx(0.0, abs=1e-3)
    for t in INTERACTIVE:
        np.testing.assert_allclose(ds.tokens_per_s.sel(tier=t).values, base.tokens_per_s.sel(tier=t).values, rtol=1e-6)
    assert run.met, run.explanation
    assert np.isfinite(run.kpis["curtailment_cost_usd"])      # cash: may be negative (work shifted to cooler hours)
    assert run.kpis["curtailment_shadow_cost_usd"] > 0        # deferred work waits, which the LP prices
    assert run.kpis["recovery_h"] > 0
    assert run.kpis["curtailed_mwh"] == pytest.approx(0.25 * float(imp.sum()) / 1000, rel=1e-3)


def test_a_target_no_dispatch_can_meet_is_explained_in_mw_and_hours(hall):
    """Import cut to 1 MW for 2 h: the site's own auxiliaries and the cooling plant's floor alone need more; the
    result says by how much and for how long, and flags the steps."""
    run = solvers.dispatch(hall, hours=24, events=[{"start": "2025-01-01T02:00", "duration_h": 2, "target_mw": 0.0}])
    assert not run.met
    assert "during grid events for 2 h" in run.explanation and "MW more than" in run.explanation
    over = run.dataset.over_limit_kw.values
    assert (over > 0).sum() == 2
    assert run.kpis["over_limit_mwh"] == pytest.approx(float(over.sum()) / 1000, rel=1e-9)


def test_interactive_tiers_are_cut_least_valuable_per_rack_first(hall):
    """No training and no batch tier: a 25 % cut must drop interactive tokens. A rack-hour of a tier is worth
    (price + the drop penalty) x its tokens per rack-hour, so the tier worth least per rack loses most, the one worth
    most loses nothing."""
    from models.dispatch_data import TOKENS_PER_S_TO_PER_H
    from solvers.dispatch_build import DROP_TIER
    from twin.physics import tokens

    wl = Workload(tier_mix={"free": 1, "standard": 1, "premium": 1})
    run = solvers.dispatch(hall, hours=24, workload=wl, events=[{"start": "2025-01-01T13:00", "duration_h": 3, "reduce_pct": 25}])
    penalty = hall.catalog.tier(DROP_TIER).price_usd_per_mtok
    value = {}
    for t in INTERACTIVE:
        point = tokens.tier_point(hall.catalog, "gb200_nvl72", t, wl)
        price = tokens.revenue_usd_per_mtok(hall.catalog, t, point.output_share)
        value[t] = (price + penalty) * point.tokens_per_s_per_gpu * TOKENS_PER_S_TO_PER_H
    lost = {t: run.kpis[f"tokens_lost_{t}"] for t in INTERACTIVE}
    cheapest, dearest = min(value, key=value.get), max(value, key=value.get)
    assert lost[cheapest] > 0
    assert lost[dearest] == pytest.approx(0.0, abs=1e-6 * lost[cheapest])
    assert run.met


def test_dispatch_equals_brute_force_over_the_engine():
    """One hour, demand at capacity, a 0.35 MW limit below full load. The engine's grid power is a function of the
    class's rack power alone (tabulated on a 0.03 kW grid); brute force tries every (racks on, work at cap a, work at
    cap b) on a 1/30-rack grid for every pair of cap levels (an LP vertex mixes at most two) and keeps the best
    feasible profit: the dispatch equals it within the grid's resolution, and is never worse."""
    from twin.physics import gpu, tokens
    from twin.physics.topology import build

    f = small_facility()
    wl = Workload(tier_mix={"standard": 1})
    f.grid_limit_mw = 0.35
    run = solvers.dispatch(f, hours=1, workload=wl, demand=1.0)
    phys = site_physics(f, build(f), f.catalog, wl, twin.weather.load("phoenix", hours=1))
    groups = merge_classes(phys)
    total = np.linspace(0.0, 600.0, 20_001)
    grid_of = phys.grid_kw(groups.rack_kw(total[:, None]), steps=np.zeros(total.size, dtype=int))
    spec = f.catalog.system("gb200_nvl72")
    point = tokens.tier_point(f.catalog, "gb200_nvl72", "standard", wl)
    usd_per_rack_h = 72 * point.tokens_per_s_per_gpu * 3600 * tokens.revenue_usd_per_mtok(f.catalog, "standard", point.output_share) / 1e6
    levels = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    dyn = [float(gpu.rack_power_terms_kw(spec, 18, c * spec.gpu_tdp_w)[1]) for c in levels]
    speed = [float(gpu.cap_factor(f.catalog, c * spec.gpu_tdp_w, spec.gpu_tdp_w)) for c in levels]
    fixed = float(gpu.rack_power_terms_kw(spec, 18, spec.gpu_tdp_w)[0])
    g = np.linspace(0, 4, 121)
    on, wa, wb = np.meshgrid(g, g, g, indexing="ij")
    best = -np.inf
    for a in range(len(levels)):
        for b in range(a, len(levels)):
            ok = wa + wb <= on + 1e-12
            kw = on * fixed + wa * dyn[a] + wb * dyn[b]
            grid = np.interp(kw, total, grid_of)
            profit = (wa * speed[a] + wb * speed[b]) * usd_per_rack_h - 0.08 * grid
            ok &= grid <= 350.0
            best = max(best, profit[ok].max())
    assert run.kpis["profit_usd"] >= best * (1 - 1e-6)
    assert run.kpis["profit_usd"] == pytest.approx(best, rel=2e-3)
