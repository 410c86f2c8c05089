"""Telemetry readers on small files with the real formats' quirks; every bad file names file, line and field."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from twin import telemetry
from twin.telemetry import TelemetryError

RACK = "hall-a/row-01/rack-01"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def kinds(ds):
    return set(telemetry.report(ds)["kind"])


def test_nvidia_smi_units_in_header_and_cells_na_and_a_repeated_header(tmp_path):
    text = (
        "timestamp, name, index, uuid, power.draw [W], utilization.gpu [%], temperature.gpu, clocks.sm [MHz]\n"
        "2025/07/01 10:00:00.000, NVIDIA H100 80GB HBM3, 0, GPU-a, 400.00 W, 90 %, 60, 1980 MHz\n"
        "2025/07/01 10:00:00.000, NVIDIA H100 80GB HBM3, 1, GPU-b, 300.00 W, 70 %, 55, 1950 MHz\n"
        "timestamp, name, index, uuid, power.draw [W], utilization.gpu [%], temperature.gpu, clocks.sm [MHz]\n"
        "2025/07/01 10:30:00.000, NVIDIA H100 80GB HBM3, 0, GPU-a, 200.00 W, [N/A], 50, 1410 MHz\n"
        "2025/07/01 10:30:00.000, NVIDIA H100 80GB HBM3, 1, GPU-b, 100.00 W, 10 %, 45, 1410 MHz\n"
    )
    path = write(tmp_path, "node-7.csv", text)
    ds = telemetry.read(path, {"hosts": {"node-7": RACK}}, freq="30min")
    assert ds.attrs["source_formats"] == "nvidia-smi-csv"
    assert ds.rack_gpu_power_kw.sel(rack=RACK).values.tolist() == pytest.approx([0.7, 0.3])
    assert ds.rack_gpu_temp_c.sel(rack=RACK).values.tolist() == pytest.approx([60.0, 50.0])          # the hottest GPU
    assert ds.rack_sm_clock_mhz.sel(rack=RACK).values.tolist() == pytest.approx([1965.0, 1410.0])
    # GPU 0's utilization is N/A at 10:30: the rack value comes from GPU 1 alone and is flagged filled
    assert ds.rack_utilization.sel(rack=RACK).values.tolist() == pytest.approx([0.8, 0.1])
    assert ds.rack_utilization_quality.sel(rack=RACK).values.tolist() == pytest.approx([0, 1])
    assert "missing" in kinds(ds)


def test_nvidia_smi_nounits_and_noheader(tmp_path):
    ok = write(tmp_path, "gpu-b.csv", "timestamp, index, power.draw, utilization.gpu\n"
                                      "2025/07/01 10:00:00, 0, 250.5, 50\n2025/07/01 11:00:00, 0, 260.5, 60\n")
    ds = telemetry.read(ok, freq="1h")
    assert ds.rack.values.tolist() == ["gpu-b"]                 # no mapping: the host is the rack
    assert ds.rack_gpu_power_kw.values.ravel().tolist() == pytest.approx([0.2505, 0.2605])
    assert ds.rack_utilization.values.ravel().tolist() == pytest.approx([0.5, 0.6])
    bad = write(tmp_path, "gpu-c.csv", "2025/07/01 10:00:00, 0, 250.5, 50\n")
    with pytest.raises(TelemetryError, match=r"gpu-c.csv:1: .*no header line"):
        telemetry.read(bad, format="nvidia-smi")


def test_dcgm_wide_and_long_with_field_ids(tmp_path):
    wide = write(tmp_path, "dcgm.csv", "timestamp,hostname,gpu,DCGM_FI_DEV_POWER_USAGE,DCGM_FI_DEV_GPU_UTIL\n"
                                       "2025-07-01T10:00:00Z,n1:9400,0,500,100\n2025-07-01T10:00:00Z,n1:9400,1,300,50\n"
                                       "2025-07-01T10:00:00Z,n2,0,100,0\n")
    ds = telemetry.read(wide, {"hosts": {"n1": "r1", "n2": "r2"}})
    assert ds.rack_gpu_power_kw.sel(rack=["r1", "r2"]).values.ravel().tolist() == pytest.approx([0.8, 0.1])
    assert ds.rack_utilization.sel(rack=["r1", "r2"]).values.ravel().tolist() == pytest.approx([0.75, 0.0])
    long = write(tmp_path, "dcgm-long.csv", "timestamp,hostname,gpu,field_id,value\n"
                                            "1751364000,n1,0,155,410.0\n1751364000,n1,0,203,80\n1751364000,n1,0,999,1\n")
    ds = telemetry.read(long, {"hosts": {"n1": "r1"}})
    assert ds.rack_gpu_power_kw.values.ravel().tolist() == pytest.approx([0.41])
    assert ds.rack_utilization.values.ravel().tolist() == pytest.approx([0.8])
    assert str(ds.time.values[0]) == "2025-07-01T10:00:00.000000000"     # epoch seconds are UTC


def test_prometheus_dcgm_exporter_and_promtool_dump(tmp_path):
    text = (
        "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).\n# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n"
        'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-x",Hostname="n1",modelName="NVIDIA B200"} 900.5 1751364000000\n'
        'DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="GPU-y",Hostname="n1",modelName="NVIDIA B200"} 899.5 1751364000000\n'
        '{__name__="rack_pdu_power_watts", rack="r1", job="pdu"} 14000 1751364000000\n'
        'facility_power_kilowatts{site="s"} 1234.5 1751364000000\n'
    )
    path = write(tmp_path, "scrape.prom", text)
    mapping = {"hosts": {"n1": "r1"}, "points": {"rack_pdu_power_watts": {"variable": "rack_power_kw", "node_label": "rack"},
                                                  "facility_power_kilowatts": "grid_power_kw"}}
    ds = telemetry.read(path, mapping)
    assert ds.rack_gpu_power_kw.sel(rack="r1").item() == pytest.approx(1.8)
    assert ds.rack_power_kw.sel(rack="r1").item() == pytest.approx(14.0)
    assert ds.grid_power_kw.item() == pytest.approx(1234.5)
    no_ts = write(tmp_path, "nots.prom", 'DCGM_FI_DEV_POWER_USAGE{gpu="0",Hostname="n1"} 900 1751364000000\n'
                                          'DCGM_FI_DEV_POWER_USAGE{gpu="1",Hostname="n1"} 900\n')
    with pytest.raises(TelemetryError, match=r"nots.prom:2: field 'timestamp': sample has no timestamp"):
        telemetry.read(no_ts)


def test_redfish_power_thermal_snapshots_and_metric_report(tmp_path):
    snaps = [
        {"Timestamp": f"2025-07-01T10:0{i}:00+00:00",
         "Power": {"@odata.id": "/redfish/v1/Chassis/R1/Power", "@odata.type": "#Power.v1_7_0.Power",
                   "PowerControl": [{"@odata.id": "/redfish/v1/Chassis/R1/Power#/PowerControl/0",
                                     "PowerConsumedWatts": str(12000 + 1000 * i)}]},
         "Thermal": {"@odata.id": "/redfish/v1/Chassis/R1/Thermal",
                     "Temperatures": [{"Name": "Inlet", "ReadingCelsius": 24 + i}]}}
        for i in range(2)
    ]
    path = write(tmp_path, "rf.jsonl", "\n".join(json.dumps(s) for s in snaps) + "\n")
    mapping = {"points": {"/redfish/v1/Chassis/R1/Power#/PowerControl/0/PowerConsumedWatts":
                          {"variable": "rack_power_kw", "node": "r1"}}}
    ds = telemetry.read(path, mapping, freq="1min")
    assert ds.rack_power_kw.sel(rack="r1").values.tolist() == pytest.approx([12.0, 13.0])
    assert "unmapped" in kinds(ds)                                          # the inlet temperature
    report = {"@odata.type": "#MetricReport.v1_5_0.MetricReport", "Timestamp": "2025-07-01T10:00:00Z",
              "MetricValues": [{"MetricId": "pdu", "MetricValue": "15.5", "Timestamp": "2025-07-01T10:00:00Z",
                                "MetricProperty": "/redfish/v1/Chassis/PDU1/Sensors/kw"},
                               {"MetricId": "pdu", "MetricValue": "16.5", "Timestamp": "2025-07-01T10:01:00Z",
                                "MetricProperty": "/redfish/v1/Chassis/PDU1/Sensors/kw"}]}
    path = write(tmp_path, "report.json", json.dumps(report, indent=2))
    mapping = {"points": {"/redfish/v1/Chassis/PDU1/Sensors/kw": {"variable": "rack_power_kw", "node": "r1", "unit": "kW"}}}
    assert telemetry.read(path, mapping).rack_power_kw.values.ravel().tolist() == pytest.approx([15.5, 16.5])
    stale = write(tmp_path, "nots.json", json.dumps({"@odata.id": "/redfish/v1/Chassis/R1/Power",
                                                      "PowerControl": [{"PowerConsumedWatts": 100}]}, indent=2))
    with pytest.raises(TelemetryError, match=r"nots.json:2: field '/redfish/v1/Chassis/R1/Power#/PowerControl/0/"
                                             r"PowerConsumedWatts': reading has no time"):
        telemetry.read(stale)


BMS_PREAMBLE = "Trend report,Site A\nGenerated,2025-11-03 06:00\n\n"


def test_bms_point_list_fahrenheit_thousands_status_and_the_autumn_dst_hour(tmp_path):
    rows = ["Point Name,Units,Date/Time,Present Value,Status"]
    # 00:30 EDT, 01:00 EDT, 01:30 EDT, then the clock falls back: 01:00 EST, 01:30 EST, 02:00 EST
    for t, kw, f in (("00:30", "1,000.0", 50.0), ("01:00", "1,010.0", 51.8), ("01:30", "1,020.0", 53.6),
                     ("01:00", "1,030.0", 55.4), ("01:30", "1,040.0", 57.2), ("02:00", "1,050.0", 59.0)):
        rows.append(f'MAIN.KW,kW,2025-11-02 {t}:00,"{kw}",{{ok}}')
        rows.append(f"OAT,°F,2025-11-02 {t}:00,{f},ok")
    rows.append('MAIN.KW,kW,2025-11-02 02:30:00,"9,999.0",{fault}')
    path = write(tmp_path, "bms.csv", BMS_PREAMBLE + "\n".join(rows) + "\n")
    mapping = {"timezone": "America/New_York", "points": {"MAIN.KW": "grid_power_kw", "OAT": "dry_bulb_c"}}
    ds = telemetry.read(path, mapping, freq="30min")
    # local standard time (EST): 00:30 EDT = 23:30 EST on Nov 1, then six half hours in a row
    assert str(ds.time.values[0])[:16] == "2025-11-01T23:30"
    assert ds.grid_power_kw.values[:6].tolist() == pytest.approx([1000.0, 1010.0, 1020.0, 1030.0, 1040.0, 1050.0])
    assert np.allclose(ds.dry_bulb_c.values[:6], [10, 11, 12, 13, 14, 15])
    assert ds.sizes["time"] == 6 and ds.grid_power_kw.max() < 2000     # the fault-flagged 9,999 kW is removed
    assert {"dst_repeated", "flagged"} <= kinds(ds)
    assert "standard time" in ds.attrs["time_basis"]


def test_bms_spring_gap_and_wide_layout_with_units_in_header(tmp_path):
    text = "Timestamp,MAIN.KW (kW),CHW.KW [kW],OAT\n" + "".join(
        f"2025-03-09 {h:02d}:00:00,{1000 + h},{100 + h},{h}\n" for h in (0, 1, 3, 4))
    path = write(tmp_path, "wide.csv", text)
    mapping = {"timezone": "America/Chicago",
               "points": {"MAIN.KW": "grid_power_kw", "CHW.KW": "cooling_power_kw",
                          "OAT": {"variable": "dry_bulb_c", "unit": "degC"}}}
    ds = telemetry.read(path, mapping, freq="1h")
    # 03:00 CDT is 02:00 CST: the standard-time series is hourly without a gap
    assert ds.grid_power_kw.values.tolist() == pytest.approx([1000.0, 1001.0, 1003.0, 1004.0])
    assert (ds.grid_power_kw_quality.values == 0).all()
    text2 = "Timestamp,MAIN.KW (kW)\n2025-03-09 01:00:00,1\n2025-03-09 02:30:00,2\n"
    ds = telemetry.read(write(tmp_path, "gap.csv", text2), mapping, freq="30min")
    assert "dst_nonexistent" in kinds(ds)


def test_duplicates_outliers_and_gaps(tmp_path):
    t0 = pd.Timestamp("2025-07-01 00:00")
    rows = ["point,unit,timestamp,value"]
    values = [100.0 + (i % 3) for i in range(40)]
    values[10] = 5000.0                              # a single spike
    values[25:40] = [300.0 + (i % 3) for i in range(15)]   # a real step up: kept
    for i, v in enumerate(values):
        if 15 <= i <= 16 or 30 <= i <= 35:           # a 2-step gap (filled) and a 6-step gap (open)
            continue
        rows.append(f"P,kW,{t0 + pd.Timedelta(minutes=i)},{v}")
    rows.append(f"P,kW,{t0 + pd.Timedelta(minutes=3)},{values[3]}")          # exact duplicate
    rows.append(f"P,kW,{t0 + pd.Timedelta(minutes=4)},{values[4] + 2}")      # conflicting duplicate
    path = write(tmp_path, "p.csv", "\n".join(rows) + "\n")
    ds = telemetry.read(path, {"points": {"P": "grid_power_kw"}}, freq="1min")
    v, q = ds.grid_power_kw.values, ds.grid_power_kw_quality.values
    assert v[3] == values[3] and v[4] == values[4] + 1
    assert q[10] == 1 and v[10] == pytest.approx((values[9] + values[11]) / 2)     # spike removed, refilled
    assert np.allclose(v[15:17], np.linspace(values[14], values[17], 4)[1:3]) and (q[15:17] == 1).all()
    assert np.isnan(v[30:36]).all() and (q[30:36] == 2).all()
    assert np.allclose(v[25:30], values[25:30]) and (q[25:30] == 0).all()
    assert {"duplicates", "conflicting_duplicates", "outliers", "gaps_filled", "gaps_open"} <= kinds(ds)


def test_clock_skew_is_aligned_and_declared_offsets_removed(tmp_path):
    for host, lag in (("n1", 0), ("n2", 0), ("n3", 7)):
        rows = ["timestamp,hostname,gpu,DCGM_FI_DEV_POWER_USAGE"]
        for i in range(6):
            rows.append(f"{pd.Timestamp('2025-07-01 10:00:00') + pd.Timedelta(seconds=60 * i + lag)},{host},0,{100 + i}")
        write(tmp_path, f"{host}.csv", "\n".join(rows) + "\n")
    ds = telemetry.read(tmp_path / "n*.csv", {"hosts": {"n1": "r1", "n2": "r2", "n3": "r3"}}, freq="10s")
    found = telemetry.report(ds)
    skew = found[found["kind"] == "clock_skew"]
    assert len(skew) == 1 and "n3" in skew["where"].iloc[0] and "+7 s" in skew["detail"].iloc[0]
    assert not np.isnan(ds.rack_gpu_power_kw.sel(rack="r3").values[0])          # aligned onto the :00 steps
    ds = telemetry.read(tmp_path / "n3.csv", {"hosts": {"n3": "r3"}, "clock_offsets_s": {"n3": 7}}, freq="10s")
    assert str(ds.time.values[0]) == "2025-07-01T10:00:00.000000000"


def test_zone_offsets_and_abbreviations_are_instants(tmp_path):
    text = ("Point,Unit,Timestamp,Value\nM,kW,2025-11-02 01:30:00 EDT,1\nM,kW,2025-11-02 01:30:00 EST,2\n"
            "M,kW,2025-11-02T07:30:00+01:00,3\n")
    ds = telemetry.read(write(tmp_path, "z.csv", text), {"timezone": "America/New_York", "points": {"M": "grid_power_kw"}},
                        freq="30min")
    # 01:30 EDT = 00:30 EST; 01:30 EST; 07:30+01:00 = 06:30 UTC = 01:30 EST (a conflicting duplicate, averaged)
    assert [str(t)[11:16] for t in ds.time.values] == ["00:30", "01:00", "01:30"]
    assert ds.grid_power_kw.values[0] == 1 and ds.grid_power_kw.values[2] == 2.5


def test_netcdf_round_trip_keeps_values_flags_and_report(tmp_path):
    path = write(tmp_path, "p.csv", "point,unit,timestamp,value\nP,W,2025-07-01 00:00,1000\nP,W,2025-07-01 01:00,2000\n")
    ds = telemetry.read(path, {"points": {"P": "grid_power_kw"}})
    out = telemetry.save(ds, tmp_path / "measured.nc")
    back = telemetry.load(out)
    assert back.grid_power_kw.values.tolist() == pytest.approx([1.0, 2.0])
    assert back.grid_power_kw.attrs["units"] == "kW"
    assert telemetry.report(back).equals(telemetry.report(ds))


def test_mapped_nodes_are_checked_against_the_facility(tmp_path, small):
    path = write(tmp_path, "p.csv", "point,unit,timestamp,value\nR9,kW,2025-07-01 00:00,100\nCDU,kW,2025-07-01 00:00,3\n")
    rack = small.table("rack").index[0]
    ds = telemetry.read(path, {"points": {"R9": {"variable": "rack_power_kw", "node": rack},
                                          "CDU": {"variable": "device_power_kw", "node": "cdu-1"}}}, facility=small)
    assert ds.rack_system.values.tolist() == ["gb200_nvl72"] and ds.device_kind.values.tolist() == ["cdu"]
    mapping = write(tmp_path, "map.yaml", "points:\n  R9:\n    variable: rack_power_kw\n    node: hall-a/row-01/rack-99\n")
    with pytest.raises(TelemetryError, match=r"map.yaml:3: field 'R9': 'hall-a/row-01/rack-99' is not a rack of "
                                             r"facility 'small'; did you mean"):
        telemetry.read(path, mapping, facility=small)


@pytest.mark.parametrize("text, mapping, match", [
    ("point,unit,timestamp,value\nP,kW,2025-07-01 00:00,12x\n", {"points": {"P": "grid_power_kw"}},
     r"bad.csv:2: field 'value': value '12x' is not a number"),
    ("point,unit,timestamp,value\nP,kW,not a time,1\n", {"points": {"P": "grid_power_kw"}},
     r"bad.csv:2: field 'timestamp': timestamp 'not a time' is not a date and time"),
    ("point,unit,timestamp,value\nP,kVA,2025-07-01 00:00,1\n", {"points": {"P": "grid_power_kw"}},
     r"bad.csv:2: field 'P': unit 'kVA' is apparent power"),
    ("point,unit,timestamp,value\nP,degF,2025-07-01 00:00,1\n", {"points": {"P": "grid_power_kw"}},
     r"bad.csv:2: field 'P': unit 'degF' measures temperature, not power"),
    ("point,unit,timestamp,value\nP,kW,2025-07-01 00:00,1\n", {"points": {"P": {"variable": "grid_power_kw", "unit": "W"}}},
     r"bad.csv:2: field 'P': the file says unit 'kW' but <mapping> declares 'W'"),
    ("point,timestamp,value\nP,2025-07-01 00:00,1\n", {"points": {"P": "grid_power_kw"}},
     r"bad.csv:2: field 'P': no unit for grid_power_kw"),
    ("point,unit,timestamp,value\nP,kW,2025-07-01 00:00,1\n", {"points": {"P": "grid_power"}},
     r"<mapping>: field 'points.P.variable': unknown variable 'grid_power'; did you mean 'grid_power_kw'"),
    ("point,unit,timestamp,value\nP,kW,2025-07-01 00:00,1\n", {"points": {"P": "rack_power_kw"}},
     r"field 'points.P': rack_power_kw is measured per rack; say which"),
    ("point,unit,timestamp,value\nP,kW,2025-07-01 00:00,1\nP,kW,2025-07-01 01:00,1,9\n", {"points": {"P": "grid_power_kw"}},
     r"bad.csv:3: malformed building-management export row"),
    ("just some text\n", None, r"bad.csv:1: format not recognized"),
])
def test_bad_files_name_file_line_and_field(tmp_path, text, mapping, match):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(TelemetryError, match=match):
        telemetry.read(path, mapping)


def test_mapping_file_errors_name_their_line(tmp_path):
    data = write(tmp_path, "p.csv", "point,unit,timestamp,value\nP,kW,2025-07-01 00:00,1\n")
    for body, match in (("timezone: Mars/Olympus\n", r"map.yaml:1: field 'timezone': unknown time zone"),
                        ("points:\n  P: grid_power_kw\nextra: 1\n", r"map.yaml:3: field 'extra': unknown section"),
                        ("patterns:\n  - {match: '(', variable: grid_power_kw}\n", r"map.yaml:2: .*invalid regular expression"),
                        ("points: [\n", r"map.yaml:2: invalid YAML")):
        with pytest.raises(TelemetryError, match=match):
            telemetry.read(data, write(tmp_path, "map.yaml", body))


def test_patterns_fill_node_ids_from_point_names(tmp_path, small):
    racks = list(small.table("rack").index)
    rows = ["point,unit,timestamp,value"] + [f"R{i + 1:02d}.KW,kW,2025-07-01 00:00,{10 * (i + 1)}" for i in range(len(racks))]
    mapping = {"patterns": [{"match": r"^R(?P<n>\d\d)\.KW$", "variable": "rack_power_kw", "node": "hall-a/row-01/rack-{n}"}]}
    ds = telemetry.read(write(tmp_path, "p.csv", "\n".join(rows) + "\n"), mapping, facility=small)
    assert ds.rack.values.tolist() == racks
    assert ds.rack_power_kw.values.ravel().tolist() == pytest.approx([10.0, 20.0, 30.0, 40.0])


def test_column_quantiles_equal_pandas():
    from twin.telemetry.tables import column_quantiles

    rng = np.random.default_rng(4)
    sizes = np.array([1, 7, 3, 40, 2])
    x = rng.normal(size=sizes.sum())
    x[rng.random(x.size) < 0.2] = np.nan
    x[:1] = np.nan                                         # a group with nothing: NaN
    group = np.repeat(np.arange(sizes.size), sizes)
    table = np.full((sizes.max(), sizes.size), np.nan)     # group j's values down column j, NaN padding below
    table[np.arange(x.size) - np.repeat(np.r_[0, np.cumsum(sizes)[:-1]], sizes), group] = x
    want = np.stack([pd.Series(x).groupby(group).quantile(q).reindex(range(sizes.size)).to_numpy()
                     for q in (0.5, 0.75, 1.0)], 1)
    assert np.allclose(column_quantiles(table, (0.5, 0.75, 1.0)), want, equal_nan=True)


def test_gpu_exports_in_local_time_across_the_spring_change_with_repeated_rows(tmp_path):
    """nvidia-smi writes local wall-clock times: 01:30 then 03:00 on 9 March in New York are 30 minutes apart
    (02:00 does not exist); a row written twice by a restarted logger is one sample."""
    text = ("timestamp, index, power.draw [W], utilization.gpu [%]\n"
            "2025/03/09 01:30:00.000, 0, 300.00 W, 30 %\n"
            "2025/03/09 03:00:00.000, 0, 400.00 W, 40 %\n"
            "2025/03/09 03:00:00.000, 0, 400.00 W, 40 %\n"
            "2025/03/09 03:30:00.000, 0, 500.00 W, 50 %\n")
    ds = telemetry.read(write(tmp_path, "n1.csv", text), {"timezone": "America/New_York", "hosts": {"n1": "r1"}},
                        freq="30min")
    assert [str(t)[11:16] for t in ds.time.values] == ["01:30", "02:00", "02:30"]      # EST throughout
    assert ds.rack_gpu_power_kw.values.ravel().tolist() == pytest.approx([0.3, 0.4, 0.5])
    assert (ds.rack_gpu_power_kw_quality.values == 0).all() and "duplicates" in kinds(ds)
    prom = write(tmp_path, "dup.prom", 'DCGM_FI_DEV_POWER_USAGE{gpu="0",Hostname="n1"} 300 1751364000000\n'
                                       'DCGM_FI_DEV_POWER_USAGE{gpu="0",Hostname="n1"} 310 1751364000000\n')
    ds = telemetry.read(prom, {"hosts": {"n1": "r1"}})
    assert ds.rack_gpu_power_kw.item() == pytest.approx(0.305) and "conflicting_duplicates" in kinds(ds)


@pytest.mark.parametrize("name, text, match", [
    ("n1.csv", "timestamp, index, power.draw [W]\n2025/07/01 10:00:00, 0, 300 W\n2025/07/01 10:01:00, 0, lots W\n",
     r"n1.csv:3: field 'power.draw': value 'lots W' is not a number"),
    ("d.csv", "timestamp,hostname,gpu,DCGM_FI_DEV_POWER_USAGE\n2025-07-01T10:00:00Z,n1,0,x1\n",
     r"d.csv:2: field 'DCGM_FI_DEV_POWER_USAGE': value 'x1' is not a number"),
    ("s.prom", 'DCGM_FI_DEV_POWER_USAGE{gpu="0",Hostname="n1"} 900 1751364000000\n'
               'DCGM_FI_DEV_POWER_USAGE{gpu="0",Hostname="n1"} high 1751364060000\n', r"s.prom:2: "),
    ("r.json", '{"Timestamp": "2025-07-01T10:00:00Z",\n "PowerControl": [{"PowerConsumedWatts": "lots"}]}\n',
     r"r.json:2: field '.*PowerConsumedWatts': value 'lots' is not a number"),
])
def test_each_reader_names_file_line_and_field_of_a_bad_value(tmp_path, name, text, match):
    with pytest.raises(TelemetryError, match=match):
        telemetry.read(write(tmp_path, name, text))
