"""Lean graphs (`gpu_nodes=False`): racks keep their system and node count but get no node per GPU; every
answer that does not need per-GPU detail is the same as the full graph's."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

import blueprints
import twin
from blueprints.parametric import ai_datacenter, ai_factory, retrofit, rubin_factory
from twin import BlueprintError, Facility, GraphError, limits
from twin.contingency import scan
from twin.limits import SizeLimitError

NVL72_GPUS = 72
"""A GB200/GB300 NVL72 rack: 18 compute trays of 4 GPUs."""
HALL = yaml.safe_load(blueprints.path("ai-factory-hall").read_text())
HALL_RACKS = 64
"""ai-factory-hall: 4 rows of 16 NVL72 racks (4,608 GPUs), two busways per row, 28 devices."""
HALL_LEAN_NODES = 1 + 1 + 4 + 4 * 2 + 28 + HALL_RACKS
"""site + hall + rows + busways + devices + racks."""


def _same(full: Facility, lean: Facility) -> None:
    """Rack tables, validation, a day's simulated KPIs, the N-1 scan and the summary agree."""
    assert not lean.gpu_nodes and full.gpu_nodes
    pd.testing.assert_frame_equal(full.table("rack"), lean.table("rack"))
    assert full.validate() == lean.validate() == []
    a, b = twin.simulate(full, hours=24), twin.simulate(lean, hours=24)
    assert a.twin.summary() == b.twin.summary()
    pd.testing.assert_frame_equal(scan(full).table, scan(lean).table)
    assert full.summary() == lean.summary()


def test_a_lean_parametric_site_answers_as_the_full_one_without_its_gpu_nodes():
    full = ai_factory(grid_mw=5, system="gb200_nvl72")
    lean = ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False)
    _same(full, lean)
    racks = len(lean.nodes_of("rack"))
    assert len(full.nodes_of("gpu")) == racks * NVL72_GPUS
    assert len(lean.graph) == len(full.graph) - racks * NVL72_GPUS
    assert lean.summary()["gpus"] == racks * NVL72_GPUS
    assert not any(k == "gpu" for _, k in lean.graph.nodes(data="kind"))


def test_a_lean_yaml_blueprint_answers_as_the_full_one(tmp_path):
    data = {**copy.deepcopy(HALL), "gpu_nodes": False}
    path = tmp_path / "lean.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    full, lean = blueprints.load("ai-factory-hall"), blueprints.load(path)
    _same(full, lean)
    assert len(lean.graph) == HALL_LEAN_NODES
    assert len(full.graph) == HALL_LEAN_NODES + HALL_RACKS * NVL72_GPUS
    assert lean.summary()["gpus"] == 4608
    assert not blueprints.load("ai-factory-hall", gpu_nodes=False).gpu_nodes  # the keyword does the same
    assert blueprints.load(path, gpu_nodes=True).graph.number_of_nodes() == len(full.graph)  # and wins over the file


def test_a_parametric_blueprint_file_takes_gpu_nodes_at_the_top_or_from_the_loader(tmp_path):
    data = yaml.safe_load(blueprints.path("ai-factory-20mw").read_text())
    data["builder"]["grid_mw"] = 5
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**data, "gpu_nodes": False}, sort_keys=False))
    site = blueprints.load(path)
    assert not site.gpu_nodes and site.summary()["gpus"] == len(site.nodes_of("rack")) * NVL72_GPUS
    assert blueprints.load(path, gpu_nodes=True).gpu_nodes


@pytest.mark.parametrize("where", ["top", "builder"])
def test_gpu_nodes_that_is_not_true_or_false_names_the_field(tmp_path, where):
    if where == "top":
        data, field = {**copy.deepcopy(HALL), "gpu_nodes": "maybe"}, "gpu_nodes"
    else:
        data = yaml.safe_load(blueprints.path("ai-factory-20mw").read_text())
        data["builder"]["gpu_nodes"] = "maybe"
        field = "builder"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(BlueprintError) as err:
        blueprints.load(path)
    message = str(err.value)
    assert "bad.yaml:" in message and field in message and "'maybe'" in message and "gpu_nodes" in message
    assert "true or false" in message


def test_gpu_nodes_under_site_is_refused_with_where_it_belongs(tmp_path):
    data = copy.deepcopy(HALL)
    data["site"]["gpu_nodes"] = False
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(BlueprintError, match=r"site\.gpu_nodes: .*move `gpu_nodes: false` to the top level"):
        blueprints.load(path)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_saved_lean_facilities_load_lean(tmp_path, suffix):
    lean = ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False)
    back = Facility.load(lean.save(tmp_path / f"lean{suffix}"))
    assert not back.gpu_nodes and len(back.graph) == len(lean.graph)
    assert back.summary() == lean.summary() and back.validate() == []
    full = Facility.load(ai_factory(grid_mw=5, system="gb200_nvl72").save(tmp_path / f"full{suffix}"))
    assert full.gpu_nodes and "gpu_nodes" not in full.graph.graph  # full files are as before


def test_a_lean_usd_stage_reads_back_lean(tmp_path):
    pytest.importorskip("pxr")
    lean = ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False)
    back = Facility.load(twin.export_usd(lean, tmp_path / "lean.usda"))
    assert not back.gpu_nodes and len(back.graph) == len(lean.graph)
    assert back.summary() == lean.summary() and back.validate() == []


def test_every_builder_builds_lean():
    for build in (ai_factory, ai_datacenter, rubin_factory, retrofit):
        grid = 6 if build is retrofit else 5
        lean = build(grid_mw=grid, gpu_nodes=False)
        racks = lean.table("rack")
        assert not lean.gpu_nodes and lean.validate() == [], build.__name__
        assert lean.summary()["gpus"] == int(racks["gpus"].sum()) > 0
        assert len(lean.graph) == len(build(grid_mw=grid).graph) - int(racks["gpus"].sum()), build.__name__
    with pytest.raises(BlueprintError, match="ai_factory: gpu_nodes must be true or false, got 'no'"):
        ai_factory(grid_mw=5, gpu_nodes="no")


def test_repopulating_keeps_the_mode_and_switching_it_gives_the_full_graph():
    lean = ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False)
    racks = lean.nodes_of("rack")
    lean.populate(racks[:3], "gb300_nvl72")
    assert not lean.gpu_nodes and lean.validate() == [] and lean.summary()["gpus"] == len(racks) * NVL72_GPUS
    full = ai_factory(grid_mw=5, system="gb200_nvl72")
    full.populate(full.nodes_of("rack")[:3], "gb300_nvl72")
    lean.set_gpu_nodes(True)
    assert lean.gpu_nodes and set(lean.graph) == set(full.graph) and lean.validate() == []
    lean.set_gpu_nodes(False)
    assert len(lean.graph) == len(full.graph) - len(racks) * NVL72_GPUS


def test_per_gpu_requests_on_a_lean_facility_say_how_to_get_gpu_nodes():
    lean = ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False)
    for ask in (lambda: lean.table("gpu"), lambda: lean.nodes_of("gpu")):
        with pytest.raises(GraphError, match=r"built without GPU nodes \(gpu_nodes=False\).*gpu_nodes=True"):
            ask()


def test_a_gpu_node_in_a_lean_facility_is_a_validation_problem():
    lean = ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False)
    rack = lean.nodes_of("rack")[0]
    lean.graph.add_gpus([(rack, f"{rack}/gpu-00")])
    problems = lean.validate(raise_on_error=False)
    assert [(p.where, p.rule) for p in problems] == [(rack, "gpu-count")]
    assert "built without GPU nodes" in problems[0].message


def test_the_size_estimate_counts_gpu_nodes_only_when_they_are_built():
    full_nodes = len(ai_factory(grid_mw=5, system="gb200_nvl72").graph)
    with limits.bounded(max_nodes=full_nodes // 2):
        with pytest.raises(SizeLimitError) as err:
            ai_factory(grid_mw=5, system="gb200_nvl72")
        assert "gpu_nodes=False" in err.value.fix and "`gpu_nodes: false`" in err.value.fix
        lean = ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False)  # within the same bound
    gpus = lean.summary()["gpus"]
    assert limits.estimate_bytes(len(lean.graph) + gpus, gpus) - limits.estimate_bytes(len(lean.graph)) == \
        gpus * limits.BYTES_PER_GPU
    with limits.bounded(max_nodes=10):
        with pytest.raises(SizeLimitError) as err:
            ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False)
        assert "gpu_nodes" not in err.value.fix  # nothing to leave out


def test_a_huge_row_template_counts_nodes_by_mode(tmp_path):
    def refused(**top):
        data = {**copy.deepcopy(HALL), **top}
        data["halls"][0]["rows"]["count"] = 10**6
        path = tmp_path / "big.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        with pytest.raises(BlueprintError) as err:
            blueprints.load(path)
        return str(err.value)

    per_row = 1 + 2 + 16 * (1 + NVL72_GPUS)  # the row, its busways, 16 racks each with its GPUs
    full = refused()
    assert f"{10**6 * per_row + 30:,} nodes" in full and "`gpu_nodes: false`" in full
    lean = refused(gpu_nodes=False)
    assert f"{10**6 * (1 + 2 + 16) + 30:,} nodes" in lean and "gpu_nodes" not in lean.split(";", 1)[1]


@pytest.mark.solver
def test_the_optimizer_keeps_a_lean_site_lean():
    import solvers

    lean = solvers.optimize(ai_factory(grid_mw=5, system="gb200_nvl72", gpu_nodes=False))
    full = solvers.optimize(ai_factory(grid_mw=5, system="gb200_nvl72"))
    assert not lean.facility.gpu_nodes and not any(k == "gpu" for _, k in lean.facility.graph.nodes(data="kind"))
    assert lean.kpis == full.kpis and lean.facility.summary() == full.facility.summary()
    assert lean.facility.validate() == []


def test_a_facility_takes_only_true_or_false_for_gpu_nodes():
    from twin import Facility
    from twin.errors import GraphError

    for wrong in ("false", 0, 1.0):
        with pytest.raises(GraphError, match="gpu_nodes must be True or False"):
            Facility("x", gpu_nodes=wrong)
    lean = Facility("x", gpu_nodes=False)
    assert not lean.gpu_nodes and Facility("y").gpu_nodes
    assert not Facility(graph=lean.graph).gpu_nodes
    with pytest.raises(GraphError, match="disagrees with the given graph"):
        Facility(graph=lean.graph, gpu_nodes=True)
