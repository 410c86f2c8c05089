"""Round trips: facility -> YAML/JSON -> facility gives the same graph, for hand-built and random facilities."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blueprints
from conftest import small_facility
from twin import BlueprintError, Facility

SMALL = [n for n in blueprints.names() if (blueprints.grid_mw(n) or 0) <= 20]
"""Packaged blueprints up to 20 MW; the 100 MW and 1 GW ones are checked at small scale in test_reference_blueprints.py
(a 1 GW site takes minutes to round-trip or optimize)."""


def same(a: Facility, b: Facility) -> None:
    assert dict(a.graph.graph) == dict(b.graph.graph)
    assert nx.utils.graphs_equal(a.graph, b.graph)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_small_round_trip(tmp_path, small, suffix):
    path = small.save(tmp_path / f"small{suffix}")
    same(small, Facility.load(path))


@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_packaged_blueprints_round_trip(tmp_path, name, suffix):
    site = blueprints.load(name)
    again = blueprints.load(site.save(tmp_path / f"{name}{suffix}"))
    same(site, again)


def test_yaml_and_json_give_the_same_graph(tmp_path, small):
    same(Facility.load(small.save(tmp_path / "a.yaml")), Facility.load(small.save(tmp_path / "a.json")))


def test_json_is_node_link(tmp_path, small):
    data = json.loads(small.save(tmp_path / "f.json").read_text())
    assert data["directed"] is True
    assert len(data["nodes"]) == small.graph.number_of_nodes()
    assert len(data["edges"]) == small.graph.number_of_edges()
    assert {"source", "target", "kind"} <= set(data["edges"][0])


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, small):
    path = small.save(tmp_path / "f.yaml")
    before = path.read_text()
    small.graph.nodes["ups-a"]["note"] = object()  # not serializable
    with pytest.raises(Exception):
        small.save(path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]


def test_unknown_suffix(tmp_path, small):
    with pytest.raises(BlueprintError, match=r"\.txt"):
        small.save(tmp_path / "f.txt")


@st.composite
def facilities(draw) -> Facility:
    """Random valid facilities: 1-3 halls of 1-3 rows of 1-5 racks, mixed systems, caps and densities."""
    cat = small_facility().catalog
    f = Facility(draw(st.text("abcxyz-", min_size=1, max_size=8)), grid_limit_mw=draw(st.floats(0.1, 2000)),
                 climate=draw(st.sampled_from(["phoenix", "lulea", "ashburn"])))
    f.add_device("grid", "grid", rating_kw=1e6)
    n_ups = draw(st.integers(1, 3))
    scheme = draw(st.sampled_from(["N", "N+1", "2N"])) if n_ups > 1 else "N"
    if scheme == "2N" and n_ups % 2:
        n_ups += 1
    ups = [f.add_device(f"ups-{i}", "ups", rating_kw=1e5, fed_by=["grid"], group="ups", redundancy=scheme) for i in range(n_ups)]
    f.add_device("dc-1", "dry_cooler", rating_kw=1e5)
    f.add_device("cdu-1", "cdu", rating_kw=1e5, rejects_to=["dc-1"])
    for h in range(draw(st.integers(1, 3))):
        hall = f.add_hall(f"hall-{h}", x_m=h * 100.0, width_m=50, depth_m=50, cooling="dlc")
        for r in range(draw(st.integers(1, 3))):
            row = f.add_row(hall, f"row-{r}", y_m=3.0 + 4 * r)
            racks = f.add_racks(row, draw(st.integers(1, 5)), x_m=h * 100.0 + 2, fed_by=ups, cooled_by=["cdu-1"])
            for rack in racks:
                system = draw(st.sampled_from([None] + [s for s, v in cat.systems.items() if "dlc" in v.cooling]))
                if system is None:
                    continue
                spec = cat.system(system)
                nodes = draw(st.sampled_from(spec.nodes_per_rack))
                cap = draw(st.sampled_from([None, spec.gpu_tdp_w, round(spec.gpu_tdp_w * 0.8)]))
                f.populate([rack], system, nodes=nodes, power_cap_w=cap)
    return f


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(facility=facilities(), suffix=st.sampled_from([".yaml", ".json"]))
def test_random_facilities_round_trip_exactly(tmp_path, facility, suffix):
    path = facility.save(tmp_path / f"random{suffix}")
    same(facility, Facility.load(path))
