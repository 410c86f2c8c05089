"""Placement on small hand-built facilities: ratings respected (checked independently), hand-computed caps,
N-1-secure placements surviving every failure, training in whole NVLink domains, migration, the file format."""

from __future__ import annotations

import pytest
import xarray as xr

import solvers
from models.placement_data import WorkloadError, read_workloads
from test_contingency import CAT, RACK_KW, SPEC, tiny
from twin.contingency_check import n1_overloads, overloads
from twin.errors import InfeasibleDesign
from twin.physics import tokens

STANDARD = [{"id": "chat", "tier": "standard"}]
RACK_STANDARD = 72 * tokens.tier_throughput(CAT, "gb200_nvl72", "standard")
CURVE = CAT.power_cap_curve("measured_default")


def place(f, work=STANDARD, **kw):
    kw.setdefault("path", "direct")
    return solvers.place(f, work, **kw)


def test_binding_ups_caps_every_rack_equally_as_computed_by_hand():
    f = tiny(ups_kw=250.0, cdu_kw=1000.0)                           # 2N of 250 kW: 500 kW for 528 kW at TDP
    r = place(f, objective="tokens")
    kw = 500.0 / 4
    frac = ((kw - SPEC.rack_overhead_w / 1000) * 1000 / 18 - SPEC.node_overhead_w) / 4 / SPEC.gpu_tdp_w
    assert r.kpis["tokens_per_s"] == pytest.approx(4 * RACK_STANDARD * float(CURVE.factor(frac)), rel=1e-6)
    assert r.kpis["it_kw"] == pytest.approx(500.0, rel=1e-6)
    assert r.decisions["rack_cap_w"].values == pytest.approx([frac * SPEC.gpu_tdp_w] * 4)
    assert r.problems == []
    assert overloads(r.facility) == []


def test_usable_capacity_holds_the_spare_back():
    f = tiny(ups_kw=400.0, cdu_kw=1000.0)
    free = place(f, objective="tokens")
    held = place(f, objective="tokens", capacity="usable")
    assert free.kpis["it_kw"] == pytest.approx(4 * RACK_KW)
    assert held.kpis["it_kw"] <= 400.0 + 1e-6 < free.kpis["it_kw"]
    assert held.problems == [] and overloads(held.facility, capacity="usable") == []


def test_secure_placement_survives_every_failure_and_the_plain_one_does_not():
    f = tiny(ups_kw=300.0, cdu_kw=1000.0)                           # one UPS left: 300 kW
    plain = place(f, objective="tokens")
    assert plain.kpis["racks_working"] == 4 and plain.problems == []
    assert "ups-a" in n1_overloads(plain.facility)                  # the checker can fail
    secure = place(f, objective="tokens", secure=True, check="n1")
    idle_kw = SPEC.rack_power_kw(18, SPEC.gpu_idle_w)
    min_kw = SPEC.rack_power_kw(18, CURVE.min_cap_fraction * SPEC.gpu_tdp_w)
    working = int((300.0 - 4 * idle_kw) // (min_kw - idle_kw))        # 2 racks may work, 2 stay idle
    assert secure.kpis["racks_working"] == working and secure.kpis["n1_rows"] >= 1
    assert secure.problems == [] and n1_overloads(secure.facility) == {}
    assert set(secure.decisions["rack_workload"].values) == {"chat", "idle"}


def test_demand_caps_tokens_and_commitments_are_met():
    work = [{"id": "api", "tier": "premium", "demand_tokens_per_s": 3.0e5},
            {"id": "chat", "tier": "standard", "min_tokens_per_s": 5.0e5}]
    r = place(tiny(cdu_kw=1000.0), work, objective="revenue")
    got = dict(zip(r.decisions["workload"].values, r.decisions["workload_tokens_per_s"].values))
    assert got["api"] <= 3.0e5 * (1 + 1e-6)
    assert got["chat"] >= 5.0e5
    with pytest.raises(InfeasibleDesign, match="commitments"):
        place(tiny(cdu_kw=1000.0), [{"id": "chat", "tier": "standard", "min_tokens_per_s": 1e9}])


def test_training_takes_whole_nvlink_domains_in_one_hall():
    f = tiny(cdu_kw=1000.0)
    job = {"id": "pretrain", "kind": "training", "domains": 2, "params_b": 70, "required": True}
    r = place(f, STANDARD + [job], objective="tokens")
    racks = r.decisions["rack_workload"].values.tolist()
    assert racks.count("pretrain") == 2 * SPEC.nvlink_domain_gpus // 72
    caps = r.decisions["rack_cap_w"].values[[w == "pretrain" for w in racks]]
    assert len(set(caps.round(6))) == 1                              # one cap level for the whole job
    with pytest.raises(WorkloadError, match="hall-z"):
        place(f, [dict(job, hall="hall-z")], objective="tokens")
    with pytest.raises(InfeasibleDesign):
        place(f, [dict(job, domains=5)], objective="tokens")            # 5 racks needed, 4 exist


def test_migration_penalty_keeps_racks_where_they_are():
    f = tiny(cdu_kw=1000.0)
    for rack in f.table("rack").index:
        f.graph.nodes[rack]["workload"] = "batch"
    work = [{"id": "batch", "tier": "batch"}, {"id": "chat", "tier": "standard"}]
    stay = place(f, work, objective="revenue", migration_penalty=10.0)
    move = place(f, work, objective="revenue", migration_penalty=0.0)
    per_rack = {w: float(v) for w, v in zip(move.decisions["workload"].values, move.decisions["workload_revenue_usd_per_h"].values)}
    assert stay.kpis["racks_moved"] == 0
    assert move.kpis["racks_moved"] == 4 and per_rack["chat"] > stay.kpis["revenue_usd_per_h"]


def test_pyomo_and_direct_paths_agree():
    f = tiny(ups_kw=260.0, cdu_kw=1000.0)
    work = STANDARD + [{"id": "api", "tier": "premium", "demand_tokens_per_s": 2.0e5}]
    a = solvers.place(f, work, path="pyomo")
    b = solvers.place(f, work, path="direct")
    assert a.kpis["objective_value"] == pytest.approx(b.kpis["objective_value"], rel=1e-6)


def test_decisions_round_trip_through_netcdf(tmp_path):
    r = place(tiny(ups_kw=250.0, cdu_kw=1000.0))
    path = r.save(tmp_path / "placement.nc")
    with xr.open_dataset(path) as ds:
        assert list(ds["rack_workload"].values) == list(r.decisions["rack_workload"].values)
        assert float(ds["group_load_kw"].sel(group="ups")) == pytest.approx(r.kpis["it_kw"])
        assert ds.attrs["objective"] == "revenue"
    placed = r.facility.table("rack")
    assert set(placed["workload"]) == {"chat"} and placed["tokens_per_s"].sum() == pytest.approx(r.kpis["tokens_per_s"])


def test_workloads_file_format(tmp_path):
    text = "workloads:\n  - {id: chat, tier: standard, demand_tokens_per_s: 2.0e6}\n"
    (tmp_path / "w.yaml").write_text(text)
    assert read_workloads(tmp_path / "w.yaml")[0].demand_tokens_per_s == 2.0e6
    for bad, message in (
        ([{"id": "idle", "tier": "free"}], "reserved"),
        ([{"id": "a", "tier": "free", "speed": 3}], "unknown field 'speed'"),
        ([{"id": "a"}], "names its catalog tier"),
        ([{"id": "a", "tier": "free"}, {"id": "a", "tier": "batch"}], "twice"),
        ([{"id": "t", "kind": "training", "domains": 2}], "params_b"),
        ([{"id": "a", "tier": "free", "demand_tokens_per_s": -1}], ">= 0"),
        ([], "non-empty"),
    ):
        with pytest.raises(WorkloadError, match=message):
            read_workloads(bad)
    with pytest.raises(WorkloadError, match="does not exist"):
        read_workloads(tmp_path / "missing.yaml")


def test_stricter_interactivity_lowers_throughput():
    plain = place(tiny(cdu_kw=1000.0), [{"id": "api", "tier": "premium"}], objective="tokens")
    fast = place(tiny(cdu_kw=1000.0), [{"id": "api", "tier": "premium", "interactivity_tok_s_user": 90}],
                 objective="tokens")
    assert 0 < fast.kpis["tokens_per_s"] < plain.kpis["tokens_per_s"]
    with pytest.raises(WorkloadError, match="'api' can run on no rack.*tok/s/user"):
        place(tiny(), [{"id": "api", "tier": "premium", "interactivity_tok_s_user": 500}])


def test_cli_place_writes_netcdf(tmp_path):
    import os
    import subprocess
    import sys

    work = tmp_path / "w.yaml"
    work.write_text("workloads:\n  - {id: chat, tier: standard}\n  - {id: api, tier: premium, demand_tokens_per_s: 1.0e6}\n")
    out = tmp_path / "placement.nc"
    run = subprocess.run([sys.executable, "-m", "twin", "place", "ai-factory-hall", "--workloads", str(work), "--out", str(out)],
                         capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 0, run.stderr
    assert "no device exceeds its rating" in run.stdout and "chat" in run.stdout
    with xr.open_dataset(out) as ds:
        assert ds.sizes["rack"] == 64
