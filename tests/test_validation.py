"""One test per validation rule: break a valid facility in one way and check the report names the node."""

from __future__ import annotations

import pytest

from conftest import small_facility
from twin import Facility, ValidationError

RACK = "hall-a/row-01/rack-01"


def problems(f: Facility) -> list:
    with pytest.raises(ValidationError) as info:
        f.validate()
    return info.value.problems


def only(f: Facility, rule: str):
    found = [p for p in problems(f) if p.rule == rule]
    assert found, f"rule {rule} did not fire"
    return found


def test_small_facility_is_valid(small):
    assert small.validate() == []


def test_grid_limit_must_be_positive(small):
    small.grid_limit_mw = -5
    (p,) = only(small, "grid-limit")
    assert p.where == "site.grid_limit_mw" and "-5" in p.message


def test_unknown_node_kind(small):
    small.graph.add_node("toaster-1", kind="toaster")
    (p,) = only(small, "node-kind")
    assert p.where == "toaster-1"


def test_power_edge_between_wrong_kinds(small):
    small.graph.add_edge(RACK, "ups-a", kind="power")
    (p,) = only(small, "power-edge")
    assert p.where == RACK and "ups-a" in p.message


def test_unknown_edge_kind(small):
    small.graph.add_edge("grid", "ups-a", kind="water")
    (p,) = only(small, "edge-kind")
    assert "water" in p.message


def test_rack_outside_a_row(small):
    small.graph.add_node("stray-rack", kind="rack", x_m=1.0, y_m=1.0, width_m=0.6, depth_m=1.2)
    found = only(small, "contains")
    assert any(p.where == "stray-rack" for p in found)


def test_gpu_count_matches_system(small):
    small.graph.remove_node(f"{RACK}/gpu-07")
    (p,) = only(small, "gpu-count")
    assert p.where == RACK and "71" in p.message and "72" in p.message


def test_power_cycle(small):
    small.graph.add_edge("busway-1", "tx-1", kind="power")
    (p,) = only(small, "power-dag")
    assert "tx-1" in p.message and "busway-1" in p.message


def test_heat_cycle(small):
    small.graph.add_edge("dc-1", "cdu-1", kind="heat")
    (p,) = only(small, "heat-dag")
    assert "cdu-1" in p.message and "dc-1" in p.message


def test_rack_not_fed(small):
    small.graph.remove_edge("busway-1", RACK)
    (p,) = only(small, "fed")
    assert p.where == RACK


def test_rack_not_cooled(small):
    small.graph.remove_edge(RACK, "cdu-1")
    small.graph.remove_edge(RACK, "crah-1")
    (p,) = only(small, "cooled")
    assert p.where == RACK


def test_rating_missing_or_negative(small):
    small.graph.nodes["ups-a"]["rating_kw"] = -10
    small.graph.nodes["dc-1"]["rating_kw"] = None
    found = only(small, "rating")
    assert {p.where for p in found} == {"ups-a", "dc-1"}


def test_unknown_system_suggests_the_close_one(small):
    small.graph.nodes[RACK]["system"] = "gb200_nvl27"
    (p,) = only(small, "system")
    assert p.where == RACK and "gb200_nvl72" in p.fix


def test_unknown_cooling_technology(small):
    small.graph.nodes["hall-a"]["cooling"] = "dcl"
    found = only(small, "cooling")
    assert "hall-a" in {p.where for p in found} and "dlc" in found[0].fix


def test_unknown_equipment_model(small):
    small.graph.nodes["ups-a"]["model"] = "ups_double_convertion"
    (p,) = only(small, "model")
    assert p.where == "ups-a" and "ups_double_conversion" in p.fix


def test_node_count_not_offered_by_system(small):
    small.graph.nodes[RACK]["nodes"] = 7
    found = only(small, "rack-nodes")
    assert found[0].where == RACK


def test_power_cap_above_tdp(small):
    small.graph.nodes[RACK]["power_cap_w"] = 5000
    (p,) = only(small, "power-cap")
    assert p.where == RACK and "5000" in p.message


def test_rack_too_dense_for_its_cooling():
    f = small_facility(cooling="air")
    found = only(f, "rack-density")
    assert {p.where for p in found} == {f"hall-a/row-01/rack-{i:02d}" for i in range(1, 5)}
    assert "air" in found[0].message and "kW" in found[0].message


def test_system_incompatible_with_cooling():
    f = small_facility(system="h100_hgx8", cooling="dlc")
    assert "dlc" not in f.catalog.system("h100_hgx8").cooling
    found = only(f, "cooling-compat")
    assert found[0].where.startswith("hall-a/row-01/rack-")


def test_redundancy_group_mixing_kinds(small):
    small.graph.nodes["busway-1"].update(group="ups", redundancy="2N")
    found = only(small, "redundancy")
    assert any("ups-a" in p.where and "busway-1" in p.where for p in found)


def test_redundancy_scheme_unreadable(small):
    for ups in ("ups-a", "ups-b"):
        small.graph.nodes[ups]["redundancy"] = "3M"
    (p,) = only(small, "redundancy")
    assert "ups-a" in p.where and "3M" in p.message


def test_2n_needs_an_even_count(small):
    small.add_device("ups-c", "ups", rating_kw=1000, fed_by=["tx-1"], group="ups", redundancy="2N")
    found = only(small, "redundancy")
    assert "ups-c" in found[0].where and "even" in found[0].message


def test_2n_group_capacity_is_one_member():
    """Two 2N UPS each rated just under the racks' total fail; just over passes (union load, not the sum)."""
    load = small_facility().table("rack")["nameplate_kw"].sum()
    assert small_facility(ups_kw=load + 1).validate() == []
    found = only(small_facility(ups_kw=load - 1), "capacity")
    assert any("ups-a" in p.where for p in found)
    assert f"{load:,.1f}" in found[0].message


def test_n_plus_1_group_capacity_excludes_one_member(small):
    load = small.table("rack")["nameplate_kw"].sum()
    small.graph.remove_node("busway-1")
    for i in range(3):
        small.add_device(f"pdu-{i}", "pdu", rating_kw=load / 2 + 1, fed_by=["ups-a", "ups-b"], group="pdus", redundancy="N+1")
        small.connect_many([(f"pdu-{i}", r) for r in small.nodes_of("rack")], "power")
    assert small.validate() == []
    for i in range(3):
        small.graph.nodes[f"pdu-{i}"]["rating_kw"] = load / 2 - 1
    (p,) = only(small, "capacity")
    assert "pdus" in p.where


def test_heat_load_splits_between_liquid_and_air(small):
    """The CRAH carries only the air share of the rack heat; the CDU the liquid share."""
    racks = small.table("rack")
    air = float(((1 - racks["liquid_fraction"]) * racks["nameplate_kw"]).sum())
    small.graph.nodes["crah-1"]["rating_kw"] = air + 1
    small.graph.nodes["ch-1"]["rating_kw"] = air + 1
    assert small.validate() == []
    small.graph.nodes["crah-1"]["rating_kw"] = air - 1
    (p,) = only(small, "capacity")
    assert p.where == "crah-1"


def test_rack_outside_its_hall(small):
    small.graph.nodes[RACK]["x_m"] = 50.0
    (p,) = only(small, "position")
    assert p.where == RACK and "hall-a" in p.message


def test_two_racks_on_one_spot(small):
    small.graph.nodes["hall-a/row-01/rack-02"]["x_m"] = small.graph.nodes[RACK]["x_m"]
    (p,) = only(small, "position")
    assert p.where == "hall-a/row-01/rack-02"


def test_every_problem_is_reported_at_once(small):
    small.graph.nodes["ups-a"]["rating_kw"] = -1
    small.graph.nodes[RACK]["system"] = "nope"
    small.graph.add_edge("busway-1", "tx-1", kind="power")
    rules = {p.rule for p in problems(small)}
    assert {"rating", "system", "power-dag"} <= rules
    with pytest.raises(ValidationError) as info:
        small.validate()
    text = str(info.value)
    assert "ups-a" in text and RACK in text and "tx-1" in text
