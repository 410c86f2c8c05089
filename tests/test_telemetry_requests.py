"""Request traces as per-tier demand and the twin's utilization; checked by hand and against the catalog."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from twin.physics import tokens
from twin.physics.tokens import Workload
from twin.telemetry import TelemetryError, requests

from conftest import small_facility

AZURE = "TIMESTAMP,ContextTokens,GeneratedTokens\n"


def write(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text(AZURE + "".join(f"{t},{i},{o}\n" for t, i, o in rows))
    return path


def test_demand_per_tier_by_hand(tmp_path):
    conv = write(tmp_path, "conv.csv", [("2023-11-16 18:15:46.6805900", 374, 44), ("2023-11-16 18:15:50.9951690", 396, 109),
                                        ("2023-11-16 18:16:10.0000000", 100, 20)])
    code = write(tmp_path, "code.csv", [("2023-11-16 18:16:59.9000000", 4808, 10)])
    ds = requests.demand([conv, code], tiers={"conv": "standard", "code": "premium"}, freq="1min")
    assert ds.tier.values.tolist() == ["standard", "premium"] and ds.sizes["time"] == 2
    assert np.allclose(ds.requests_per_s.values, [[2 / 60, 0], [1 / 60, 1 / 60]])
    assert np.allclose(ds.demand_tokens_per_s.values, [[(374 + 44 + 396 + 109) / 60, 0], [120 / 60, 4818 / 60]])
    assert ds.demand_output_tokens_per_s.sel(tier="premium").values.tolist() == pytest.approx([0, 10 / 60])
    scaled = requests.demand([conv, code], tiers="standard", scale=1000.0)
    assert scaled.demand_tokens_per_s.sum().item() == pytest.approx(1000 * (923 + 120 + 4818) / 60)


def test_utilization_from_the_facilitys_capacity(tmp_path):
    site = small_facility()
    rows = [(f"2025-03-01 10:{m:02d}:{s:02d}.000", 1000, 1000) for m in range(10) for s in range(0, 60, 5 + m)]
    trace = write(tmp_path, "svc.csv", rows)
    ds = requests.demand(trace, site, tiers="standard", peak_utilization=0.8)
    # capacity by hand: every GPU serves the one tier at TDP; tokens/s per GPU from the catalog's measured curve
    gpus = site.table("rack")["gpus"].sum()
    per_gpu = tokens.tier_throughput(site.catalog, "gb200_nvl72", "standard", Workload(tier_mix={"standard": 1}))
    assert ds.capacity_tokens_per_s.sel(tier="standard").item() == pytest.approx(gpus * per_gpu, rel=1e-9)
    assert ds.tier_utilization.max().item() == pytest.approx(0.8)
    load = ds.demand_tokens_per_s.sel(tier="standard").values / (gpus * per_gpu)
    assert np.allclose(ds.utilization.values, load)
    sim = twin.simulate(site, drive=ds, workload=Workload(tier_mix={"standard": 1}), weather="lulea")
    served = sim.tokens_per_s.sel(tier="standard").values
    assert np.allclose(served, ds.demand_tokens_per_s.sel(tier="standard").values, rtol=1e-6)   # one tier: exact


def test_bad_traces_name_file_line_and_field(tmp_path):
    bad = write(tmp_path, "bad.csv", [("2023-11-16 18:15:46", 10, 5), ("2023-11-16 18:15:47", 2.5, 5)])
    with pytest.raises(TelemetryError, match=r"bad.csv:3: field 'ContextTokens': 2.5 is not a token count"):
        requests.read_trace(bad)
    (tmp_path / "none.csv").write_text("a,b\n1,2\n")
    with pytest.raises(TelemetryError, match=r"none.csv:1: .*no header line of a request trace"):
        requests.read_trace(tmp_path / "none.csv")
    ok = write(tmp_path, "ok.csv", [("2023-11-16 18:15:46", 10, 5)])
    with pytest.raises(TelemetryError, match=r"needs a facility"):
        requests.demand(ok, peak_utilization=0.5)
