"""Simulate samples: the sampled world run through shared catalog entries, curves and tables gives the KPIs of a
plain simulation of a facility on an independently built sampled catalog."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import small_facility
from solvers.uncertainty import _simulate_job
from solvers.uncertainty_runs import sampled_facility, simulate_sample
from twin.catalog import Catalog
from twin.facility import Facility
from twin.physics import tokens
from twin.simulation import simulate
from twin.uncertainty import catalog_overlay
from twin.uncertainty.sampling import to_values, unit_points

HOURS = 48


@pytest.fixture(scope="module")
def mixed():
    """The small site with two of its racks on another system (tokens then add up per system)."""
    f = small_facility()
    f.populate(f.nodes_of("rack")[:2], "gb300_nvl72")
    return f


@pytest.fixture(scope="module")
def job(mixed):
    made, _, _ = _simulate_job(mixed, None, None, None, hours=HOURS, weather=None, utilization="diurnal",
                               workload=None, freq="1h")
    return made


def fresh(catalog: Catalog) -> Catalog:
    """The same entries and rows, every entry and the throughput table built anew (nothing shared)."""
    return Catalog(catalog._raw, catalog._throughput_sources)


def reference(job, values) -> dict[str, float]:
    """KPIs by hand from a plain simulation on a fresh copy of the graph and a freshly built sampled catalog:
    tokens and revenue scale with the rack's system's throughput factor, cost with the electricity price."""
    v = {i.name: float(x) for i, x in zip(job.inputs, values)}
    facility = Facility(graph=job.facility.graph.copy(), catalog=fresh(catalog_overlay(job.facility.catalog,
                                                                                       job.inputs, values)))
    weather = job.weather.copy()
    for name in ("dry_bulb_c", "wet_bulb_c", "dew_point_c"):
        weather[name] = job.weather[name] + v["weather"]
    ds = simulate(facility, weather=weather, workload=job.workload, hours=HOURS,
                  utilization=np.clip(job.utilization * v["utilization"], 0.0, 1.0), per_rack=True)
    h = ds["step_hours"].values
    factor = np.array([v[f"throughput[{s}]"] for s in ds["rack_system"].values])
    tokens_by_rack = (ds["rack_tokens_per_s"].values.astype(float) * h[:, None]).sum(axis=0) * 3600.0
    share = tokens_by_rack / tokens_by_rack.sum()
    grid = float((ds["grid_power_kw"].values * h).sum()) / 1000.0
    it = float((ds["it_power_kw"].values * h).sum()) / 1000.0
    all_tokens = float((ds["tokens_per_s"].values.sum(axis=1) * h).sum()) * 3600.0
    scale = float(share @ factor)
    return {"grid_energy_mwh": grid, "it_energy_mwh": it, "pue": grid / it,
            "cooling_energy_mwh": float((ds["cooling_power_kw"].values * h).sum()) / 1000.0,
            "losses_energy_mwh": float((ds["losses_kw"].values * h).sum()) / 1000.0,
            "peak_grid_mw": float(ds["grid_power_kw"].max()) / 1000.0,
            "water_m3": float((ds["water_l_per_h"].values * h).sum()) / 1000.0,
            "tokens": all_tokens * scale,
            "revenue_usd": float((ds["revenue_usd_per_h"].values.sum(axis=1) * h).sum()) * scale * v["token_price"],
            "energy_cost_usd": grid * 1000.0 * job.electricity_usd_per_kwh * v["electricity_price"],
            "throttling_hours": float((ds["throttling"].values * h).sum())}


def test_samples_equal_a_plain_simulation_on_a_freshly_built_sampled_catalog(job):
    assert {i.family for i in job.inputs} >= {"throughput", "node_power", "gpu_idle", "cooling_units",
                                             "chain_losses", "plant_fans", "chiller_cop", "weather", "utilization"}
    values = to_values([i.spread for i in job.inputs], unit_points(len(job.inputs), 5, seed=7))
    for x in values:
        got, want = simulate_sample(job, x), reference(job, x)
        for name, value in want.items():
            assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_a_sampled_catalog_shares_unchanged_entries_and_the_curves_but_rebuilds_what_moved(mixed):
    base = mixed.catalog
    tokens.tier_point(base, "gb200_nvl72", "standard", tokens.Workload())
    node = next(i for i in _simulate_job(mixed, ["node_power"], None, None, hours=HOURS, weather=None,
                                         utilization="constant", workload=None, freq="1h")[1])
    sampled = catalog_overlay(base, [node], [1.1])
    moved = sampled.system(node.entry)
    assert moved.node_overhead_w == pytest.approx(base.system(node.entry).node_overhead_w * 1.1)
    assert moved is not base.system(node.entry)
    assert sampled.tier("standard") is base.tier("standard")
    assert sampled.cooling_tech("dlc") is base.cooling_tech("dlc")
    w = tokens.Workload()
    assert sampled.curve_points("gb200_nvl72", w.llm, w.precision, w.isl, w.osl) is \
        base.curve_points("gb200_nvl72", w.llm, w.precision, w.isl, w.osl)
    for tier in base.tiers:
        assert tokens.tier_point(sampled, "gb300_nvl72", tier, w) == tokens.tier_point(fresh(sampled), "gb300_nvl72", tier, w)


def test_on_catalog_shares_the_graph_and_rebuilds_the_rack_table(mixed):
    mixed.table("hall"), mixed.table("rack")
    node = next(i for i in _simulate_job(mixed, ["node_power"], None, None, hours=HOURS, weather=None,
                                         utilization="constant", workload=None, freq="1h")[1])
    other = sampled_facility(mixed, [node], np.array([1.5]))
    assert other.graph is mixed.graph and other.catalog is not mixed.catalog
    assert other.table("hall") is mixed.table("hall")
    racks, base = other.table("rack"), mixed.table("rack")
    on = (base["system"] == node.entry).to_numpy()
    assert (racks["nameplate_kw"] > base["nameplate_kw"])[on].all()
    assert (racks["nameplate_kw"] == base["nameplate_kw"])[~on].all()
