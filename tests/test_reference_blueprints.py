"""Reference blueprints: each loads, validates and simulates in four climates; 100 MW and 1 GW files are
exercised at 20 MW through their own builders (the full sizes are benchmarks, not tests); each framing has
the traits it promises (rack density, cooling, power chain, billing); the retrofit keeps its power chain."""

from __future__ import annotations

import numpy as np
import pytest

import blueprints
import solvers
import twin
from blueprints.parametric import ai_datacenter, retrofit
from solvers.check import check_plan

CLIMATES = ("phoenix", "ashburn", "singapore", "lulea")
"""The four climates the blueprints table documents: hot-dry, temperate-humid, hot-humid, cold."""
REFERENCE = {
    "ai-datacenter-20mw": 20, "ai-datacenter-100mw": 100, "ai-datacenter-1gw": 1000, "ai-factory-20mw": 20,
    "ai-factory-100mw": 100, "ai-factory-1gw": 1000, "rubin-factory-1gw": 1000, "retrofit-dlc-hall": 6,
}
FAMILIES = ("ai-datacenter-20mw", "ai-factory-20mw", "rubin-factory-1gw", "retrofit-dlc-hall")


def small(name: str, **site) -> twin.Facility:
    """A reference blueprint at 20 MW or less (its own file and builder, scaled down when larger)."""
    return blueprints.load(name, **({"grid_mw": 20} if REFERENCE[name] > 20 else {}), **site)


def racks(facility: twin.Facility):
    table = facility.table("rack")
    return table[table["system"].notna()]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_blueprints_are_packaged_at_their_size(name):
    assert name in blueprints.names()
    assert blueprints.grid_mw(name) == REFERENCE[name]
    site = small(name)
    assert site.validate(raise_on_error=False) == []
    assert 0 < site.summary()["nameplate_it_mw"] < site.grid_limit_mw


@pytest.mark.parametrize("climate", CLIMATES)
@pytest.mark.parametrize("name", FAMILIES)
def test_each_family_loads_and_simulates_in_four_climates(name, climate):
    site = small(name, climate=climate)
    assert site.climate == climate
    ds = twin.simulate(site, hours=72, utilization="diurnal", per_rack=False, per_device=False)
    parts = ds.it_power_kw + ds.losses_kw + ds.cooling_power_kw + ds.aux_power_kw
    assert float(abs(ds.grid_power_kw - parts).max()) < 1e-6
    assert 1.0 < ds.twin.pue() < 1.8
    assert not bool(ds.grid_overload.any())


def test_framings_have_their_traits():
    dc, factory, rubin = small("ai-datacenter-20mw"), small("ai-factory-100mw"), small("rubin-factory-1gw")
    assert dc.graph.graph["billing"] == "gpu_hours" and factory.graph.graph["billing"] == "tokens"
    assert 40 <= racks(dc)["nameplate_kw"].min() and racks(dc)["nameplate_kw"].max() <= 120
    assert 120 <= racks(factory)["nameplate_kw"].min() and racks(factory)["nameplate_kw"].max() <= 240
    assert set(dc.table("hall")["cooling"]) == {"rdhx"} and set(factory.table("hall")["cooling"]) == {"dlc"}
    dc_plant = {dc.graph.nodes[n].get("model") for n in dc.nodes_of("chiller")}
    assert dc_plant == {"chiller_water_cooled"} and dc.nodes_of("cooling_tower") and not dc.nodes_of("dry_cooler")
    assert factory.nodes_of("dry_cooler") and not factory.nodes_of("cooling_tower")
    ups = dc.table("ups")
    assert set(ups["redundancy"]) == {"N+1"} and len(ups) >= 3
    assert {rubin.graph.nodes[n]["model"] for n in rubin.nodes_of("ups")} == {"dc_800v"}
    assert set(racks(rubin)["system"]) == {"vera_rubin_nvl72"}


def test_the_retrofit_keeps_positions_and_power_chain_and_goes_denser():
    legacy = ai_datacenter(6, system="h200_hgx8", nodes=4, cooling="rdhx", cooling_options=("air", "rdhx"),
                           climate="ashburn")
    site = retrofit(6, climate="ashburn")
    assert len(site.table("rack")) == len(legacy.table("rack"))                         # every position kept
    power = ("transformer", "switchboard", "ups", "busway")
    assert {n: site.graph.nodes[n]["rating_kw"] for k in power for n in site.nodes_of(k)} == \
           {n: legacy.graph.nodes[n]["rating_kw"] for k in power for n in legacy.nodes_of(k)}
    halls = site.table("hall")
    assert set(halls["cooling"]) == {"dlc"} and all(o == ["dlc"] for o in halls["cooling_options"])
    new, old = racks(site), racks(legacy)
    assert new["nameplate_kw"].min() > 3 * old["nameplate_kw"].max()                   # denser racks
    assert len(new) < len(old)                                                          # ... in fewer positions
    busway = site.table("busway")["rating_kw"]
    per_row = new.groupby("row")["nameplate_kw"].sum()
    assert all(per_row[row] <= busway[f"{row}/busway"] for row in per_row.index)       # within each row's busway
    ds = twin.simulate(site, hours=48, utilization=1.0, per_rack=False)
    assert float(ds.grid_power_kw.max()) <= 6000 and not bool(ds.device_overload_any.any())


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in sorted(REFERENCE) if REFERENCE[n] > 20])
def test_optimized_large_blueprints_hold_their_design_year_at_small_scale(name):
    """The 100 MW and 1 GW files, optimized at 20 MW: the solved facility simulated through its design year at
    full load stays within the grid limit and never throttles (the small ones: tests/test_design.py)."""
    plan = solvers.optimize(small(name), "revenue", time_limit=30, evidence="claims")   # Rubin: vendor claims
    year = twin.check(plan.facility, explain=False)
    assert year.ok, str(year)
    assert year.peak_grid_mw <= year.grid_limit_mw * (1 + 1e-6) and year.throttled_hours == 0


def test_the_rubin_factory_optimizes_on_800_vdc():
    with pytest.raises(twin.InfeasibleDesign, match="evidence='claims'"):       # Rubin throughput is a vendor claim
        solvers.optimize(small("rubin-factory-1gw"), time_limit=30)
    plan = solvers.optimize(small("rubin-factory-1gw"), evidence="claims", time_limit=30)
    assert plan.kpis["evidence_tokens_share[vendor_claim]"] == pytest.approx(1.0)
    assert check_plan(plan) == []
    assert set(racks(plan.facility)["system"]) <= {"vera_rubin_nvl72", "rubin_ultra_nvl576"}
    assert {plan.facility.graph.nodes[n]["model"] for n in plan.facility.nodes_of("ups")} == {"dc_800v"}


def test_gpu_hour_billing_values_racks_by_gpu_hours():
    from models.billing import gpu_hour_price
    from models.design_data import design_data
    from twin.physics import gpu

    site = ai_datacenter(2, climate="ashburn")
    data = design_data(site)
    cat = site.catalog
    for i, (system, nodes, cap) in enumerate(data.options):
        spec = cat.system(system)
        expected = spec.gpus_per_rack(nodes) * gpu_hour_price(cat, system).usd * gpu.cap_factor(cat, cap, spec.gpu_tdp_w)
        served = data.tokens[i] > 0
        assert np.allclose(data.usd_per_hour[i][served], expected) and not data.usd_per_hour[i][~served].any()
    site.graph.graph["billing"] = "tokens"
    assert not np.allclose(design_data(site).usd_per_hour, data.usd_per_hour)
    site.graph.graph["billing"] = "gpu_hour"
    with pytest.raises(twin.InfeasibleDesign, match="did you mean 'gpu_hours'"):
        design_data(site)
