"""Wide building-management exports (one column per point, one clock) are gridded as (time x point) tables:
the same Dataset and findings as the same readings written as a point list, and a case worked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from twin import telemetry
from twin.telemetry import TelemetryError
from twin.telemetry.formats import read_file

DATA = Path(__file__).parent / "data" / "telemetry"
MAPPING = {"points": {"MAIN.KW": "grid_power_kw", "OAT": "dry_bulb_c",
                      "CDU-1A.KW": {"variable": "device_power_kw", "node": "cdu-1"},
                      "CDU-1B.KW": {"variable": "device_power_kw", "node": "cdu-1"},
                      "CDU-2.KW": {"variable": "device_power_kw", "node": "cdu-2", "unit": "kW"},
                      "R1.UTIL": {"variable": "rack_utilization", "node": "r1"}}}


def line_of(path: Path, stamp: str, nth: int = 0) -> int:
    """File line (1-based) of the nth row starting with the timestamp."""
    hits = [k + 1 for k, text in enumerate(path.read_text(encoding="utf-8").splitlines()) if text.startswith(stamp)]
    return hits[nth]


def findings(ds):
    """The findings without file names and lines (the two files lay the same readings out differently)."""
    return telemetry.report(ds).drop(columns=["where", "line"]).reset_index(drop=True)


@pytest.mark.parametrize("options", [{}, {"timezone": "America/Phoenix", "freq": "30min", "max_gap": 1},
                                     {"outlier_z": None, "clock_skew": False}])
def test_wide_export_equals_the_same_readings_as_a_point_list(options):
    assert read_file(DATA / "bms_wide.csv").wide and not read_file(DATA / "bms_points.csv").wide
    wide = telemetry.read(DATA / "bms_wide.csv", MAPPING, **options)
    long = telemetry.read(DATA / "bms_points.csv", MAPPING, **options)
    # the two cdu-1 sources are summed in another order on the point-list path: equal to rounding (1e-12)
    xr.testing.assert_allclose(wide, long, rtol=1e-12, atol=0)
    for name in wide.data_vars:
        assert np.array_equal(wide[name].values, long[name].values, equal_nan=True) or name == "device_power_kw"
    # every finding alike but where it is
    assert findings(wide).equals(findings(long))


def test_wide_findings_name_the_export_lines():
    path = DATA / "bms_wide.csv"
    found = telemetry.report(telemetry.read(path, MAPPING)).set_index("kind")
    assert {"missing", "duplicates", "conflicting_duplicates", "clock_step", "out_of_range", "outliers", "partial",
            "gaps_filled", "gaps_open"} <= set(found.index)
    assert found.loc["missing", "count"] == 9                                               # 2 + 6 + 1 empty cells
    assert found.loc["duplicates", "line"] == line_of(path, "2025-07-01 01:15:00", 1)     # the second copy
    assert found.loc["conflicting_duplicates", "line"] == line_of(path, "2025-07-01 06:15:00", 1)
    assert found.loc["outliers", "line"] == line_of(path, "2025-07-01 05:00:00")          # the 50,000 kW spike only
    assert found.loc["clock_step", "line"] == line_of(path, "2025-07-01 13:45:00")        # written after 14:00
    assert "back 6 time(s) in 6 source(s)" in found.loc["clock_step", "detail"]                # one per column
    by_variable = telemetry.report(telemetry.read(path, MAPPING))
    oat = by_variable[by_variable["detail"].str.contains("dry_bulb_c")].iloc[0]
    assert oat["line"] == line_of(path, "2025-07-01 03:00:00") and "(e.g. 148.889 from OAT)" in oat["detail"]


def test_a_small_wide_export_by_hand(tmp_path):
    # 15-minute samples on a 15-minute grid: two points of one device (W and kW), the outdoor air in degF
    text = ("Time,A.KW [W],B.KW (kW),OAT (degF)\n"
            "2025-07-01 00:00,1000,2.0,50\n"
            "2025-07-01 00:15,1500,,59\n"          # B missing: the step is A scaled up to both sources
            "2025-07-01 00:15,1500,,59\n"          # a repeated row: dropped
            "2025-07-01 00:30,2000,3.0,500\n"      # 260 degC: out of range, removed, then interpolated
            "2025-07-01 01:00,2500,3.5,77\n")      # 00:45 missing everywhere
    path = tmp_path / "w.csv"
    path.write_text(text)
    mapping = {"points": {"A.KW": {"variable": "device_power_kw", "node": "cdu"},
                          "B.KW": {"variable": "device_power_kw", "node": "cdu"}, "OAT": "dry_bulb_c"}}
    ds = telemetry.read(path, mapping, freq="15min", outlier_z=None)
    kw = ds.device_power_kw.sel(device="cdu").values
    # 00:00 1 + 2; 00:15 only A (1.5 kW) of two sources: x 2; 00:30 2 + 3; 00:45 between 5 and 6; 01:00 2.5 + 3.5
    assert kw.tolist() == pytest.approx([3.0, 3.0, 5.0, 5.5, 6.0])
    assert ds.device_power_kw_quality.sel(device="cdu").values.tolist() == [0, 1, 0, 1, 0]
    # degF -> degC: 50 -> 10, 59 -> 15, (removed), (gap), 77 -> 25; the 2-step hole interpolated from 15 to 25
    assert ds.dry_bulb_c.values.tolist() == pytest.approx([10.0, 15.0, 15 + 10 / 3, 15 + 20 / 3, 25.0])
    found = telemetry.report(ds).set_index("kind")
    assert found.loc["duplicates", "count"] == 2 and found.loc["duplicates", "line"] == 4   # A and OAT (B empty)
    assert found.loc["out_of_range", "line"] == 5 and found.loc["out_of_range", "count"] == 1
    assert found.loc["missing", "count"] == 2


def test_a_bad_cell_of_a_wide_export_names_its_line_and_column(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("Timestamp,A.KW (kW),B.KW (kW)\n2025-07-01 00:00,1,2\n2025-07-01 01:00,3,lots\n")
    with pytest.raises(TelemetryError, match=r"w.csv:3: field 'B.KW \(kW\)': value 'lots' is not a number"):
        telemetry.read(path, {"points": {"A.KW": "grid_power_kw", "B.KW": "it_power_kw"}})
    path.write_text("Timestamp,A.KW (kW)\n2025-07-01 00:00,\n2025-07-01 01:00,N/A\n")
    with pytest.raises(TelemetryError, match=r"w.csv: every mapped reading is missing"):
        telemetry.read(path, {"points": {"A.KW": "grid_power_kw"}})


def test_wide_columns_with_clocks_of_their_own_are_read_in_long_form(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("Timestamp,A.KW (kW),B.KW (kW)\n" + "".join(f"2025-07-01 0{h}:00,{h},{10 + h}\n" for h in range(4)))
    mapping = {"points": {"A.KW": "grid_power_kw", "B.KW": "it_power_kw"}, "clock_offsets_s": {"A.KW": 3600}}
    ds = telemetry.read(path, mapping, freq="1h")
    # A's clock runs an hour ahead: its 01:00 reading is 00:00's
    at = ds.sel(time="2025-07-01 00:00")
    assert at.grid_power_kw.item() == 1.0 and at.it_power_kw.item() == 10.0
    assert telemetry.report(ds).set_index("kind").loc["clock_offset", "count"] == 4


def test_wide_exports_on_skewed_clocks_equal_point_lists(tmp_path):
    """Two collectors sampling every 5 minutes, one 40 s late: its clock is moved onto the other's, either layout."""
    def stamps(lag):
        return [f"2025-07-01 00:{5 * i:02d}:{lag:02d}" for i in range(10)]

    paths = {}
    for name, lag, base in (("a", 0, 100.0), ("b", 40, 200.0), ("c", 0, 300.0)):
        rows = [(t, base + i, base / 10 + (i % 3)) for i, t in enumerate(stamps(lag))]
        wide = tmp_path / f"{name}.csv"
        wide.write_text(f"Timestamp,{name.upper()}1.KW (kW),{name.upper()}2.KW (kW)\n" +
                        "".join(f"{t},{x},{y}\n" for t, x, y in rows))
        long = tmp_path / f"{name}_points.csv"
        long.write_text("Point,Unit,Timestamp,Value\n" + "".join(f"{name.upper()}1.KW,kW,{t},{x}\n" for t, x, _ in rows) +
                        "".join(f"{name.upper()}2.KW,kW,{t},{y}\n" for t, _, y in rows))
        paths[name] = (wide, long)
    mapping = {"patterns": [{"match": r"^(?P<d>[ABC])\d\.KW$", "variable": "device_power_kw", "node": "cdu-{d}"}]}
    wide = telemetry.read([p[0] for p in paths.values()], mapping)
    long = telemetry.read([p[1] for p in paths.values()], mapping)
    xr.testing.assert_equal(wide, long)
    named = findings(long).assign(detail=lambda f: f["detail"].str.replace("_points.csv", ".csv"))
    assert findings(wide).equals(named)
    skew = telemetry.report(wide).set_index("kind").loc["clock_skew"]
    assert skew["where"].endswith("b.csv") and "+40 s" in skew["detail"]
    assert wide.sizes["time"] == 10 and wide.device_power_kw.sel(device="cdu-B").values[0] == 200.0 + 20.0


@pytest.mark.parametrize("seed", range(12))
def test_random_wide_exports_equal_their_point_lists(tmp_path, seed):
    """Random gaps, impossible values, repeated rows (some conflicting), a row written out of order, an empty
    column, a DST night: the wide layout and the point list of the same cells give the same Dataset and findings."""
    r = np.random.default_rng(seed)
    n, k = int(r.integers(2, 40)), int(r.integers(1, 6))
    stamps = pd.date_range("2025-11-02 00:00", periods=n, freq=str(r.choice(["1min", "15min"]))).strftime("%Y-%m-%d %H:%M:%S")
    rows = [[s] + [f"{v:.2f}" for v in row] for s, row in zip(stamps, 100 + r.normal(0, 1, (n, k)).cumsum(0))]
    for _ in range(int(r.integers(0, n * k // 2 + 1))):
        rows[r.integers(n)][1 + r.integers(k)] = str(r.choice(["", "N/A", "-5", "1e9"]))
    if r.random() < 0.3:
        for row in rows:
            row[1] = ""
    for _ in range(int(r.integers(0, 4))):
        i = int(r.integers(n))
        rows.insert(i + 1, [c if j == 0 or r.random() < 0.5 else f"{r.normal(100, 5):.2f}" for j, c in enumerate(rows[i])])
    i = int(r.integers(len(rows) - 1))
    rows[i], rows[i + 1] = rows[i + 1], rows[i]
    names = [f"P{j}.KW" for j in range(k)]
    wide, long = tmp_path / "w.csv", tmp_path / "w_points.csv"
    wide.write_text(",".join(["Timestamp"] + [f"{p} (kW)" for p in names]) + "\n" + "".join(",".join(x) + "\n" for x in rows))
    long.write_text("Point,Unit,Timestamp,Value\n" + "".join(f"{p},kW,{x[0]},{x[1 + j]}\n" for j, p in enumerate(names)
                                                             for x in rows))
    node = "d{j}" if seed % 2 else "d0"                   # one device per point, or all summed into one
    mapping = {"timezone": "America/New_York" if seed % 3 else None,
               "patterns": [{"match": r"^P(?P<j>\d)\.KW$", "variable": "device_power_kw", "node": node}]}
    options = {"max_gap": int(r.integers(0, 4)), "freq": "15min" if seed % 4 == 0 else None}
    ds_long, ds_wide = (telemetry.read(path, mapping, **options) for path in (long, wide))
    xr.testing.assert_allclose(ds_wide, ds_long, rtol=1e-12, atol=0)
    assert findings(ds_wide).equals(findings(ds_long))
