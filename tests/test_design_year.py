"""The design year: which hours can bind (against brute force over every pair of hours), the design model's
rows against one row per hour of the year, exceedance against an exhaustive search, free-cooling sizing,
and `twin check` / `twin validate` on facilities that hold and fail their year."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import blueprints
import twin
from models.design import build
from models.design_data import design_data
from solvers.highs import solve_direct
from test_design import design_value
from test_design import tiny as design_tiny
from twin import Facility
from twin.design_year import EXCEEDANCE, binding_hours, dominators, exceedance_hours, non_dominated
from twin.design_year.sizing import climate_chain, free_cooling_factor, size_free_cooling
from twin.errors import TwinError

CLIMATES = ("phoenix", "ashburn", "singapore", "lulea")

points = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=40)


def _brute_dominated(db, wb, h):
    """Another hour at least as hot and humid, strictly more in one of them (or the same, earlier)."""
    return any((db[m] >= db[h] and wb[m] >= wb[h]) and ((db[m], wb[m]) != (db[h], wb[h]) or m < h)
               for m in range(len(db)) if m != h)


@settings(max_examples=60, deadline=None)
@given(points)
def test_non_dominated_hours_equal_brute_force(pts):
    db, wb = (np.array(x, dtype=float) for x in zip(*pts))
    found = non_dominated(db, wb)
    # one hour per distinct non-dominated (db, wb) pair, hottest first
    expect = {(db[h], wb[h]) for h in range(len(db)) if not _brute_dominated(db, wb, h)}
    assert {(db[h], wb[h]) for h in found} == expect and len(found) == len(expect)
    assert list(db[found]) == sorted(db[found], reverse=True)
    assert dominators(db, wb).tolist() == [sum(1 for m in range(len(db)) if m != h and db[m] >= db[h] and wb[m] >= wb[h])
                                           for h in range(len(db))]


@settings(max_examples=60, deadline=None)
@given(points, st.integers(0, 6), st.floats(0.1, 3.0), st.floats(0.1, 3.0), st.floats(0, 30))
def test_must_and_candidate_hours_decide_exceedance_exactly(pts, allowed, a, b, threshold):
    """For a grid power rising in dry and wet bulb, 'at most N hours over the limit' holds exactly when every
    must hour holds and at most N candidate hours do not (the design model's exceedance rows)."""
    db, wb = (np.array(x, dtype=float) for x in zip(*pts))
    power = a * db + b * wb + np.maximum(db - 6, 0) ** 2          # monotone in both
    must, candidates = binding_hours(db, wb, allowed)
    truth = int((power > threshold).sum()) <= allowed
    model = bool(np.all(power[must] <= threshold)) and int((power[candidates] > threshold).sum()) <= allowed
    assert truth == model
    assert set(must).isdisjoint(candidates)


def test_exceedance_hours_take_numbers_and_ashrae_names():
    assert exceedance_hours(None) == 0 and exceedance_hours(12) == 12
    assert [exceedance_hours(k) for k in ("0.4%", "1%", "2%")] == [35, 88, 175] == list(EXCEEDANCE.values())
    for bad in (-1, 1.5, "3%", True, 8760):
        with pytest.raises(TwinError, match="design_exceedance_hours"):
            exceedance_hours(bad)


def tiny(climate: str, grid_mw: float = 0.45, **site) -> Facility:
    """test_design's tiny site (three positions, 2N UPS, CDUs and a CRAH) in a climate, free to pick DLC, air or RDHx."""
    return design_tiny(grid_mw, cooling=("dlc", "air", "rdhx"), climate=climate, **site)


@pytest.mark.solver
@pytest.mark.parametrize("climate", CLIMATES)
def test_rows_at_binding_hours_have_the_optimum_of_a_row_per_hour(climate):
    """Adding one grid row per hour of the year, with per-rack coefficients (no aggregation, no pruning),
    leaves the optimum where the model's few rows put it."""
    data = design_data(tiny(climate))
    lp = build(data, "revenue")
    ours = solve_direct(lp, mip_gap=1e-9)
    racks = lp.var_families["racks"]
    index = [racks.index[i] for i in range(len(racks.index))]
    opt = {o: i for i, o in enumerate(data.options)}
    cool = {c: j for j, c in enumerate(data.coolings)}
    every = data.overhead_at(np.arange(data.year.time.size))[:, 0]                  # (hour, option, cooling)
    coef = np.stack([every[:, opt[o], cool[c]] for _, c, o in index], axis=1)      # (hour, rack column)
    hours = coef.shape[0]
    lp.add_rows("every_hour", [(h,) for h in range(hours)], rows=np.repeat(np.arange(hours), len(index)),
                cols=np.tile(racks.positions, hours), vals=coef.ravel(), ub=data.grid_limit_kw - data.aux_kw)
    brute = solve_direct(lp, mip_gap=1e-9)
    assert data.year.rows().size < 40 < hours
    assert brute.objective == pytest.approx(ours.objective, rel=1e-9)


@pytest.mark.solver
def test_exceedance_optimum_equals_exhaustive_search():
    """With N hours allowed over the limit, the MIP's optimum equals the best multiset of racks (and tiers) whose
    grid power exceeds the limit in at most N hours of the year; allowing the ASHRAE 0.4 % hours buys more.
    The limit is set between the year's peak and its 36th highest hour of the best multiset there is, so that
    one fits only with the 35 hours allowed."""
    import itertools

    found, limit = {}, None
    for allowed in (0, 35):
        data = design_data(tiny("phoenix", grid_mw=0.45, design_exceedance_hours=allowed))
        j = data.coolings.index("dlc")
        hourly = data.overhead_at(np.arange(data.year.time.size))[:, 0, :, j]
        options = [i for i in range(len(data.options)) if data.compatible[i, j]]
        candidates = []                                # (value, grid kW of every hour) of every multiset of racks
        for n in range(1, 4):
            for combo in itertools.combinations_with_replacement(options, n):
                values = [design_value(data, combo, tiers, "tokens")
                          for tiers in itertools.product(range(len(data.tiers)), repeat=n)]
                candidates.append((max((v for v in values if v is not None), default=0.0),
                                   hourly[:, list(combo)].sum(axis=1)))
        if limit is None:
            top = np.sort(max(candidates, key=lambda c: c[0])[1])[::-1]
            limit = data.aux_kw + (top[0] + top[35]) / 2
        data.grid_limit_kw = limit
        best = max(v for v, grid in candidates if (grid > limit - data.aux_kw + 1e-9).sum() <= allowed)
        for c in data.coolings:                       # the exhaustive search only knows direct-to-chip halls
            if c != "dlc":
                data.compatible[:, data.coolings.index(c)] = False
        found[allowed] = solve_direct(build(data, "tokens"), mip_gap=1e-9).objective
        assert found[allowed] == pytest.approx(best, rel=1e-9)
        assert (data.year.candidates.size > 0) == (allowed > 0)
    assert found[35] > found[0] * (1 + 1e-6)


def _holds(plan, allowed: int = 0) -> None:
    """The solved facility's simulated design year at full load (the simulator, not the model): within the
    grid limit but for `allowed` hours, never throttled or over temperature, no device above its rating."""
    year = twin.check(plan.facility, explain=False, exceedance_hours=allowed)
    assert year.ok, str(year)
    assert year.over_grid_hours <= allowed and year.throttled_hours == 0 and year.over_temperature_hours == 0
    if allowed == 0:
        assert year.peak_grid_mw <= plan.kpis["grid_limit_mw"] * (1 + 1e-6)
    assert plan.kpis["grid_hours_over_limit"] == year.over_grid_hours


@pytest.mark.solver
@pytest.mark.slow
@pytest.mark.parametrize("climate", CLIMATES)
def test_random_small_sites_hold_their_design_year(climate):
    import solvers

    rng = np.random.default_rng(sum(map(ord, climate)))
    for _ in range(2):
        grid = float(rng.uniform(0.15, 0.6))
        allowed = int(rng.choice([0, 0, 35]))
        site = tiny(climate, grid_mw=grid, design_exceedance_hours=allowed)
        plan = solvers.optimize(site, str(rng.choice(["revenue", "tokens"])), time_limit=30)
        _holds(plan, allowed)


def test_free_cooling_factor_and_trim_chiller_by_hand():
    cat = twin.catalog.default_catalog()
    dry = cat.heat_rejection("dry_cooler")
    # 36 °C water, ambient 30 °C: capacity per kW of rating (36 - 30) / approach
    assert free_cooling_factor(dry, 36.0, [10.0, 30.0], [5.0, 20.0]) == pytest.approx(dry.approach_c / 6.0)
    # one hour allowed: the second hottest sets it
    assert free_cooling_factor(dry, 36.0, [20.0, 30.0], [5.0, 20.0], allowed=1) == pytest.approx(dry.approach_c / 16.0)
    assert climate_chain(cat, ("dry_cooler",), 36.0, [20.0], [10.0]) == (("dry_cooler",), 1.0)
    assert climate_chain(cat, ("dry_cooler",), 36.0, [36.5], [10.0])[0] == ("chiller_water_cooled", "dry_cooler")
    assert climate_chain(cat, ("chiller_air_cooled",), 20.0, [45.0], [25.0]) == (("chiller_air_cooled",), 1.0)


def test_dry_coolers_are_sized_for_the_year_and_then_never_throttle():
    """A hall on dry coolers alone in Ashburn's design year: too small, it throttles; re-rated by
    size_free_cooling it holds every hour (Lulea's year needs no re-rating at all)."""
    from blueprints.parametric import ai_factory

    site = ai_factory(3, system="gb300_nvl72", climate="singapore", heat_rejection="dry_cooler")
    before = twin.check(site, explain=False)
    for n in site.nodes_of("dry_cooler"):
        site.graph.nodes[n]["rating_kw"] /= 3.0
    assert twin.check(site, explain=False).throttled_hours > before.throttled_hours
    factors = size_free_cooling(site)
    assert factors and min(factors.values()) > 1.0
    after = twin.check(site)
    assert after.throttled_hours == 0 and after.over_temperature_hours == 0
    assert size_free_cooling(site) == {}                                 # sized: nothing more to do
    assert size_free_cooling(ai_factory(3, system="gb300_nvl72", climate="lulea", heat_rejection="dry_cooler")) == {}


def test_a_year_that_throttles_is_reported_with_the_unit_that_binds():
    from blueprints.parametric import ai_factory

    site = ai_factory(3, system="gb300_nvl72", climate="phoenix", heat_rejection="dry_cooler")
    result = twin.check(site)
    assert not result.ok and result.throttled_hours > 0 and result.over_grid_hours == 0
    assert "throttled" in str(result) and result.worst["dry_bulb_c"] > 36.0
    assert any("dry_cooler" in line and "binds" in line for line in result.binding)


@pytest.mark.parametrize("name", sorted(n for n in blueprints.names() if (blueprints.grid_mw(n) or 0) <= 100))
def test_every_packaged_blueprint_up_to_100_mw_holds_its_own_climate(name):
    """The 1 GW files are built from the same builders and halls (benchmarks/bench_check.py checks them)."""
    result = twin.check(blueprints.load(name), explain=False)
    assert result.ok, str(result)
    assert result.peak_grid_mw <= result.grid_limit_mw


def _twin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, timeout=300)


def test_twin_check_and_validate_from_the_shell(tmp_path):
    ok = _twin("check", "ai-factory-hall")
    assert ok.returncode == 0, ok.stderr
    assert "holds its design year" in ok.stdout and "hours over the grid limit" in ok.stdout
    from blueprints.parametric import ai_factory

    path = tmp_path / "hot.yaml"
    ai_factory(2, system="gb300_nvl72", climate="phoenix", heat_rejection="dry_cooler").save(path)
    bad = _twin("check", str(path))
    assert bad.returncode == 1 and "fails its design year" in bad.stdout and "throttled" in bad.stdout
    assert "binds:" in bad.stdout
    invalid = _twin("validate", str(path))
    assert invalid.returncode == 1 and "fails its design year" in invalid.stderr and "twin check" in invalid.stderr
    assert _twin("validate", str(path), "--no-year").returncode == 0
