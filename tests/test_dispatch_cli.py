"""`twin dispatch` from the shell: tables, NetCDF and PNG written, bad event files answered in one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import twin

pytestmark = pytest.mark.solver


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200", "MPLBACKEND": "Agg"})


def test_dispatch_writes_netcdf_and_plot(tmp_path):
    events = tmp_path / "e.yaml"
    events.write_text("events:\n  - {start: 2025-01-01T14:00, duration_h: 2, reduce_pct: 20, notice_h: 1}\n")
    out = run("dispatch", "ai-factory-hall", "--hours", "24", "--events", str(events), "--training", "0.4",
              "--out", str(tmp_path / "d.nc"), "--plot", str(tmp_path / "d.png"))
    assert out.returncode == 0, out.stderr
    assert "every limit, target and deadline met" in out.stdout
    ds = twin.state.load(tmp_path / "d.nc")
    assert bool(ds.event.sum() == 2)
    assert (tmp_path / "d.png").stat().st_size > 10_000


def test_bad_event_is_one_clear_line(tmp_path):
    events = tmp_path / "e.yaml"
    events.write_text("events:\n  - {start: 2025-01-01T14:00, duration_h: 2}\n")
    out = run("dispatch", "ai-factory-hall", "--hours", "24", "--events", str(events))
    assert out.returncode == 1
    assert "give exactly one of target_mw, reduce_mw, reduce_pct" in out.stderr
    assert "Traceback" not in out.stderr


def test_flex_prints_events_offer_and_hosting(tmp_path):
    import pandas as pd

    feeder = tmp_path / "feeder.csv"
    pd.DataFrame({"time": pd.date_range("2025-01-01", periods=8, freq="1h"),
                  "headroom_mw": [9, 6, 1, 0.5, 2, 9, 9, 9]}).to_csv(feeder, index=False)
    out = run("flex", "ai-factory-hall", "--hours", "30", "--notices", "1", "--durations", "2", "--depths", "25",
              "--training", "0.5", "--headroom", str(feeder), "--extra-mw", "1,3", "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert "notice_h,duration_h,depth_pct,met" in out.stdout and "deepest_pct" in out.stdout
    assert "extra_mw,curtailed_h_per_year" in out.stdout
    assert "1.0,1095.0" in out.stdout            # 1 MW more: 1 of 8 hours below 1 MW headroom -> 1095 h a year
