"""The sourced catalog: provenance on every entry, lookups, user extension, and physical sanity."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from twin.catalog import EVIDENCE_TAGS, Catalog, default_catalog
from twin.errors import CatalogError, UnknownEntry

CAT = default_catalog()
SECTIONS = ("systems", "cooling", "power_equipment", "heat_rejection_units", "tiers", "power_cap_curves")
ALL_ENTRIES = [(s, e) for s in SECTIONS for e in getattr(CAT, s).values()]
SYSTEM_IDS = ("h100_hgx8", "h200_hgx8", "b200_hgx8", "b300_hgx8", "gb200_nvl72", "gb300_nvl72",
              "vera_rubin_nvl72", "rubin_ultra_nvl576", "mi300x_8gpu", "mi355x_8gpu")

# Rack power figures as stated in the reference (gpus_systems.yaml), not computed by the catalog:
# GB200 NVL72 120 kW nominal (introl) .. 132 kW budget (resistancezero); GB300 ~150 kW (TrendForce);
# Vera Rubin NVL72 Max-P ~227 kW (Flex), 225 kW (TrendForce); Rubin Ultra 600 kW (GTC 2025), ~660 kW (TrendForce).
REFERENCE_RACK_KW = {
    "gb200_nvl72": (120, 132),
    "gb300_nvl72": (145, 155),
    "vera_rubin_nvl72": (220, 230),
    "rubin_ultra_nvl576": (590, 660),
}


@pytest.mark.parametrize("section,entry", ALL_ENTRIES, ids=[f"{s}:{e.id}" for s, e in ALL_ENTRIES])
def test_every_entry_is_sourced(section, entry):
    assert entry.source and all(u.startswith(("http://", "https://")) for u in entry.source)
    assert entry.evidence in EVIDENCE_TAGS
    for name, rec in entry.provenance.items():
        assert rec["evidence"] in EVIDENCE_TAGS, name
        assert all(u.startswith(("http://", "https://")) for u in rec["source"].split()), name
        if rec["evidence"] == "assumption":
            assert rec["note"], f"{entry.id}.{name} is an assumption without a rationale"


def test_ids_are_the_agreed_ones():
    assert set(SYSTEM_IDS) == set(CAT.systems)
    assert {"air", "rdhx", "dlc", "dlc_2p", "immersion"} == set(CAT.cooling)
    assert {"transformer_mv", "ups_double_conversion", "ups_eco", "switchboard", "busway", "pdu",
            "psu_titanium", "dc_800v"} <= set(CAT.power_equipment)
    assert {"dry_cooler", "dry_cooler_adiabatic", "cooling_tower", "chiller_air_cooled",
            "chiller_water_cooled"} == set(CAT.heat_rejection_units)
    assert {"free", "standard", "premium"} <= set(CAT.tiers)
    assert {"measured_default", "vendor_claim", "training_sweeps"} == set(CAT.power_cap_curves)


def test_unknown_id_suggests_the_closest():
    with pytest.raises(UnknownEntry, match=r"unknown system 'gb200_nv72': did you mean 'gb200_nvl72'"):
        CAT.system("gb200_nv72")
    with pytest.raises(UnknownEntry, match="did you mean 'dlc'"):
        CAT.cooling_tech("dlcc")


def test_getters_return_entries():
    assert CAT.equipment("ups_double_conversion").kind == "ups"
    assert CAT.heat_rejection("dry_cooler").kind == "dry_cooler"
    assert CAT.tier("premium").price_usd_per_mtok > CAT.tier("standard").price_usd_per_mtok
    assert CAT.power_cap_curve("measured_default").min_cap_fraction == 0.5
    assert default_catalog() is CAT


@pytest.mark.parametrize("system_id", sorted(REFERENCE_RACK_KW))
def test_rack_power_matches_reference(system_id):
    s = CAT.system(system_id)
    lo, hi = REFERENCE_RACK_KW[system_id]
    (nodes,) = s.nodes_per_rack
    assert lo <= s.rack_power_kw(nodes, s.gpu_tdp_w) <= hi


def test_rack_power_is_vectorized_and_counts_gpus():
    s = CAT.system("gb200_nvl72")
    assert s.gpus_per_rack(18) == 72
    assert CAT.system("rubin_ultra_nvl576").gpus_per_rack(36) == 144
    kw = s.rack_power_kw(np.array([18, 18, 0]), np.array([1200.0, 600.0, 1200.0]))
    assert kw.shape == (3,) and kw[1] < kw[0] and kw[2] == 0.0
    assert 120 <= s.rack_power_kw(18, 1200) <= 132
    h100 = CAT.system("h100_hgx8")
    # 8 x 700 W + the measured non-GPU power in operation (MLPerf DGX H100 Server session), below the 10.2 kW max input
    assert h100.rack_power_kw(1, 700) == pytest.approx((8 * 700 + 1777) / 1000)


def test_systems_reference_known_cooling_and_throughput():
    for s in CAT.systems.values():
        assert set(s.cooling) <= set(CAT.cooling)
        assert s.gpu_idle_w < s.gpu_tdp_w
        assert s.throughput_system in CAT.systems


def test_throughput_covers_every_system_and_derived_rows_have_multipliers():
    df = CAT.throughput
    assert set(SYSTEM_IDS) <= set(df["system"])
    derived = df[df["derived"]]
    assert derived["multiplier"].notna().all() and (derived["multiplier"] > 0).all()
    assert set(derived["evidence"]) <= {"vendor_claim", "assumption"}
    assert not (df[~df["derived"]]["system"].isin(["b300_hgx8", "gb300_nvl72", "vera_rubin_nvl72"])).any()
    assert set(df["evidence"]) <= EVIDENCE_TAGS
    assert (df["output_tokens_per_s_per_gpu"] <= df["tokens_per_s_per_gpu"] * (1 + 1e-9)).all()
    assert "mi325x" not in set(df["system"])


def test_throughput_rows_are_pareto_points():
    df = CAT.throughput
    for _, g in df.groupby(["system", "llm", "precision", "isl", "osl"]):
        g = g.sort_values("interactivity_tok_s_user")
        assert g["tokens_per_s_per_gpu"].is_monotonic_decreasing


def test_derived_rows_scale_their_base():
    df = CAT.throughput
    vr = df[(df["system"] == "vera_rubin_nvl72") & (df["precision"] == "fp4")]
    base = df[(df["system"] == "gb200_nvl72") & (df["precision"] == "fp4")]
    assert len(vr) == len(base)
    assert vr["tokens_per_s_per_gpu"].sum() == pytest.approx(5.0 * base["tokens_per_s_per_gpu"].sum())
    assert len(CAT.throughput_for("b300_hgx8")) == len(CAT.throughput_for("b200_hgx8"))


@pytest.mark.parametrize("eid", ["ups_double_conversion", "ups_eco"])
def test_ups_efficiency_rises_with_load(eid):
    eq = CAT.equipment(eid)
    eff = eq.efficiency(np.linspace(0.05, 1.0, 40))
    assert np.all(np.diff(eff) >= -1e-12)


@pytest.mark.parametrize("eid", ["busway", "switchboard"])
def test_resistive_stages_lose_efficiency_with_load(eid):
    eff = CAT.equipment(eid).efficiency(np.linspace(0.05, 1.0, 40))
    assert np.all(np.diff(eff) <= 1e-12)


@pytest.mark.parametrize("eid", ["transformer_mv", "pdu", "psu_titanium", "dc_800v"])
def test_core_loss_stages_peak_at_part_load(eid):
    eff = CAT.equipment(eid).efficiency(np.linspace(0.1, 1.0, 91))
    peak = int(np.argmax(eff))
    assert np.all(np.diff(eff[: peak + 1]) >= -1e-12) and np.all(np.diff(eff[peak:]) <= 1e-12)


def test_eco_mode_beats_double_conversion_and_input_power_is_consistent():
    dc, eco = CAT.equipment("ups_double_conversion"), CAT.equipment("ups_eco")
    x = np.linspace(0.1, 1.0, 10)
    assert np.all(eco.efficiency(x) > dc.efficiency(x))
    assert dc.input_power(500.0, 1000.0) == pytest.approx(500.0 / dc.efficiency(0.5))
    assert dc.input_power(0.0, 1000.0) == pytest.approx(10.0)  # no-load loss
    # three loss terms (1 % of rating + 2 % of load + 1 % load^2/rating), also past the rating
    assert dc.input_power(2000.0, 1000.0) == pytest.approx(2000.0 + 10.0 + 40.0 + 40.0)


@pytest.mark.parametrize("cid", ["measured_default", "vendor_claim"])
def test_power_cap_curve_is_concave_and_full_at_tdp(cid):
    curve = CAT.power_cap_curve(cid)
    c = np.linspace(curve.min_cap_fraction, 1.0, 101)
    f = curve.factor(c)
    assert curve.factor(1.0) == pytest.approx(1.0)
    assert np.all(np.diff(f) >= 0)
    assert np.all(np.diff(f, 2) <= 1e-9)
    with pytest.raises(CatalogError, match="outside"):
        curve.factor(curve.min_cap_fraction - 0.1)
    with pytest.raises(CatalogError, match="outside"):
        curve.factor(np.array([0.9, 1.2]))


def test_vendor_claim_is_rosier_than_measured():
    c = np.linspace(0.5, 0.95, 10)
    assert np.all(CAT.power_cap_curve("vendor_claim").factor(c) > CAT.power_cap_curve("measured_default").factor(c))


def test_chiller_cop_falls_with_condenser_temperature():
    ch = CAT.heat_rejection("chiller_water_cooled")
    assert ch.cop(30.0) == pytest.approx(6.28)
    cops = ch.cop(np.array([20.0, 30.0, 40.0]))
    assert cops[0] > cops[1] > cops[2]
    assert ch.cop(30.0, supply_c=17.0) > ch.cop(30.0)
    with pytest.raises(CatalogError, match="not a chiller"):
        CAT.heat_rejection("dry_cooler").cop(30.0)


def test_cooling_limits_admit_their_systems():
    dlc = CAT.cooling_tech("dlc")
    for sid in ("gb200_nvl72", "gb300_nvl72", "vera_rubin_nvl72", "rubin_ultra_nvl576"):
        s = CAT.system(sid)
        assert s.rack_power_kw(s.nodes_per_rack[0], s.gpu_tdp_w) <= dlc.max_rack_kw
    assert CAT.cooling_tech("air").max_rack_kw <= 20
    assert CAT.cooling_tech("air").liquid_heat_fraction == 0.0
    assert CAT.cooling_tech("immersion").liquid_heat_fraction == 1.0


@pytest.mark.parametrize("name", ["systems", "cooling", "equipment", "heat_rejection", "tiers", "power_caps", "throughput"])
def test_tables_for_the_cli(name):
    df = CAT.table(name)
    assert len(df) > 0 and "evidence" in df.columns
    if name != "throughput":
        assert df.columns[0] == "id"


def test_unknown_table():
    with pytest.raises(UnknownEntry, match="did you mean 'systems'"):
        CAT.table("system")


# user extension ---------------------------------------------------------------------------------

def write(tmp_path, text, name="mine.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_user_override_merges_field_wise(tmp_path):
    path = write(tmp_path, """
systems:
  - id: gb200_nvl72
    gpu_tdp_w: 1100
    source: https://example.com/our-gb200-measurement
    evidence: measured
  - id: my_box
    name: Our 8-GPU box
    source: https://example.com/datasheet
    evidence: vendor_spec
    vendor: acme
    form: node
    gpus_per_node: 8
    nodes_per_rack: [2, 4]
    gpu_tdp_w: 800
    gpu_idle_w: 80
    node_overhead_w: 3000
    rack_overhead_w: 0
    cooling: [air]
    liquid_heat_fraction: 0
    max_coolant_supply_c: null
    max_inlet_air_c: 35
    nvlink_domain_gpus: 8
    hbm_gb: 96
    fp8_dense_pflops: 2
    fp4_dense_pflops: 0
    capex_usd_per_gpu: 20000
    rack_width_m: 0.6
    rack_depth_m: 1.2
    rack_weight_kg: 600
    throughput_system: h100_hgx8
    throughput_multiplier: {"*": 1.1}
""")
    cat = CAT.extend(path)
    gb = cat.system("gb200_nvl72")
    assert gb.gpu_tdp_w == 1100 and gb.node_overhead_w == CAT.system("gb200_nvl72").node_overhead_w
    assert gb.evidence_of("gpu_tdp_w") == "measured"
    assert gb.source_of("gpu_tdp_w") == ("https://example.com/our-gb200-measurement",)
    assert gb.evidence_of("hbm_gb") == CAT.system("gb200_nvl72").evidence_of("hbm_gb")
    assert CAT.system("gb200_nvl72").gpu_tdp_w == 1200  # the original is untouched
    mine = cat.system("my_box")
    assert mine.max_coolant_supply_c is None and mine.rack_power_kw(2, 800) == pytest.approx(18.8)
    rows = cat.throughput_for("my_box")
    assert len(rows) == len(CAT.throughput_for("h100_hgx8")) and rows["derived"].all()
    assert (rows["evidence"] == "vendor_spec").all()


def test_user_entry_without_source_is_rejected(tmp_path):
    path = write(tmp_path, "tiers:\n  - id: premium\n    price_usd_per_mtok: 30\n    evidence: assumption\n")
    with pytest.raises(CatalogError) as err:
        CAT.extend(path)
    msg = str(err.value)
    assert str(path) in msg and "'tiers'" in msg and "'premium'" in msg and "'source'" in msg


def test_user_entry_with_bad_value_names_the_field(tmp_path):
    path = write(tmp_path, """
cooling:
  - id: air
    max_rack_kw: -5
    source: https://example.com
    evidence: measured
""")
    with pytest.raises(CatalogError, match=r"mine.yaml, section 'cooling', id 'air', field 'max_rack_kw'"):
        CAT.extend(path)


def test_new_entry_missing_a_field_and_typos_are_named():
    with pytest.raises(CatalogError, match=r"id 'x', field 'approach_c': missing field"):
        CAT.extend({"heat_rejection": [{"id": "x", "source": "https://e.com", "evidence": "measured",
                                        "kind": "dry_cooler", "ambient_basis": "dry_bulb"}]})
    with pytest.raises(CatalogError, match="unknown field.*did you mean 'max_rack_kw'"):
        CAT.extend({"cooling": [{"id": "air", "max_rack_kws": 30, "source": "s", "evidence": "measured"}]})
    with pytest.raises(CatalogError, match="unknown section 'system'.*did you mean 'systems'"):
        CAT.extend({"system": []})
    with pytest.raises(CatalogError, match="evidence 'guess' is not a known tag"):
        CAT.extend({"tiers": [{"id": "free", "max_ttft_s": 3, "source": "s", "evidence": "guess"}]})


def test_fraction_and_curve_rules():
    with pytest.raises(CatalogError, match="liquid_heat_fraction"):
        CAT.extend({"cooling": [{"id": "dlc", "liquid_heat_fraction": 1.2, "source": "s", "evidence": "measured"}]})
    with pytest.raises(CatalogError, match="concave"):
        CAT.extend({"power_cap_curves": [{"id": "measured_default", "points": [[0.5, 0.5], [0.9, 0.6], [1.0, 1.0]],
                                          "source": "s", "evidence": "measured"}]})
    with pytest.raises(CatalogError, match="provenance.*rationale"):
        CAT.extend({"tiers": [{"id": "free", "max_ttft_s": 3, "source": "s", "evidence": "measured",
                               "provenance": {"max_ttft_s": {"evidence": "assumption", "source": "s"}}}]})


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "tiers:\n  - id: free\n    max_ttft_s: [1, 2\n  - id: x\n")
    with pytest.raises(CatalogError, match=r"mine.yaml: YAML syntax error at line \d+"):
        CAT.extend(path)


def test_user_throughput_rows_and_from_files(tmp_path):
    path = write(tmp_path, """
throughput:
  - {system: h100_hgx8, llm: my-llm, precision: fp8, isl: 1024, osl: 1024, interactivity_tok_s_user: 20,
     tokens_per_s_per_gpu: 900, output_tokens_per_s_per_gpu: 450, ttft_s: 1.0,
     source: https://example.com/run, evidence: measured}
  - {system: h100_hgx8, llm: my-llm, precision: fp8, isl: 1024, osl: 1024, interactivity_tok_s_user: 40,
     tokens_per_s_per_gpu: 1000, output_tokens_per_s_per_gpu: 500, ttft_s: 1.0,
     source: https://example.com/run, evidence: measured}
""")
    rows = CAT.extend(path).throughput_for("h100_hgx8")
    mine = rows[rows["llm"] == "my-llm"]
    assert list(mine["interactivity_tok_s_user"]) == [40.0]  # the dominated point is dropped
    bad = write(tmp_path, "throughput:\n  - {system: h100_hgx9, llm: a, precision: fp8, isl: 1, osl: 1, "
                          "interactivity_tok_s_user: 1, tokens_per_s_per_gpu: 1, output_tokens_per_s_per_gpu: 1, "
                          "source: s, evidence: measured}\n", "bad.yaml")
    with pytest.raises(CatalogError, match="bad.yaml, section 'throughput', row 1, field 'system'.*h100_hgx8"):
        _ = CAT.extend(bad).throughput
    with pytest.raises(CatalogError, match="does not exist"):
        CAT.extend(tmp_path / "nope.yaml")
    only = Catalog.from_files(path)
    assert len(only.systems) == 0


def test_import_is_light():
    code = "import sys, twin.catalog; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
