"""Builder options for the power chain and heat rejection: what each builds, and that physics ranks them."""

from __future__ import annotations

import pytest

import twin
from blueprints.parametric import AIR_REJECTIONS, ai_datacenter, ai_factory
from twin.errors import BlueprintError


def _models(f, kind):
    return sorted({a.get("model") for _, a in f.graph.nodes(data=True) if a.get("kind") == kind})


@pytest.mark.parametrize("ups, model", [("double_conversion", "ups_double_conversion"), ("eco", "ups_eco"),
                                        ("dc_800v", "dc_800v")])
def test_ups_choice_sets_the_stage_model(ups, model):
    f = ai_factory(3, system="gb300_nvl72", ups=ups)
    assert _models(f, "ups") == [model]
    assert f.validate() == []


def test_no_ups_feeds_busways_from_the_transformers():
    f = ai_factory(3, system="gb300_nvl72", ups="none")
    assert f.nodes_of("ups") == []
    busway = f.nodes_of("busway")[0]
    feeds = [u for u, _, k in f.graph.in_edges(busway, data="kind") if k == "power"]
    assert feeds and all(f.graph.nodes[u]["kind"] == "transformer" for u in feeds)
    assert f.validate() == []


def test_single_path_has_no_redundancy_group():
    f = ai_factory(2, system="gb300_nvl72", power="N", ups="eco")
    ups = f.nodes_of("ups")
    assert len(ups) == 1 and not f.graph.nodes[ups[0]].get("redundancy")  # one 2.5 MW module carries ~2 MW
    assert f.validate() == []


@pytest.mark.parametrize("choice", sorted(AIR_REJECTIONS))
def test_air_rejection_choice_builds_the_residual_air_chain(choice):
    f = ai_factory(3, system="gb300_nvl72", air_rejection=choice)
    crah = next(n for n in f.nodes_of("crah"))
    sinks = [v for _, v, k in f.graph.out_edges(crah, data="kind") if k == "heat"]
    assert f.graph.nodes[sinks[0]]["model"] == AIR_REJECTIONS[choice][0]
    assert f.validate() == []


def test_bad_options_are_blueprint_errors():
    with pytest.raises(BlueprintError, match="air_rejection"):
        ai_factory(3, air_rejection="lake")
    with pytest.raises(BlueprintError, match="ups="):
        ai_factory(3, ups="flywheel")


def test_facility_water_temperatures_reach_the_units():
    f = ai_factory(3, system="gb300_nvl72", facility_water_c=32, air_water_c=20)
    assert {f.graph.nodes[n]["facility_supply_c"] for n in f.nodes_of("cdu")} == {32.0}
    assert {f.graph.nodes[n]["facility_supply_c"] for n in f.nodes_of("crah")} == {20.0}
    g = ai_datacenter(3, cooling="air", system="h200_hgx8", nodes=1, chilled_water_c=16)
    assert {g.graph.nodes[n]["facility_supply_c"] for n in g.nodes_of("crah")} == {16.0}


def test_lower_loss_power_lowers_annual_energy_and_balances():
    """Same site and year: grid energy per unit of IT energy, no UPS < eco mode < double conversion, each
    balancing exactly every hour (the builder fits more racks to the grid limit when the chain loses less)."""
    energy = {}
    for ups in ("double_conversion", "eco", "none"):
        ds = twin.simulate(ai_factory(3, system="gb300_nvl72", ups=ups, climate="lulea"), hours=24 * 14)
        gap = ds.grid_power_kw - ds.it_power_kw - ds.losses_kw - ds.cooling_power_kw - ds.aux_power_kw
        assert float(abs(gap).max()) < 1e-6
        energy[ups] = float(ds.grid_power_kw.sum() / ds.it_power_kw.sum())
    assert energy["none"] < energy["eco"] < energy["double_conversion"]
