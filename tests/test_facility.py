"""The builder API, the cached tables, and the package's light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import twin

import blueprints
from blueprints.parametric import ai_factory
from twin import BlueprintError, Facility, GraphError, UnknownEntry


def test_builder_counts(small):
    s = small.summary()
    assert s["racks"] == 4 and s["halls"] == 1
    assert s["gpus"] == 4 * 72 == small.graph.number_of_nodes() - sum(1 for _, k in small.graph.nodes(data="kind") if k != "gpu")


def test_rack_ids_and_positions(small):
    racks = small.table("rack")
    assert list(racks.index) == [f"hall-a/row-01/rack-{i:02d}" for i in range(1, 5)]
    assert racks["x_m"].tolist() == pytest.approx([2.0, 2.6, 3.2, 3.8])
    assert set(racks["y_m"]) == {3.0}
    assert set(racks["hall"]) == {"hall-a"} and set(racks["row"]) == {"hall-a/row-01"}


def test_rack_power_follows_the_system_and_cap(small):
    spec = small.catalog.system("gb200_nvl72")
    nodes = spec.nodes_per_rack[0]
    full = nodes * (spec.gpus_per_node * spec.gpu_tdp_w + spec.node_overhead_w) / 1000 + spec.rack_overhead_w / 1000
    racks = small.table("rack")
    assert racks["nameplate_kw"].tolist() == pytest.approx([full] * 4)
    small.populate([racks.index[0]], "gb200_nvl72", power_cap_w=spec.gpu_tdp_w - 200)
    racks = small.table("rack")
    assert racks["nameplate_kw"].iloc[0] == pytest.approx(full - nodes * spec.gpus_per_node * 200 / 1000)


def test_table_cache_sees_direct_graph_edits(small):
    first = small.table("ups")
    assert small.table("ups") is first
    small.graph.nodes["ups-a"]["rating_kw"] = 1234.0
    assert small.table("ups").at["ups-a", "rating_kw"] == 1234.0
    small.graph.add_node("ups-z", kind="ups", rating_kw=1.0)
    assert "ups-z" in small.table("ups").index


def test_populate_replaces_gpus(small):
    rack = small.nodes_of("rack")[0]
    small.populate([rack], "h100_hgx8", nodes=2)
    gpus = small.table("gpu")
    assert (gpus["rack"] == rack).sum() == 16
    small.populate([rack], None)
    assert (small.table("gpu")["rack"] == rack).sum() == 0
    assert small.table("rack").at[rack, "nameplate_kw"] == 0


def test_builder_errors_name_the_node(small):
    with pytest.raises(GraphError, match="ups-a.*already exists"):
        small.add_device("ups-a", "ups", rating_kw=1)
    with pytest.raises(GraphError, match="ups-q.*does not exist"):
        small.add_device("pdu-9", "pdu", rating_kw=1, fed_by=["ups-q"])
    with pytest.raises(GraphError, match="toaster"):
        small.add_device("t", "toaster")
    with pytest.raises(UnknownEntry, match="did you mean 'gb200_nvl72'"):
        small.populate(small.nodes_of("rack")[:1], "gb200_nvl27")


def test_parametric_factory_is_valid_and_fills_the_limit():
    site = ai_factory(grid_mw=5, system="gb200_nvl72")
    assert site.validate() == []
    s = site.summary()
    year = twin.check(site, explain=False)               # fitted to the design year: full, within one rack
    spec = site.catalog.system("gb200_nvl72")
    rack_mw = float(spec.rack_power_kw(spec.nodes_per_rack[0], spec.gpu_tdp_w)) / 1000.0
    assert year.ok and 5 - 2 * rack_mw < year.peak_grid_mw <= 5 and s["nameplate_it_mw"] < 5


def test_unknown_blueprint_name():
    with pytest.raises(Exception, match="did you mean 'ai-factory-hall'"):
        blueprints.load("ai-factory-hal")


def test_import_twin_is_light():
    code = "import sys, twin; heavy = {'pandas', 'pyvista', 'pyomo', 'xarray', 'vtk', 'highspy', 'dask'} & set(sys.modules); print(sorted(heavy))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_parametric_blueprint_files_name_their_mistakes(tmp_path):
    bad = tmp_path / "b.yaml"
    bad.write_text("name: x\nbuilder: {name: ai_factroy, grid_mw: 5}\n")
    with pytest.raises(BlueprintError, match="did you mean 'ai_factory'"):
        blueprints.load(bad)
    bad.write_text("name: x\nbuilder: {name: ai_factory, grid_mv: 5}\n")
    with pytest.raises(BlueprintError, match="grid_mv.*did you mean 'grid_mw'"):
        blueprints.load(bad)
    bad.write_text("name: x\nbuilder: {name: ai_factory, grid_mw: -5}\n")
    with pytest.raises(BlueprintError, match="positive"):
        blueprints.load(bad)


def test_site_overrides_on_load():
    assert blueprints.load("ai-factory-hall", climate="lulea").climate == "lulea"
    site = blueprints.load("ai-factory-20mw", climate="singapore", grid_mw=10)
    assert site.climate == "singapore" and site.grid_limit_mw == 10
