"""Uncertainty runs: spreads from evidence, reproducible samples, bands that hold the deterministic answer, a
linear case against its analytic mean and variance, Sobol indices that find the input; a real LocalCluster."""

from __future__ import annotations

import numpy as np
import pytest

import solvers
from conftest import small_facility
from solvers.sweep import local_client
from twin.catalog import default_catalog
from twin.errors import TwinError
from twin.uncertainty import TAG_HALF_WIDTH, Spread, catalog_inputs, catalog_overlay, first_order, saltelli, saltelli_indices, tornado

HOURS = 24


@pytest.fixture(scope="module")
def client():
    c = local_client(2)
    yield c
    c.close()
    c.cluster.close()


@pytest.fixture(scope="module")
def site():
    return small_facility()


def test_triangular_spread_moments_match_closed_form():
    s = Spread(0.3, high=0.1)                     # a = 0.7, c = 1.0, b = 1.1
    u = (np.arange(200_000) + 0.5) / 200_000      # quantile grid: the integral of the ppf is the mean
    x = s.ppf(u)
    assert x.min() >= 0.7 and x.max() <= 1.1
    assert x.mean() == pytest.approx((0.7 + 1.0 + 1.1) / 3, abs=1e-6)
    assert x.var() == pytest.approx((0.49 + 1.21 + 1.0 - 0.77 - 0.7 - 1.1) / 18, rel=1e-4)


def test_evidence_tags_set_the_widths_and_overlay_moves_only_the_sampled_fields():
    cat = default_catalog()
    ins = catalog_inputs(cat, systems=["h100_hgx8"], coolings=[], equipment=[], plants=[])
    by = {i.name: i for i in ins}
    assert by["capex[h100_hgx8]"].evidence == "assumption" and by["capex[h100_hgx8]"].spread.half_width == 0.3
    tag = cat.system("h100_hgx8").evidence_of("node_overhead_w")
    assert by["node_power[h100_hgx8]"].evidence == tag
    assert by["node_power[h100_hgx8]"].spread.half_width == TAG_HALF_WIDTH[tag][0]
    assert by["throughput[h100_hgx8]"].spread.half_width == 0.15          # measured curves: software vintage
    moved = catalog_overlay(cat, [by["capex[h100_hgx8]"]], [1.2])
    assert moved.system("h100_hgx8").capex_usd_per_gpu == pytest.approx(1.2 * cat.system("h100_hgx8").capex_usd_per_gpu)
    assert moved.system("h100_hgx8").gpu_tdp_w == cat.system("h100_hgx8").gpu_tdp_w
    assert moved.system("h100_hgx8").evidence_of("capex_usd_per_gpu") == "assumption"


def test_given_data_and_saltelli_indices_on_an_additive_function():
    """Y = 2 X1 + X2 on uniform inputs: S1 = ST = 4/5 and 1/5, a third input does nothing."""
    n, d = 4096, 3
    f = lambda x: 2 * x[:, 0] + x[:, 1]                         # noqa: E731
    u = saltelli(d, n, seed=3)
    s1, st = saltelli_indices(f(u), n, d)
    assert s1 == pytest.approx([0.8, 0.2, 0.0], abs=0.05)
    assert st == pytest.approx([0.8, 0.2, 0.0], abs=0.05)
    assert first_order(u[:n], f(u[:n])) == pytest.approx([0.8, 0.2, 0.0], abs=0.05)
    low, high = tornado(u[:n], f(u[:n]))
    assert high[0] - low[0] == pytest.approx(2 * 0.8, abs=0.05)   # means over the top and bottom fifths: 0.9 - 0.1


def test_same_seed_same_numbers(site):
    kw = dict(samples=5, hours=HOURS, client="serial", progress=False, families=["electricity_price", "weather"])
    a = solvers.uncertainty(site, seed=7, **kw)
    b = solvers.uncertainty(site, seed=7, **kw)
    c = solvers.uncertainty(site, seed=8, **kw)
    np.testing.assert_array_equal(a["value"].values, b["value"].values)
    np.testing.assert_array_equal(a["input_value"].values, b["input_value"].values)
    assert not np.array_equal(a["input_value"].values, c["input_value"].values)


def test_bands_are_ordered_and_hold_the_answer_at_the_medians(site, client):
    ds = solvers.uncertainty(site, samples=20, seed=1, hours=HOURS, client=client, progress=False)
    assert (ds["status"] == "ok").all()
    b = ds["band"].values
    assert (b[:, 0] <= b[:, 1]).all() and (b[:, 1] <= b[:, 2]).all()
    for kpi in ("tokens", "grid_energy_mwh", "pue", "energy_cost_usd", "revenue_usd", "peak_grid_mw"):
        p10, _, p90 = ds["band"].sel(kpi=kpi).values
        assert p10 <= float(ds["point"].sel(kpi=kpi)) <= p90, kpi
    # the answer at the medians is the plain simulation
    plain = site.copy()
    import twin

    state = twin.simulate(plain, hours=HOURS, utilization="diurnal", per_rack=False, per_device=False)
    assert float(ds["point"].sel(kpi="grid_energy_mwh")) == pytest.approx(state.twin.energy_mwh("grid_power_kw"), rel=1e-12)
    assert set(ds["input"].values) >= {"throughput[gb200_nvl72]", "cooling_units[dlc]", "weather", "utilization"}


def test_linear_case_mean_variance_and_sobol_identify_the_input(site):
    """Energy cost is linear in the electricity price: mean c0, variance c0^2 w^2 / 6 (triangular +-w), and all
    of its variance is the price's; revenue is the token price's."""
    n = 200
    ds = solvers.uncertainty(site, samples=n, seed=2, hours=HOURS, client="serial", progress=False,
                             families=["electricity_price", "token_price"])
    cost = ds["value"].sel(kpi="energy_cost_usd").values
    c0 = float(ds["point"].sel(kpi="energy_cost_usd"))
    w = float(ds["input_high"].sel(input="electricity_price")) - 1.0
    var = c0 ** 2 * w ** 2 / 6
    assert cost.mean() == pytest.approx(c0, abs=3 * np.sqrt(var / n))
    assert cost.var(ddof=1) == pytest.approx(var, rel=0.25)          # MC error of a variance ~ sqrt(0.8 x 2/n)
    s1 = ds["s1"]
    assert float(s1.sel(kpi="energy_cost_usd", input="electricity_price")) > 0.9
    assert float(s1.sel(kpi="energy_cost_usd", input="token_price")) < 0.1
    assert float(s1.sel(kpi="revenue_usd", input="token_price")) > 0.9


def test_saltelli_run_gives_total_indices(site):
    n = 16
    ds = solvers.uncertainty(site, samples=n, seed=4, hours=HOURS, client="serial", progress=False, sobol=True,
                             families=["electricity_price", "token_price"])
    assert ds.sizes["sample"] == n and ds.attrs["computed"] == n * 4 + 1
    st = ds["st"].sel(kpi="energy_cost_usd")
    assert float(st.sel(input="token_price")) == 0.0                 # AB_token differs from A only in a price it ignores
    assert float(st.sel(input="electricity_price")) == pytest.approx(1.0, abs=0.35)


def test_resume_reuses_finished_samples(site, tmp_path):
    out = tmp_path / "u.nc"
    kw = dict(samples=4, hours=HOURS, client="serial", progress=False, families=["electricity_price"], out=out)
    a = solvers.uncertainty(site, **kw)
    b = solvers.uncertainty(site, **kw)
    assert a.attrs["computed"] == 5 and b.attrs["computed"] == 0 and b.attrs["reused"] == 5
    np.testing.assert_array_equal(a["value"].values, b["value"].values)
    assert out.is_file() and len(list((tmp_path / "u.nc.parts").glob("*.json"))) == 5


def test_bad_requests_name_the_input_and_the_fix(site):
    with pytest.raises(TwinError, match="no such uncertain input.*electricity_price"):
        solvers.uncertainty(site, samples=4, hours=HOURS, client="serial", progress=False,
                            spreads={"electricity_prize": 0.2})
    with pytest.raises(TwinError, match="below 1 for a factor"):
        solvers.uncertainty(site, samples=4, hours=HOURS, client="serial", progress=False, spreads={"weather": 2.0,
                                                                                                     "utilization": 1.5})
    with pytest.raises(TwinError, match="run='dance'"):
        solvers.uncertainty(site, samples=4, run="dance")
    with pytest.raises(TwinError, match="samples=1"):
        solvers.uncertainty(site, samples=1, hours=HOURS, client="serial", progress=False)


def test_cli_prints_bands_writes_the_violin_plot_and_refuses_bad_spreads(tmp_path):
    import subprocess
    import sys

    png = tmp_path / "bands.png"
    run = subprocess.run([sys.executable, "-m", "twin", "uncertainty", "ai-factory-hall", "--samples", "4",
                          "--hours", "24", "--scheduler", "serial", "--family", "electricity_price",
                          "--spread", "electricity_price=0.8:1.3", "--plot", str(png), "--format", "json"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    import json

    doc = json.loads(run.stdout)
    bands = {r["kpi"]: r for r in doc["bands"]}
    assert bands["energy_cost_usd"]["p10"] <= bands["energy_cost_usd"]["point"] <= bands["energy_cost_usd"]["p90"]
    assert doc["inputs"][0]["low"] == 0.8 and doc["inputs"][0]["high"] == 1.3
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from twin.commands.uncertainty import _spread

    assert _spread("0.8:1.3") == (0.8, 1.3) and _spread("0.2") == 0.2
    with pytest.raises(TwinError, match="low:high"):
        _spread("cheap")


@pytest.fixture(scope="module")
def hall():
    import blueprints

    return blueprints.load("ai-factory-hall")


def test_optimize_fixed_and_reoptimized_designs(hall):
    import solvers as s

    ds = s.uncertainty(hall, samples=8, seed=3, run="optimize", client="serial", progress=False, verify=False,
                       families=["throughput", "node_power", "capex", "cooling_units", "token_price", "demand"])
    assert (ds["status"] == "ok").all() and list(ds["mode"].values) == ["fixed", "reoptimized"]
    b = ds["band"].values
    assert (b[..., 0] <= b[..., 1]).all() and (b[..., 1] <= b[..., 2]).all()
    plan = s.optimize(hall, verify=False)
    for mode in ("fixed", "reoptimized"):         # at the medians both are the plain design
        point = float(ds["point"].sel(mode=mode, kpi="profit_usd_per_year"))
        assert point == pytest.approx(plan.kpis["profit_usd_per_year"], rel=2e-3)
        p10, _, p90 = ds["band"].sel(mode=mode, kpi="profit_usd_per_year").values
        assert p10 <= point <= p90
    # designing anew never earns less than keeping the base design in the same world (within the MIP gap)
    fixed = ds["value"].sel(mode="fixed", kpi="profit_usd_per_year").values
    anew = ds["value"].sel(mode="reoptimized", kpi="profit_usd_per_year").values
    within = ds["value"].sel(mode="fixed", kpi="grid_excess_mw").values == 0
    assert (anew[within] >= fixed[within] * (1 - 2e-3) - 1.0).all()
    changed = ds["choice"].values != ds.attrs["base_choice"]
    assert (ds["choice_changed"].values == changed).all()
    assert ds.attrs["choice_change_share"] == pytest.approx(changed.mean())


def test_summed_responses_equal_the_arrays_built_in_the_sampled_world(hall):
    """rack kW is linear in node power and capex in the system price: the summed responses are exact there."""
    from models.design_data import design_data
    from solvers.uncertainty_design import make_job, sampled_data
    from solvers.uncertainty_runs import sampled_facility
    from twin.uncertainty import catalog_inputs

    ins = catalog_inputs(hall.catalog, systems=["gb200_nvl72"], coolings=["dlc"], equipment=[], plants=[],
                         families=["node_power", "capex", "cooling_units"])
    job = make_job(hall, ins, "profit", {"systems": ["gb200_nvl72"]}, verify=False, time_limit=60, mip_gap=1e-3)
    x = np.array([0.83, 1.21, 1.07])
    got = sampled_data(job, x)
    want = design_data(sampled_facility(hall, ins, x), systems=["gb200_nvl72"])
    np.testing.assert_allclose(got.rack_kw, want.rack_kw, rtol=1e-12)
    np.testing.assert_allclose(got.capex_rack, want.capex_rack, rtol=1e-12)
    np.testing.assert_allclose(got.cooling_kw, want.cooling_kw, rtol=1e-3)


def test_compare_win_probability_and_margins_affine_in_prices():
    """Token revenue is the list price x tokens sold and energy cost the electricity price x energy: each site's
    margin, and so the gap, is exactly affine in the two price factors; the win probability counts the samples."""
    import solvers as s

    ds = s.uncertainty("ai-factory-hall", samples=12, seed=1, run="compare", against="ai-datacenter-hall", hours=24,
                       progress=False, families=["token_price", "electricity_price"])
    winner = ds["winner"].values
    assert float(ds["win_probability"].sel(site="a")) == pytest.approx(np.mean(winner == "a"))
    assert float(ds["win_probability"].sum()) <= 1.0 + 1e-12
    gaps = ds["value"].sel(kpi="margin_gap_per_mw").values
    assert ((gaps > 0) == (winner == "a")).all()
    x = np.column_stack([np.ones(12), ds["input_value"].values])
    coef, *_ = np.linalg.lstsq(x, gaps, rcond=None)
    assert np.abs(x @ coef - gaps).max() <= 1e-9 * np.abs(gaps).max()
    assert coef.sum() == pytest.approx(float(ds["point"].sel(kpi="margin_gap_per_mw")), rel=1e-9)   # at (1, 1)
    assert ds.attrs["verdict_at_medians"]


def test_a_verified_base_design_carries_its_design_year_corrections(hall):
    """With verify=True the base arrays hold the corrections the verified design's year found, hour by hour."""
    import solvers as s
    from solvers.uncertainty_design import make_job

    options = {"systems": ["gb200_nvl72"]}
    job = make_job(hall, [], "profit", options, verify=True, time_limit=60, mip_gap=1e-3)
    verified = s.optimize(hall, "profit", verify=True, time_limit=60, mip_gap=1e-3, **options).data.year
    assert job.data.year.correction_kw == verified.correction_kw
