"""twin.simulate: conservation at every step (random facilities and weather), sanity, NetCDF, dask, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import small_facility
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blueprints
import twin
from blueprints.parametric import ai_factory
from twin import Facility
from twin.physics import PhysicsError, tokens
from twin.state import StateError, load, save

TOTALS = ("it_power_kw", "losses_kw", "cooling_power_kw", "aux_power_kw")


def weather(db, wb=None, start="2025-07-01"):
    """A weather Dataset from dry-bulb (and wet-bulb) values, one hour apart."""
    db = np.asarray(db, dtype=float)
    wb = db - 6.0 if wb is None else np.asarray(wb, dtype=float)
    time = pd.date_range(start, periods=db.size, freq="h").values
    return xr.Dataset({"dry_bulb_c": ("time", db), "wet_bulb_c": ("time", wb)}, coords={"time": time})


def assert_balanced(ds, rtol=1e-9):
    parts = sum(ds[p].values for p in TOTALS)
    grid = ds["grid_power_kw"].values
    assert np.all(np.abs(grid - parts) <= rtol * np.abs(grid))
    heat_in = ds["it_power_kw"] + ds["units_power_kw"] + ds["chiller_power_kw"]
    assert np.all(np.abs(ds["heat_rejected_kw"] - heat_in) <= rtol * heat_in)
    assert np.all(np.abs(ds["heat_absorbed_kw"] - ds["it_power_kw"]) <= rtol * ds["it_power_kw"])


# ------------------------------------------------------------------ random facilities (hypothesis)
SYSTEMS = [("gb200_nvl72", "dlc", 18), ("h200_hgx8", "rdhx", 4), ("h200_hgx8", "air", 1), ("b200_hgx8", "dlc", 8),
           ("vera_rubin_nvl72", "dlc", 18), ("gb300_nvl72", "immersion", 18)]
PLANTS = [["dry_cooler"], ["cooling_tower"], ["chiller_air_cooled"], ["chiller_water_cooled", "cooling_tower"],
          ["chiller_water_cooled", "dry_cooler"], ["dry_cooler_adiabatic"]]


def _plant(f: Facility, tag: str, chain: list[str], kw: float, n: int) -> list[str]:
    first_kind = f.catalog.heat_rejection(chain[0]).kind
    down = []
    if len(chain) == 2:
        down = [f.add_device(f"{tag}-down-{i}", chain[1], rating_kw=kw * 1.5, model=chain[1]) for i in range(n)]
    group = {"group": tag, "redundancy": "N+1"} if n > 1 else {}  # a staged redundancy group
    return [f.add_device(f"{tag}-{i}", first_kind, rating_kw=kw, model=chain[0], rejects_to=down, **group)
            for i in range(n)]


@st.composite
def facilities(draw):
    system, cooling, nodes = draw(st.sampled_from(SYSTEMS))
    n_racks = draw(st.integers(1, 8))
    f = Facility("random", grid_limit_mw=draw(st.floats(0.05, 3.0)), climate="phoenix")
    spec = f.catalog.system(system)
    rack_kw = spec.rack_power_kw(nodes, spec.gpu_tdp_w)
    load = n_racks * rack_kw * draw(st.floats(0.3, 2.0))
    f.add_device("grid", "grid", rating_kw=load * 2)
    top = ["grid"]
    if draw(st.booleans()):
        top = [f.add_device("sub", "substation", rating_kw=load * 1.5, fed_by=top)]
    if draw(st.booleans()):
        top = [f.add_device("tx", "transformer", rating_kw=load * 1.2, fed_by=top)]
    n_ups = draw(st.integers(1, 4))
    ups_model = draw(st.sampled_from(["ups_double_conversion", "ups_eco"]))
    ups = [f.add_device(f"ups-{i}", "ups", rating_kw=load / max(1, n_ups - 1), model=ups_model, fed_by=top,
                        group="ups", redundancy="N+1" if n_ups > 1 else "N") for i in range(n_ups)]
    feed_kind = draw(st.sampled_from(["busway", "pdu", "none"]))
    feeds = ups if feed_kind == "none" else [
        f.add_device(f"{feed_kind}-{s}", feed_kind, rating_kw=load, fed_by=[u] if len(ups) > 1 else ups)
        for s, u in zip("ab", ups * 2)]
    lf = f.catalog.cooling_tech(cooling).liquid_heat_fraction
    units = []
    unit_kind = f.catalog.cooling_tech(cooling).unit_kind
    n_unit = draw(st.integers(1, 3))
    chain = draw(st.sampled_from(PLANTS))
    plant = _plant(f, "plant", chain, load, draw(st.integers(1, 2)))
    outside = {"air_economizer": True} if draw(st.booleans()) else {}  # CRAHs with an airside economizer
    units += [f.add_device(f"{unit_kind}-{i}", unit_kind, rating_kw=load, rejects_to=plant,
                           **(outside if unit_kind == "crah" else {})) for i in range(n_unit)]
    if unit_kind != "crah" and (lf < 1.0 or draw(st.booleans())):
        air_plant = _plant(f, "air-plant", draw(st.sampled_from(PLANTS[2:])), load, 1)
        units += [f.add_device(f"crah-{i}", "crah", rating_kw=load / 2, rejects_to=air_plant, **outside)
                  for i in range(draw(st.integers(1, 2)))]
    if draw(st.booleans()):  # some cooling devices draw through the power chain
        for u in units[: draw(st.integers(1, len(units)))]:
            f.connect(ups[0], u, "power")
    f.add_hall("hall", width_m=max(6.0, n_racks * 0.6 + 2), depth_m=6, cooling=cooling)
    row = f.add_row("hall", "row-01", y_m=3)
    caps = draw(st.floats(0.5, 1.0)) * spec.gpu_tdp_w
    f.add_racks(row, n_racks, x_m=1, system=system, nodes=nodes, power_cap_w=caps, fed_by=feeds, cooled_by=units)
    return f


@st.composite
def weathers(draw, n):
    db = np.array(draw(st.lists(st.floats(-35.0, 50.0), min_size=n, max_size=n)))
    dep = np.array(draw(st.lists(st.floats(0.0, 25.0), min_size=n, max_size=n)))
    return weather(db, db - dep)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(f=facilities(), data=st.data())
def test_conservation_holds_for_random_facilities_weather_and_load(f, data):
    n = data.draw(st.integers(2, 30))
    wx = data.draw(weathers(n))
    racks = len(f.table("rack"))
    kind = data.draw(st.sampled_from(["constant", "diurnal", "training", "array", "per-rack"]))
    util = {"array": lambda: np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))),
            "per-rack": lambda: np.random.default_rng(n).uniform(0, 1, (n, racks))}.get(kind, lambda: kind)()
    ds = twin.simulate(f, weather=wx, utilization=util, per_rack=True)
    assert_balanced(ds)
    for name in ("grid_power_kw", "losses_kw", "cooling_power_kw", "water_l_per_h", "pue"):
        assert np.all(np.isfinite(ds[name])), name
    assert np.all(ds["losses_kw"] >= 0) and np.all(ds["cooling_power_kw"] >= 0)
    assert np.all(ds["pue"] >= 1.0)
    assert np.all((ds["rack_throttle"] >= 0) & (ds["rack_throttle"] <= 1))
    assert np.all(ds["tokens_per_s"] >= 0)
    # per-rack and per-device views add up to the totals
    assert np.allclose(ds["rack_power_kw"].sum("rack"), ds["it_power_kw"], rtol=1e-5)
    power = ds["device_power_kw"].where(ds["device_kind"].isin(["cdu", "crah", "rdhx", "chiller", "dry_cooler",
                                                                  "cooling_tower"]), 0).sum("device")
    assert np.allclose(power, ds["cooling_power_kw"], rtol=1e-5, atol=1e-3)


# ------------------------------------------------------------------ blueprints and sanity
@pytest.fixture(scope="module")
def hall():
    return blueprints.load("ai-factory-hall")


@pytest.fixture(scope="module")
def hall_year(hall):
    return twin.simulate(hall, hours=8760)


def test_blueprint_year_is_balanced_and_sensible(hall_year):
    ds = hall_year
    assert ds.sizes["time"] == 8760 and ds.attrs["Conventions"].startswith("CF")
    assert_balanced(ds)
    assert ds.twin.conservation_error() < 1e-12
    assert 1.05 < ds.twin.pue() < 1.35
    assert ds["grid_power_kw"].attrs["units"] == "kW" and "long_name" in ds["pue"].attrs
    s = ds.twin.summary()
    assert s["grid_energy_mwh"] == pytest.approx(sum(s[k] for k in ("it_energy_mwh", "losses_energy_mwh",
                                                                     "cooling_energy_mwh", "aux_energy_mwh")))
    assert s["tokens"] > 0 and s["revenue_usd"] > 0 and s["water_m3"] == 0  # dry coolers and air chillers only
    assert set(ds["tier"].values) == set(hall_year_catalog_tiers())


def hall_year_catalog_tiers():
    from twin.catalog import default_catalog

    return list(default_catalog().tiers)


def test_pue_rises_with_ambient():
    for name in ("ai-factory-hall", "ai-datacenter-hall"):
        f = blueprints.load(name)
        db = np.arange(-10.0, 46.0, 4.0)
        ds = twin.simulate(f, weather=weather(db, db - 8.0))
        pue = ds["pue"].values
        assert np.all(np.diff(pue) >= -1e-9), (name, pue)
        assert pue[-1] > pue[0] + 0.02


def test_warm_water_dlc_in_a_cold_climate_beats_chilled_air_in_a_hot_one():
    dlc = ai_factory(grid_mw=2, system="gb200_nvl72", cooling="dlc", climate="lulea")
    air = ai_factory(grid_mw=2, system="h200_hgx8", nodes=1, cooling="air", heat_rejection="chiller_air_cooled",
                     climate="phoenix")
    pue_dlc = twin.simulate(dlc, hours=8760).twin.pue()
    pue_air = twin.simulate(air, hours=8760).twin.pue()
    assert pue_dlc < 1.2 < pue_air
    assert pue_air - pue_dlc > 0.15


def test_lower_cap_lowers_power_and_tokens_but_raises_tokens_per_joule():
    results = {}
    for frac in (1.0, 0.7):
        f = small_facility()
        racks = f.table("rack").index
        f.populate(list(racks), "gb200_nvl72", nodes=18, power_cap_w=1200 * frac)
        ds = twin.simulate(f, weather=weather(np.full(24, 15.0)))
        results[frac] = (float(ds.grid_power_kw.sum()), float(ds.tokens_per_s.sum()))
    (p1, t1), (p7, t7) = results[1.0], results[0.7]
    assert p7 < p1 and t7 < t1
    assert t7 / p7 > t1 / p1


def test_hot_weather_throttles_warm_water_racks_without_chillers(hall):
    """The hall with its CDUs rejecting straight to five of its dry coolers (its trim chillers taken out)."""
    hall = hall.copy()
    hall.graph.remove_nodes_from([n for n in hall.nodes_of("chiller") if n.startswith("tc-")] + ["dc-6"])
    hall.connect_many([(cdu, f"dc-{i}") for cdu in hall.nodes_of("cdu") for i in range(1, 6)], "heat")
    ds = twin.simulate(hall, weather=weather([20.0, 33.0, 38.0]), per_rack=True)
    assert ds["throttle"].values[0] == 1.0 and not ds["throttling"].values[0]
    assert ds["throttling"].values[1] and 0 < ds["throttle"].values[1] < 1
    assert ds["over_temperature"].values[2]  # ambient above the coolant limit: no capacity left
    assert ds["it_power_kw"].values[1] < ds["it_power_kw"].values[0]
    assert np.all(ds["rack_throttle"].values[1] < 1)
    assert_balanced(ds)


def test_grid_and_device_overload_flags():
    f = small_facility(ups_kw=200.0)  # each UPS carries ~half of ~530 kW
    ds = twin.simulate(f, weather=weather([10.0, 10.0]))
    over = ds["device_overload"].sel(device=["ups-a", "ups-b"])
    assert bool(over.all()) and bool(ds["overload"].all()) and not bool(ds["grid_overload"].any())
    f.grid_limit_mw = 0.1
    assert bool(twin.simulate(f, weather=weather([10.0]))["grid_overload"].all())


def test_redundant_members_share_load_by_rating():
    f = small_facility()
    ds = twin.simulate(f, weather=weather([10.0]))
    load = ds["device_load_kw"].isel(time=0)
    assert float(load.sel(device="ups-a")) == pytest.approx(float(load.sel(device="ups-b")), rel=1e-6)
    busway_in = float(ds["device_power_kw"].isel(time=0).sel(device="busway-1"))
    assert float(load.sel(device="ups-a") + load.sel(device="ups-b")) == pytest.approx(busway_in, rel=1e-6)


def test_profiles_training_workload_and_tiers():
    f = small_facility()
    wx = weather(np.full(24, 12.0))
    const = twin.simulate(f, weather=wx)
    diurnal = twin.simulate(f, weather=wx, utilization="diurnal")
    assert float(diurnal.it_power_kw.mean()) < float(const.it_power_kw.mean())
    assert float(diurnal.tokens_per_s.sum("tier").max()) > 2 * float(diurnal.tokens_per_s.sum("tier").min())
    train = twin.simulate(f, weather=wx, utilization="training",
                          workload=tokens.Workload(kind="training", params_b=70))
    assert list(train["tier"].values) == ["training"] and float(train.revenue_usd_per_h.sum()) == 0
    premium = twin.simulate(f, weather=wx, workload=tokens.Workload(tier_mix={"premium": 1}))
    assert list(premium["tier"].values) == ["premium"]
    assert float(premium.revenue_usd_per_h.sum()) > 0


def test_rack_tier_attribute_overrides_the_mix():
    f = small_facility()
    first = f.table("rack").index[0]
    f.graph.nodes[first]["tier"] = "premium"
    ds = twin.simulate(f, weather=weather([10.0]), workload=tokens.Workload(tier_mix={"standard": 1}), per_rack=True)
    assert set(ds["tier"].values) == {"standard", "premium"}
    assert float(ds.tokens_per_s.sel(tier="premium")[0]) == pytest.approx(float(ds.rack_tokens_per_s.sel(rack=first)[0]), rel=1e-6)


def test_inputs_are_checked():
    f = small_facility()
    with pytest.raises(PhysicsError, match="hours"):
        twin.simulate(f, hours=0)
    with pytest.raises(PhysicsError, match="Workload"):
        twin.simulate(f, hours=2, workload="dsr1")
    with pytest.raises(PhysicsError, match="shape"):
        twin.simulate(f, hours=3, utilization=np.ones(5))
    bare = Facility("bare")
    bare.add_hall("h", width_m=5, depth_m=5, cooling="dlc")
    row = bare.add_row("h", "r", y_m=2)
    bare.add_racks(row, 2, x_m=1, system="gb200_nvl72")
    with pytest.raises(PhysicsError, match="climate"):
        twin.simulate(bare)
    with pytest.raises(PhysicsError, match="not fed"):
        twin.simulate(bare, weather="phoenix", hours=2)


# ------------------------------------------------------------------ state, dask, CLI
def test_netcdf_round_trip_is_lossless(tmp_path, hall):
    ds = twin.simulate(hall, weather="lulea", hours=48, utilization="diurnal", per_rack=True)
    path = ds.twin.save(tmp_path / "run.nc")
    back = load(path)
    xr.testing.assert_identical(ds, back)
    assert back["overload"].dtype == bool and back["rack_power_kw"].dtype == np.float32
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed away
    with pytest.raises(StateError, match=".nc"):
        save(ds, tmp_path / "run.csv")
    with pytest.raises(StateError, match="no such"):
        load(tmp_path / "missing.nc")


def test_dask_chunks_give_the_same_numbers(tmp_path):
    f = small_facility()
    eager = twin.simulate(f, weather="dublin", hours=240, per_rack=True)
    lazy = twin.simulate(f, weather="dublin", hours=240, per_rack=True, chunks=50)
    assert lazy["grid_power_kw"].chunks is not None
    xr.testing.assert_allclose(eager.drop_attrs(), lazy.compute().drop_attrs())
    save(lazy, tmp_path / "lazy.nc")
    xr.testing.assert_allclose(load(tmp_path / "lazy.nc").drop_attrs(), eager.drop_attrs())


def test_per_rack_output_is_optional():
    f = small_facility()
    ds = twin.simulate(f, weather="dublin", hours=24, per_rack=False, per_device=False)
    assert "rack" not in ds.dims and "device" not in ds.dims
    assert "per_rack_note" in ds.attrs
    assert_balanced(ds)


def test_plot_writes_a_png(tmp_path, hall_year):
    out = tmp_path / "year.png"
    hall_year.twin.plot(out)
    assert out.stat().st_size > 10_000


def test_cli_simulate_writes_results_and_prints_a_summary(tmp_path):
    from typer.testing import CliRunner

    from twin.cli import app

    out, png = tmp_path / "run.nc", tmp_path / "run.png"
    result = CliRunner().invoke(app, ["simulate", "ai-factory-hall", "--weather", "lulea", "--hours", "72",
                                      "--out", str(out), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "PUE" in result.output and out.is_file() and png.is_file()
    assert load(out).sizes["time"] == 72
    bad = CliRunner().invoke(app, ["simulate", "ai-factory-hall", "--hours", "0"])
    assert bad.exit_code == 1 and "hours" in bad.output

