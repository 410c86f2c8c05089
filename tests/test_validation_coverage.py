"""Validation covers what simulate, optimize and the N-1 scan need: explicit power sources, complete heat paths,
throughput curves for the site's workload, finite and plausible magnitudes; device loads kept sparse."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import blueprints

from conftest import small_facility
from twin import ValidationError
from twin.errors import PlausibilityWarning
from twin.validation import context, device_loads

RACK = "hall-a/row-01/rack-01"


def rules(f) -> dict[str, list]:
    with pytest.raises(ValidationError) as info:
        f.validate()
    out: dict[str, list] = {}
    for p in info.value.problems:
        out.setdefault(p.rule, []).append(p)
    return out


def test_a_ups_with_no_feed_is_an_error_not_a_grid_source(small):
    """`fed_by: []` on a UPS made it a source: the grid's loss then cost nothing. Now it names the UPS."""
    small.graph.remove_edge("tx-1", "ups-a")
    found = rules(small)["power-source"]
    assert [p.where for p in found] == ["ups-a"]
    assert "ups has no power feed" in found[0].message and "fed_by" in found[0].fix


@pytest.mark.parametrize("kind", ["generator", "battery"])
def test_generators_and_batteries_may_be_sources(small, kind):
    small.add_device("backup", kind, rating_kw=1500)
    small.connect_many([("backup", "ups-a")], "power")
    assert small.validate() == []


def test_dlc_racks_with_no_air_path_for_their_residual_heat_are_reported(small):
    """A 460 kW CDU carries the 85 % liquid share of 528 kW of DLC racks; the rest needs a CRAH."""
    for rack in small.nodes_of("rack"):
        small.graph.remove_edge(rack, "crah-1")
    small.graph.nodes["cdu-1"]["rating_kw"] = 460.0
    racks = small.table("rack")
    assert racks["nameplate_kw"].sum() == pytest.approx(528.0, rel=0.01)
    assert (racks["liquid_fraction"] * racks["nameplate_kw"]).sum() < 460.0
    found = rules(small)
    assert set(found) == {"heat-stream"}
    assert sorted(p.where for p in found["heat-stream"]) == sorted(small.nodes_of("rack"))
    assert "goes to air" in found["heat-stream"][0].message and "CRAH" in found["heat-stream"][0].fix


def test_a_unit_that_rejects_to_no_plant_does_not_count_as_a_heat_path(small):
    small.graph.remove_edge("cdu-1", "dc-1")
    assert {"heat-stream"} <= set(rules(small))


def test_a_site_workload_with_an_unknown_tier_is_reported_by_validate(small):
    small.graph.graph["workload"] = {"llm": "deepseek-r1", "tier_mix": {"no-such-tier": 1.0}}
    found = rules(small)
    assert set(found) == {"workload"} and "no-such-tier" in found["workload"][0].message


def test_a_site_workload_the_systems_have_curves_for_validates(small):
    small.graph.graph["workload"] = {"llm": "gpt-oss-120b", "precision": "fp8", "isl": 1024, "osl": 1024}
    assert "throughput" in rules(small)  # GB200 has no gpt-oss-120b FP8 curve in the catalog
    small.graph.graph["workload"] = {"llm": "deepseek-r1", "precision": "fp8", "isl": 1024, "osl": 1024}
    assert small.validate() == []


def test_h100_racks_under_the_default_workload_are_reported():
    """The catalog has H100 curves for gpt-oss only: DeepSeek-R1 racks of H100 fail before simulating."""
    f = small_facility(system="h100_hgx8", cooling="air")
    found = rules(f)["throughput"]
    assert found and "h100_hgx8" in found[0].where and "site.workload" in found[0].fix


@pytest.mark.parametrize("system", ["h100_hgx8", "mi300x_8gpu"])
def test_builder_made_datacenters_validate_and_simulate_with_their_workload(system):
    from blueprints.parametric import ai_datacenter
    from twin.simulation import simulate

    site = ai_datacenter(grid_mw=2, system=system)
    assert site.validate() == []
    assert "assumption" in site.graph.graph["workload_note"]
    ds = simulate(site, hours=2)
    assert np.isfinite(ds["grid_power_kw"].values).all() and float(ds["tokens_per_s"].sum()) > 0


def test_a_hall_1e308_m_wide_is_an_error_not_infinite_power(small):
    small.graph.nodes["hall-a"]["width_m"] = 1e308
    (p,) = rules(small)["plausible"]
    assert p.where == "hall-a" and "width_m = 1e+308 m" in p.message and "1-5000" in p.message


def test_non_finite_attributes_are_errors(small):
    small.graph.nodes["ups-a"]["efficiency"] = float("nan")
    small.graph.nodes[RACK]["x_m"] = float("inf")
    small.graph.graph["design_ambient_c"] = float("-inf")
    where = {p.where for p in rules(small)["finite"]}
    assert where == {"ups-a", RACK, "site.design_ambient_c"}


def test_a_rating_typo_of_100x_is_a_named_warning(small):
    """PDU 800 -> 80,000 kW took PUE from 1.13 to 1.75 in silence; now a PlausibilityWarning names it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert small.validate() == []
    small.graph.nodes["busway-1"]["rating_kw"] = 80_000.0
    with pytest.warns(PlausibilityWarning, match=r"busway-1: rated 80,000 kW but carries 528\.\d kW \(152x\) \[oversized\]"):
        assert small.validate() == []


def test_a_missing_rating_says_missing_not_nan(small):
    small.graph.nodes["dc-1"].pop("rating_kw")
    (p,) = rules(small)["rating"]
    assert p.where == "dc-1" and "rating_kw is missing" in p.message and "nan" not in p.message


def _dense_loads(f) -> dict[str, float]:
    """Brute force: walk the graph from each rack; power devices upstream take its nameplate, heat units and
    plants downstream take their stream's share (a rack counts once per device, whatever the paths)."""
    import networkx as nx

    g = f.graph
    power = nx.DiGraph([(u, v) for u, v, k in g.edges(data="kind") if k == "power"])
    heat = nx.DiGraph([(u, v) for u, v, k in g.edges(data="kind") if k == "heat"])
    racks = f.table("rack")
    out: dict[str, float] = {}
    for rack, row in racks.iterrows():
        for dev in nx.ancestors(power, rack):
            out[dev] = out.get(dev, 0.0) + row["nameplate_kw"]
        lf = row["liquid_fraction"]
        for unit in heat.succ[rack]:
            share = 1 - lf if g.nodes[unit]["kind"] == "crah" else lf
            for dev in {unit} | nx.descendants(heat, unit):
                out[dev] = out.get(dev, 0.0) + share * row["nameplate_kw"]
    return out


def test_sparse_device_loads_equal_a_brute_force_walk(small):
    expected = _dense_loads(small)
    loads = device_loads(context(small))
    assert {d: pytest.approx(loads.total(d)) for d in expected} == expected
    assert loads.group(["ups-a", "ups-b"]) == pytest.approx(expected["ups-a"])


def test_device_loads_stay_sparse_on_a_parametric_site():
    """Memory follows (device, rack) pairs: no device carries a vector over every rack of the site."""
    from blueprints.parametric import ai_factory

    site = ai_factory(grid_mw=20)
    loads = device_loads(context(site))
    n_racks = len(site.table("rack"))
    rows = [n for n in site.nodes_of("busway")]
    assert rows and all(len(loads.racks(b)) < n_racks / 4 for b in rows)


@pytest.mark.parametrize("name", [n for n in blueprints.names() if (blueprints.grid_mw(n) or 0) <= 20])
def test_packaged_blueprints_raise_no_plausibility_warning(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlausibilityWarning)
        blueprints.load(name)
