"""OpenUSD out and in: exact round trips (hand-built, packaged and random facilities), usd-core's validators,
SimReady conventions and values checked against the catalog by hand, time samples, errors naming the prim."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blueprints
from conftest import small_facility
from twin import BlueprintError, Facility, ValidationError
from twin.usd import export_usd, import_usd
from twin.usd.check import check

pxr = pytest.importorskip("pxr")
from pxr import Sdf, Usd  # noqa: E402

SMALL = [n for n in blueprints.names() if (blueprints.grid_mw(n) or 0) <= 20]
SUFFIXES = [".usda", ".usdc", ".usdz"]


def same(a: Facility, b: Facility) -> None:
    assert dict(a.graph.graph) == dict(b.graph.graph)
    assert set(a.graph.nodes) == set(b.graph.nodes)
    for n, d in a.graph.nodes(data=True):
        assert dict(b.graph.nodes[n]) == dict(d), n
    assert set(a.graph.edges) == set(b.graph.edges)
    assert nx.utils.graphs_equal(a.graph, b.graph)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_small_round_trip(tmp_path, small, suffix):
    same(small, import_usd(export_usd(small, tmp_path / f"small{suffix}")))


@pytest.mark.parametrize("name", SMALL)
def test_packaged_blueprints_round_trip(tmp_path, name):
    site = blueprints.load(name)
    same(site, import_usd(export_usd(site, tmp_path / f"{name}.usdc")))


def test_save_and_load_by_suffix(tmp_path, small):
    path = small.save(tmp_path / "f.usda")
    same(small, Facility.load(path))
    same(small, blueprints.load(str(path)))


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_usd_validators_find_nothing(tmp_path, suffix):
    path = export_usd(blueprints.load("ai-datacenter-hall"), tmp_path / f"dc{suffix}")
    assert check(path) == []


def test_usd_validators_are_not_vacuous(tmp_path, small):
    """The same checks flag a stage without upAxis/metersPerUnit or default prim: the runner reports findings."""
    path = export_usd(small, tmp_path / "s.usda")
    layer = Sdf.Layer.FindOrOpen(str(path))
    layer.pseudoRoot.ClearInfo("upAxis")
    layer.pseudoRoot.ClearInfo("metersPerUnit")
    layer.Save()
    found = check(path)
    assert any("StageMetadataChecker" in f for f in found), found


# ------------------------------------------------------------------------------------------ SimReady conventions
def _stage(tmp_path, facility, name="f.usda"):
    path = export_usd(facility, tmp_path / name)
    return Usd.Stage.Open(str(path))


@pytest.fixture(scope="module")
def hall_stage(tmp_path_factory):
    """The ai-factory-hall blueprint and its exported .usda stage, shared by the tests that only read them."""
    site = blueprints.load("ai-factory-hall")
    return site, _stage(tmp_path_factory.mktemp("hall"), site)


def _node_prims(stage):
    return [p for p in Usd.PrimRange(stage.GetDefaultPrim()) if p.HasAttribute("aif:core:assetClass")]


def test_every_rack_and_device_is_a_simready_asset_with_connection_points(hall_stage):
    site, stage = hall_stage
    prims = _node_prims(stage)
    kinds = [p.GetAttribute("twin:kind").Get() for p in prims]
    assert kinds.count("rack") == 64 and len(prims) == len(site.nodes_of("rack")) + sum(
        len(site.nodes_of(k)) for k in ("grid", "substation", "transformer", "ups", "busway", "cdu", "crah",
                                        "dry_cooler", "chiller"))
    for prim in prims:
        assert prim.GetAttribute("aif:core:simreadyVersion").Get() == "0.2.0"
        scope = prim.GetChild("ConnectionPoints")  # CP.001: a Scope directly under the asset prim
        assert scope.GetTypeName() == "Scope", prim.GetPath()
        for cp in scope.GetFilteredChildren(Usd.TraverseInstanceProxies()):
            assert cp.GetTypeName() == "Xform"  # CP.010
            assert cp.GetAttribute("purpose").Get() == "guide"
            for name in ("domain", "direction", "system", "disconnectType"):
                assert cp.GetAttribute(f"simready:connectionPoint:{name}").Get(), (cp.GetPath(), name)


def test_cdus_carry_the_ports_simready_requires(hall_stage):
    """TC.002 (v0.2.0): a CDU has thermal supply and return ports for both FWS and TCS; EL.004 is not ours to meet
    (the twin draws no CDU power feed), TC.001: nominalCoolingCapacity is its rating."""
    _, stage = hall_stage
    cdus = [p for p in _node_prims(stage) if p.GetAttribute("aif:core:assetClass").Get() == "cdu"]
    assert len(cdus) == 5
    for cdu in cdus:
        ports = {(c.GetAttribute("simready:connectionPoint:system").Get(),
                  c.GetAttribute("simready:connectionPoint:direction").Get())
                 for c in cdu.GetChild("ConnectionPoints").GetFilteredChildren(Usd.TraverseInstanceProxies())}
        assert ports == {("FWS", "supply"), ("FWS", "return"), ("TCS", "supply"), ("TCS", "return")}
        assert cdu.GetAttribute("aif:spec:nominalCoolingCapacity").Get() == 2000.0


def test_rated_power_and_flow_follow_the_catalog(hall_stage):
    """Rack feed rating = nameplate (catalog: 18 nodes x (4 x 1200 W + node overhead) + rack overhead); flows
    from the sourced ratios: CDU facility side (chilled water of the trim chillers) 2000 kW x 0.04306 kg/s per kW,
    rack liquid share x 31.48/2000."""
    site, stage = hall_stage
    spec = site.catalog.system("gb200_nvl72")
    nameplate_w = 18 * (4 * spec.gpu_tdp_w + spec.node_overhead_w) + spec.rack_overhead_w
    rack = stage.GetPrimAtPath(f"{stage.GetDefaultPrim().GetPath()}/hall_a/row_01/rack_01")
    cps = {c.GetName(): c for c in rack.GetChild("ConnectionPoints").GetFilteredChildren(Usd.TraverseInstanceProxies())}
    assert set(cps) == {"power_in_0", "power_in_1", "tcs_return", "tcs_supply", "air_out", "air_in"}
    assert cps["power_in_0"].GetAttribute("simready:connectionPoint:electrical:ratedPower").Get() == \
        pytest.approx(nameplate_w, rel=1e-6)
    liquid_kw = nameplate_w / 1000 * spec.liquid_heat_fraction
    assert cps["tcs_return"].GetAttribute("simready:connectionPoint:thermal:designFlowRate").Get() == \
        pytest.approx(liquid_kw * 31.48 / 2000, rel=1e-3)
    assert rack.GetAttribute("aif:spec:numGPUs").Get() == 72
    assert rack.GetAttribute("aif:core:width").Get() == pytest.approx(600.0)
    cdu = stage.GetPrimAtPath(f"{stage.GetDefaultPrim().GetPath()}/Equipment/cdu_1")
    chw = cdu.GetPrimAtPath("ConnectionPoints/chw_return")        # the hall's CDUs reject to its trim chillers
    assert chw.GetAttribute("simready:connectionPoint:thermal:designFlowRate").Get() == pytest.approx(2000 * 0.04306,
                                                                                                   rel=1e-3)


def test_instancing_keeps_racks_and_devices_few_prototypes(tmp_path):
    stage = _stage(tmp_path, blueprints.load("ai-factory-hall"), "h.usdc")
    racks = [p for p in _node_prims(stage) if p.GetAttribute("twin:kind").Get() == "rack"]
    assert all(p.IsInstance() for p in racks)
    assert len({p.GetPrototype() for p in racks}) == 1
    assert len(stage.GetPrototypes()) < 12


# ------------------------------------------------------------------------------------------ state as time samples
@pytest.fixture(scope="module")
def hall_state():
    import twin

    site = blueprints.load("ai-factory-hall")
    state = twin.simulate(site, weather="phoenix", hours=4, per_rack=True, utilization="diurnal")
    return site, state


def test_state_becomes_time_samples(tmp_path, hall_state):
    site, state = hall_state
    stage = Usd.Stage.Open(str(export_usd(site, tmp_path / "anim.usdc", state)))
    assert (stage.GetStartTimeCode(), stage.GetEndTimeCode()) == (0.0, 3.0)
    root = stage.GetDefaultPrim()
    grid = root.GetAttribute("twin:state:grid_power_kw")
    assert [grid.Get(t) for t in range(4)] == pytest.approx(state["grid_power_kw"].values.tolist())
    inst = stage.GetPrimAtPath(f"{root.GetPath()}/hall_a/RackGeometry")
    ids = list(inst.GetAttribute("twin:ids").Get())
    power = inst.GetAttribute("twin:state:rack_power_kw")
    for t in range(4):
        expected = state["rack_power_kw"].sel(rack=ids).isel(time=t).values
        np.testing.assert_allclose(np.array(power.Get(t)), expected, rtol=1e-6)
    colors = inst.GetAttribute("primvars:displayColor")
    assert colors.GetNumTimeSamples() == 4
    assert check(tmp_path / "anim.usdc") == []


# ------------------------------------------------------------------------------------------ errors
def _edit(path, text_from, text_to):
    text = path.read_text()
    assert text_from in text
    path.write_text(text.replace(text_from, text_to, 1))


def test_missing_connection_names_the_prim(tmp_path, small):
    path = export_usd(small, tmp_path / "s.usda")
    _edit(path, "rel twin:connectedTo:power_out = </small/Equipment/tx_1/ConnectionPoints/power_in_0>",
          "rel twin:connectedTo:power_out = []")
    with pytest.raises(ValidationError) as err:
        import_usd(path)
    assert {p.where for p in err.value.problems} == {"/small/Equipment/tx_1/ConnectionPoints/power_in_0",
                                                     "/small/Equipment/grid/ConnectionPoints/power_out"}
    assert all(p.rule == "missing-connection" for p in err.value.problems)


def test_link_to_a_prim_that_is_not_a_connection_point(tmp_path, small):
    path = export_usd(small, tmp_path / "s.usda")
    _edit(path, "</small/hall_a/row_01/rack_01/ConnectionPoints/power_in_0>",
          "</small/hall_a/row_01/rack_01/ConnectionPoints/power_in_7>")
    with pytest.raises(ValidationError, match=r"power_in_7, which is not a connection point"):
        import_usd(path)


def test_unknown_asset_class_names_the_prim(tmp_path, small):
    path = export_usd(small, tmp_path / "s.usda")
    text = path.read_text().replace('custom token twin:kind = "cdu"', "")
    path.write_text(text.replace('string aif:core:assetClass = "cdu"', 'string aif:core:assetClass = "cdux"', 1))
    with pytest.raises(ValidationError) as err:
        import_usd(path)
    bad = [p for p in err.value.problems if p.rule == "asset-class"]
    assert [p.where for p in bad] == ["/small/Equipment/cdu_1"] and "'cdux'" in bad[0].message


def test_not_a_stage(tmp_path):
    bad = tmp_path / "x.usda"
    bad.write_text("not usd at all")
    with pytest.raises(BlueprintError, match="cannot open"):
        import_usd(bad)
    with pytest.raises(BlueprintError, match="no such USD file"):
        import_usd(tmp_path / "missing.usdc")


def test_failed_export_keeps_the_old_file(tmp_path, small):
    path = export_usd(small, tmp_path / "f.usdc")
    before = path.read_bytes()
    small.graph.nodes["ups-a"]["note"] = {"not": object()}
    with pytest.raises(BlueprintError, match="ups-a"):
        export_usd(small, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["f.usdc"]


def test_export_has_the_users_umask(tmp_path, small):
    old = os.umask(0o022)
    try:
        path = export_usd(small, tmp_path / "f.usdz")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


# ------------------------------------------------------------------------------------------ a SimReady stage not written by us
SIMREADY_STAGE = Path(__file__).parent / "data" / "usd" / "simready_vendor.usda"
"""A stage as a SimReady vendor would write it: aif:core/aif:spec attributes and connection points, none of ours."""


def test_a_simready_stage_without_our_attributes_imports(tmp_path):
    """Kinds from aif:core:assetClass, ratings from aif:spec, positions in metres (the stage is in cm), links
    oriented by SimReady direction (electrical output -> input) and the heat chain (rack -> CDU)."""
    f = import_usd(SIMREADY_STAGE)
    g = f.graph
    assert g.nodes["Generic_UPS"] == {"kind": "ups", "rating_kw": 500.0, "x_m": 0.0, "y_m": 0.0}
    assert g.nodes["Generic_CDU"]["kind"] == "cdu" and g.nodes["Generic_CDU"]["rating_kw"] == 375.0
    rack = g.nodes["hall-a/row-01/Rack-A"]
    assert (rack["system"], rack["nodes"], rack["x_m"], rack["y_m"], rack["width_m"]) == ("gb200_nvl72", 18, 2.0, 3.0, 0.6)
    assert g.edges["Generic_UPS", "hall-a/row-01/Rack-A"]["kind"] == "power"
    assert g.edges["hall-a/row-01/Rack-A", "Generic_CDU"]["kind"] == "heat"
    assert len(f.nodes_of("gpu")) == 72


def test_a_simready_stage_with_an_unconnected_feed_is_refused(tmp_path):
    path = tmp_path / "vendor.usda"
    path.write_text(SIMREADY_STAGE.read_text().replace(
        "rel twin:connectedTo = </Site/hall_a/row_01/Rack_A/ConnectionPoints/acme_electrical_main>", ""))
    with pytest.raises(ValidationError) as err:
        import_usd(path)
    assert {p.where for p in err.value.problems} == {
        "/Site/hall_a/row_01/Rack_A/ConnectionPoints/acme_electrical_main",
        "/Site/Generic_UPS/ConnectionPoints/acme_electrical_out"}


# ------------------------------------------------------------------------------------------ random facilities
IDS = st.text("abcxyz-_ 01", min_size=1, max_size=6).map(str.strip).filter(bool)
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=False, width=64),
                   st.text(max_size=5), st.lists(st.integers(-5, 5), max_size=3),
                   st.lists(st.one_of(st.integers(0, 3), st.text("ab", max_size=2)), max_size=3))
KEYS = st.sampled_from(["note", "tag_1", "rating-x", "kind2", "id", "state:x", "9lives", "x_m"])


@st.composite
def usd_facilities(draw) -> Facility:
    """Random facilities with the shapes USD must carry: odd ids, every cooling path (CDU -> dry cooler, CRAH ->
    chiller -> tower, a rear door per rack), devices inside rows and racks, empty racks, free-form attributes of
    every type, an edge with attributes, a GPU with attributes of its own."""
    cat = small_facility().catalog
    f = Facility(draw(st.text("abcxyz-", min_size=1, max_size=8)), grid_limit_mw=draw(st.floats(0.1, 2000)),
                 climate=draw(st.sampled_from(["phoenix", "lulea", None])))
    f.graph.graph.update(draw(st.dictionaries(st.sampled_from(["owner", "budget", "tags"]), VALUES, max_size=2)))
    f.add_device("grid", "grid", rating_kw=1e6)
    ups = [f.add_device(f"ups-{i}", "ups", rating_kw=draw(st.sampled_from([None, 1e5, 20000])), fed_by=["grid"])
           for i in range(draw(st.integers(1, 3)))]
    f.add_device("tower", "cooling_tower", rating_kw=1e5)
    f.add_device("ch 1", "chiller", rating_kw=1e5, rejects_to=["tower"], model="chiller_water_cooled")
    f.add_device("dc_1", "dry_cooler", rating_kw=1e5)
    f.add_device("cdu-1", "cdu", rating_kw=1e5, rejects_to=["dc_1"])
    f.add_device("crah-1", "crah", rating_kw=1e5, rejects_to=["ch 1"])
    for h in range(draw(st.integers(1, 2))):
        hall = f.add_hall(draw(IDS.filter(lambda s: s not in f.graph)), x_m=h * 100.0, width_m=50, depth_m=50,
                          cooling=draw(st.sampled_from(["dlc", "air", "rdhx"])))
        for r in range(draw(st.integers(1, 2))):
            row = f.add_row(hall, f"row-{r}" if draw(st.booleans()) else f"r_{r}", y_m=3.0 + 4 * r)
            feed = f.add_device(f"{row}/busway-a", "busway", rating_kw=5000, fed_by=draw(
                st.lists(st.sampled_from(ups), min_size=1, max_size=2, unique=True)))
            cooled = draw(st.lists(st.sampled_from(["cdu-1", "crah-1"]), min_size=1, max_size=2, unique=True))
            racks = f.add_racks(row, draw(st.integers(1, 3)), x_m=h * 100.0 + 2, fed_by=[feed], cooled_by=cooled)
            for rack in racks:
                if draw(st.booleans()):
                    f.add_device(f"{rack}/rdhx", "rdhx", rating_kw=40, rejects_to=["ch 1"])
                    f.connect(rack, f"{rack}/rdhx", "heat")
                system = draw(st.sampled_from([None, "gb200_nvl72", "h100_hgx8"]))
                if system is not None:
                    spec = cat.system(system)
                    f.populate([rack], system, nodes=draw(st.sampled_from(spec.nodes_per_rack)),
                               power_cap_w=draw(st.sampled_from([None, spec.gpu_tdp_w, round(spec.gpu_tdp_w * 0.8)])))
    nodes = [n for n in f.graph if f.graph.nodes[n]["kind"] != "gpu"]
    for node in draw(st.lists(st.sampled_from(nodes), max_size=4)):
        f.graph.nodes[node][draw(KEYS)] = draw(VALUES)
    if draw(st.booleans()):
        u, v = next(iter(f.graph.edges_by_kind()["power"]))
        f.graph.succ[u][v]["cable"] = "2x240mm2"
    gpus = f.nodes_of("gpu")
    if gpus and draw(st.booleans()):
        f.graph.nodes[draw(st.sampled_from(gpus))]["serial"] = "SN1"
    return f


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(facility=usd_facilities(), suffix=st.sampled_from(SUFFIXES))
def test_random_facilities_round_trip_exactly(tmp_path, facility, suffix):
    same(facility, import_usd(export_usd(facility, tmp_path / f"random{suffix}")))


def test_import_twin_does_not_load_pxr():
    code = "import sys, twin; twin.Facility('x'); print('pxr' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_cli_export_checks_and_reads_back(tmp_path):
    out = tmp_path / "hall.usdc"
    run = subprocess.run([sys.executable, "-m", "twin", "export", "ai-factory-hall", "--usd", str(out), "--check"],
                         capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 0, run.stderr
    assert "usd validator findings" in run.stdout and out.is_file()
    again = subprocess.run([sys.executable, "-m", "twin", "validate", str(out)], capture_output=True, text=True)
    assert again.returncode == 0 and "64 racks" in again.stdout, again.stderr
    bad = subprocess.run([sys.executable, "-m", "twin", "export", "ai-factory-hall", "--usd", str(tmp_path / "x.obj")],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "unknown USD file type" in bad.stderr and "Traceback" not in bad.stderr


def test_flow_ratios_carry_sources_and_evidence():
    from twin.catalog import EVIDENCE_TAGS
    from twin.usd.schema import flow_table

    flows = flow_table()
    assert set(flows) == {"tcs", "fws", "chw", "cw", "air"}
    for entry in flows.values():
        assert entry["source"].startswith("http") and entry["evidence"] in EVIDENCE_TAGS and entry["note"]
    assert flows["chw"]["value"] == pytest.approx(2.4 * 3.785411784 / 60 / 3.516853, rel=1e-3)  # 2.4 gpm per ton
    assert flows["air"]["value"] == pytest.approx(1 / (1.2 * 1.006 * 10), rel=1e-3)
