"""`twin telemetry import`, `twin calibrate` and `twin replay --plot` from the shell, on files the twin wrote."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import yaml

import twin

from conftest import small_facility


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200", "MPLBACKEND": "Agg"})


def test_import_calibrate_replay(tmp_path):
    site = small_facility()
    site.save(tmp_path / "small.yaml")
    rng = np.random.default_rng(4)
    n = 72
    u = rng.uniform(0.1, 1.0, (n, 4))
    truth = site.catalog.extend({"systems": [{"id": "gb200_nvl72", "gpu_idle_w": 200.0, "source": "test",
                                              "evidence": "assumption", "note": "truth"}]})
    sim = twin.simulate(twin.Facility(graph=site.graph, catalog=truth), weather="lulea", hours=n, utilization=u,
                        per_rack=True, start="2025-03-01")
    racks = list(site.table("rack").index)
    rows = ["Point,Units,Timestamp,Value"]
    for i, t in enumerate(pd.DatetimeIndex(sim.time.values)):
        for j, r in enumerate(racks):
            rows.append(f"{r}.KW,kW,{t:%Y-%m-%d %H:%M},{sim.rack_power_kw.values[i, j] + rng.normal(0, 0.5):.3f}")
            rows.append(f"{r}.UTIL,%,{t:%Y-%m-%d %H:%M},{100 * u[i, j]:.4f}")
    (tmp_path / "bms.csv").write_text("\n".join(rows) + "\n")
    mapping = {"patterns": [{"match": r"^(?P<r>.+)\.KW$", "variable": "rack_power_kw", "node": "{r}"},
                            {"match": r"^(?P<r>.+)\.UTIL$", "variable": "rack_utilization", "node": "{r}"}]}
    (tmp_path / "map.yaml").write_text(yaml.safe_dump(mapping))

    out = run("telemetry", "import", str(tmp_path / "bms.csv"), "--mapping", str(tmp_path / "map.yaml"),
              "--blueprint", str(tmp_path / "small.yaml"), "--out", str(tmp_path / "measured.nc"))
    assert out.returncode == 0, out.stderr
    assert "72" in out.stdout and "rack_power_kw" in out.stdout and (tmp_path / "measured.nc").is_file()

    out = run("calibrate", str(tmp_path / "small.yaml"), str(tmp_path / "measured.nc"), "--params", "gpu.idle_w",
              "--out", str(tmp_path / "fitted.yaml"), "--format", "json")
    assert out.returncode == 0, out.stderr
    import json

    tables = json.loads(out.stdout)
    fitted = tables["parameters"][0]
    assert fitted["parameter"] == "systems.gb200_nvl72.gpu_idle_w"
    assert fitted["ci_low (95%)"] <= 200.0 <= fitted["ci_high (95%)"]
    assert all(row["passes"] for row in tables["after"])
    assert yaml.safe_load((tmp_path / "fitted.yaml").read_text())["systems"][0]["evidence"] == "calibrated"

    out = run("replay", str(tmp_path / "small.yaml"), str(tmp_path / "measured.nc"), "--catalog",
              str(tmp_path / "fitted.yaml"), "--plot", str(tmp_path / "replay.png"), "--format", "csv")
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(__import__("io").StringIO(out.stdout))
    assert table.loc[0, "variable"] == "rack_power_kw" and table.loc[0, "cv_rmse_pct"] < 2.0
    assert (tmp_path / "replay.png").stat().st_size > 10_000


def test_a_bad_file_is_one_clear_message(tmp_path):
    (tmp_path / "bad.csv").write_text("Point,Units,Timestamp,Value\nP,kW,2025-03-01 00:00,abc\n")
    (tmp_path / "map.yaml").write_text("points:\n  P: grid_power_kw\n")
    out = run("telemetry", "import", str(tmp_path / "bad.csv"), "--mapping", str(tmp_path / "map.yaml"),
              "--out", str(tmp_path / "m.nc"))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "bad.csv:2: field 'Value': value 'abc' is not a number" in out.stderr
    assert not (tmp_path / "m.nc").exists()
