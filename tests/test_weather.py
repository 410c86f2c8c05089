"""twin.weather: psychrometrics at hand-computed points, synthesized years against their normals, file readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from twin import weather
from twin.errors import BlueprintError, UnknownEntry
from twin.weather import psychro

DATA = Path(__file__).parent / "data" / "weather"
EPW = DATA / "one_day.epw"
CSV = DATA / "six_hours.csv"
SITES = weather.names()[:13]

# Values written in tests/data/weather/one_day.epw (EPW hours 1..24 of 7/15).
EPW_DRY_BULB = [24.0, 23.5, 23.0, 22.5, 22.0, 22.0, 23.0, 25.0, 27.5, 30.0, 32.0, 33.5,
                35.0, 36.0, 36.5, 36.5, 36.0, 34.5, 32.5, 30.5, 28.5, 27.0, 26.0, 25.0]  # fmt: skip
EPW_DEW_POINT = [12.0, 12.0, 11.5, 11.5, 11.0, 11.0, 11.5, 12.0, 12.5, 12.0, 11.0, 10.5,
                 10.0, 9.5, 9.0, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.0, 12.0]  # fmt: skip
EPW_RH = [47, 48, 48, 50, 50, 50, 48, 44, 39, 32, 27, 24, 21, 19, 18, 18, 19, 22, 26, 31, 36, 41, 44, 46]


# ---------------------------------------------------------------- psychrometrics


def test_magnus_at_hand_computed_points():
    # 6.1094 * exp(17.625 * 20 / 263.04) = 6.1094 * 3.8196 = 23.335 hPa; at 0 °C the prefactor itself.
    assert psychro.saturation_vapour_pressure_hpa(0.0) == pytest.approx(6.1094)
    assert psychro.saturation_vapour_pressure_hpa(20.0) == pytest.approx(23.335, abs=0.005)
    # RH(20 °C, Td 10 °C) = e_s(10)/e_s(20) = 12.261/23.335 = 52.54 %
    assert psychro.relative_humidity_pct(20.0, 10.0) == pytest.approx(52.54, abs=0.02)
    assert psychro.dew_point_from_rh_c(20.0, 52.54) == pytest.approx(10.0, abs=0.01)
    assert psychro.dew_point_from_vapour_pressure_c(6.1094) == pytest.approx(0.0, abs=1e-9)


def test_stull_at_the_papers_example():
    # Stull (2011): T = 20 °C, RH = 50 % gives Tw = 13.7 °C.
    assert psychro.wet_bulb_c(20.0, 50.0) == pytest.approx(13.7, abs=0.05)
    # saturated air: wet-bulb equals dry-bulb
    assert psychro.wet_bulb_c(25.0, 100.0) == pytest.approx(25.0, abs=1e-9)


def test_psychrometer_inverse_at_saturation_and_a_known_point():
    assert psychro.dew_point_from_wet_bulb_c(20.0, 20.0) == pytest.approx(20.0, abs=1e-6)
    # e = e_s(13.7) - 6.53e-4 (1 + 0.000944*13.7) 1013.25 (6.3) = 15.68 - 4.21 = 11.47 hPa -> Td 9.0 °C
    assert psychro.dew_point_from_wet_bulb_c(20.0, 13.7) == pytest.approx(9.0, abs=0.1)


def _psychrometer_wet_bulb(t: np.ndarray, rh: np.ndarray, p_hpa: float = 1013.25) -> np.ndarray:
    """Independent reference: solve the WMO psychrometer equation for Tw by bisection."""
    e = rh / 100.0 * psychro.saturation_vapour_pressure_hpa(t)
    lo, hi = np.full_like(t, -60.0), t.copy()
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        resid = psychro.saturation_vapour_pressure_hpa(mid) - 6.53e-4 * (1 + 0.000944 * mid) * p_hpa * (t - mid) - e
        lo, hi = np.where(resid < 0, mid, lo), np.where(resid < 0, hi, mid)
    return 0.5 * (lo + hi)


def test_stull_within_its_stated_error_inside_its_domain():
    t, rh = np.meshgrid(np.linspace(0.0, 45.0, 46), np.linspace(10.0, 99.0, 90))
    err = psychro.wet_bulb_c(t, rh) - _psychrometer_wet_bulb(t, rh)
    assert np.abs(err).max() < 1.0  # Stull reports -1 to +0.65 °C


@settings(max_examples=150, deadline=None)
@given(t=st.floats(-45.0, 55.0), rh=st.floats(0.5, 100.0))
def test_ordering_dew_point_le_wet_bulb_le_dry_bulb(t, rh):
    dew = float(psychro.dew_point_from_rh_c(t, rh))
    wb = float(psychro.wet_bulb_c(t, rh))
    assert dew <= wb + 1e-9
    assert wb <= t + 1e-9
    assert float(psychro.relative_humidity_pct(t, dew)) == pytest.approx(rh, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(t=st.floats(-30.0, 50.0), depression=st.floats(0.0, 25.0))
def test_dew_point_from_wet_bulb_is_ordered(t, depression):
    wb = t - depression
    dew = float(psychro.dew_point_from_wet_bulb_c(t, wb))
    assert dew <= wb + 1e-9


# ---------------------------------------------------------------- catalog


def test_names_are_the_13_sites_then_the_file_only_sites_then_4_aliases():
    names = weather.names()
    assert len(names) == 13 + 14 + 4 and len(set(names)) == len(names)
    assert {"phoenix", "ashburn", "lulea", "singapore", "dublin", "frankfurt"} <= set(names[:13])
    assert {"houston", "chicago", "seattle", "leesburg"} <= set(names[13:27])
    assert names[27:] == ["cold-dry", "temperate", "hot-dry", "hot-humid"]
    assert {a: weather.climate_info(a)["id"] for a in names[27:]} == {
        "cold-dry": "lulea",
        "temperate": "frankfurt",
        "hot-dry": "phoenix",
        "hot-humid": "singapore",
    }


def test_climate_info_carries_design_source_and_evidence():
    info = weather.climate_info("phoenix")
    assert info["koppen"] == "BWh"
    assert info["location"]["lat"] == pytest.approx(33.428)
    assert info["cooling_db_0_4_c"] == 43.6 and info["cooling_mcwb_0_4_c"] == 20.7
    assert info["design"]["edition"].startswith("2021")
    assert len(info["monthly"]["tmax_c"]) == 12
    assert "CLIMAT" in info["source"] and info["evidence"]
    assert info["evidence_tags"] == {"monthly": "official_statistics", "design": "standard"}
    info["monthly"]["tmax_c"][0] = 99.0  # a copy: the catalog is untouched
    assert weather.climate_info("phoenix")["monthly"]["tmax_c"][0] == 20.0


@pytest.mark.parametrize(
    "name, expected",
    [("phoenix", 43.6), ("lulea", 23.9), ("singapore", 33.2), ("dublin", 22.1), ("denver", 34.9), ("hot-dry", 43.6)],
)
def test_design_ambient_is_the_newest_0_4_percent_dry_bulb(name, expected):
    assert weather.design_ambient_c(name) == expected


def test_every_site_has_a_design_ambient_and_info():
    for name in weather.names():
        info = weather.climate_info(name)
        assert weather.design_ambient_c(name) == info["design_ambient_c"]
        assert info["source"] and info["evidence"]


def test_names_are_forgiving_but_unknown_names_suggest():
    assert weather.climate_info("Luleå")["id"] == "lulea"
    assert weather.climate_info("HOT_DRY")["id"] == "phoenix"
    assert weather.climate_info("phoenix_az_phx")["id"] == "phoenix"
    with pytest.raises(weather.UnknownClimate, match="did you mean 'phoenix'") as exc:
        weather.load("pheonix", hours=1)
    assert isinstance(exc.value, weather.WeatherError)
    assert isinstance(exc.value, UnknownEntry) and isinstance(exc.value, BlueprintError)


# ---------------------------------------------------------------- synthesis


def _monthly(ds: xr.Dataset) -> dict[str, np.ndarray]:
    t = ds["dry_bulb_c"].to_series()
    days = t.resample("D")
    e = pd.Series(psychro.saturation_vapour_pressure_hpa(ds["dew_point_c"].values), index=t.index)
    by_month = lambda s: s.groupby(s.index.month).mean().to_numpy()  # noqa: E731
    return {
        "tmax_c": by_month(days.max()),
        "tmin_c": by_month(days.min()),
        "tmean_c": by_month(t),
        "dewpoint_c": psychro.dew_point_from_vapour_pressure_c(by_month(e)),
    }


@pytest.mark.parametrize("name", SITES)
def test_synthesized_year_reproduces_normals_and_design(name):
    ds = weather.synthesize(name)
    info = weather.climate_info(name)
    got = _monthly(ds)
    for key in ("tmax_c", "tmin_c", "tmean_c", "dewpoint_c"):
        np.testing.assert_allclose(got[key], info["monthly"][key], atol=0.5, err_msg=f"{name} {key}")
    t = ds["dry_bulb_c"].values
    design = weather.design_ambient_c(name)
    assert np.quantile(t, 0.996) == pytest.approx(design, abs=0.3)  # hours above design: 0.4 %
    assert design < t.max() < design + 5.0
    assert np.all(ds["dew_point_c"].values <= ds["wet_bulb_c"].values + 1e-9)
    assert np.all(ds["wet_bulb_c"].values <= t + 1e-9)
    rh = ds["relative_humidity_pct"].values
    assert rh.min() > 0.0 and rh.max() <= 100.0 + 1e-9


def test_synthesis_is_deterministic_and_seeded():
    a = weather.synthesize("ashburn", seed=3)
    b = weather.synthesize("ashburn", seed=3)
    c = weather.synthesize("ashburn", seed=4)
    xr.testing.assert_identical(a, b)
    assert not np.array_equal(a["dry_bulb_c"].values, c["dry_bulb_c"].values)
    xr.testing.assert_identical(weather.load("ashburn", seed=3, synthesized=True), a)


def test_phoenix_is_hotter_than_lulea():
    phx, lul = weather.synthesize("phoenix"), weather.synthesize("lulea")
    assert float(phx["dry_bulb_c"].mean()) > float(lul["dry_bulb_c"].mean()) + 20.0
    assert float(phx["dry_bulb_c"].max()) > float(lul["dry_bulb_c"].max()) + 15.0
    assert weather.design_ambient_c("phoenix") > weather.design_ambient_c("cold-dry")


def test_dataset_layout_and_cf_attributes():
    ds = weather.load("singapore", hours=48)
    assert ds.sizes == {"time": 48} and list(ds.data_vars) == list(weather.VARIABLES)
    assert ds["time"].values[0] == np.datetime64("2025-01-01T00:00")
    assert ds["dry_bulb_c"].attrs["standard_name"] == "air_temperature"
    assert ds["wet_bulb_c"].attrs["standard_name"] == "wet_bulb_temperature"
    assert ds["dew_point_c"].attrs["units"] == "degC"
    assert ds["relative_humidity_pct"].attrs == {**ds["relative_humidity_pct"].attrs, "units": "%"}
    for key in ("site", "source", "evidence", "generator"):
        assert ds.attrs[key]
    assert ds.attrs["site"] == "singapore" and "Stull" in ds.attrs["generator"]


def test_one_minute_steps_interpolate_and_hit_the_hours():
    hourly = weather.load("dublin", hours=6)
    fine = weather.load("dublin", hours=6, freq="1min")
    assert fine.sizes["time"] == 60 * hourly.sizes["time"]
    on_hour = fine.sel(time=hourly["time"])
    for name in weather.VARIABLES:
        np.testing.assert_array_equal(on_hour[name].values, hourly[name].values)
    half = fine["dry_bulb_c"].values[30]
    assert half == pytest.approx(0.5 * (hourly["dry_bulb_c"].values[0] + hourly["dry_bulb_c"].values[1]))


def test_whole_hour_steps_average_the_hours():
    hourly = weather.load("dublin", hours=6)
    coarse = weather.load("dublin", hours=6, freq="3h")
    assert coarse.sizes["time"] == 2
    assert coarse["dry_bulb_c"].values[1] == pytest.approx(hourly["dry_bulb_c"].values[3:6].mean())


def test_long_runs_wrap_the_typical_year_and_start_aligns_by_calendar():
    two = weather.load("frankfurt", hours=2 * 8760)
    first, second = two["dry_bulb_c"].values[:8760], two["dry_bulb_c"].values[8760:]
    np.testing.assert_array_equal(first, second)
    july = weather.load("frankfurt", hours=24, start="2025-07-01")
    np.testing.assert_array_equal(july["dry_bulb_c"].values, two["dry_bulb_c"].sel(time="2025-07-01").values)
    leap = weather.load("frankfurt", hours=48, start="2024-02-28")
    np.testing.assert_array_equal(leap["dry_bulb_c"].values[:24], leap["dry_bulb_c"].values[24:])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"hours": 0}, "hours"),
        ({"hours": 2.5}, "hours"),
        ({"freq": "7min"}, "divide one hour"),
        ({"freq": "fortnightly"}, "freq"),
        ({"start": "not a date"}, "start"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_raise_weather_error(kwargs, match):
    with pytest.raises(weather.WeatherError, match=match):
        weather.load("phoenix", **{"hours": 24, **kwargs})


# ---------------------------------------------------------------- EPW


def test_epw_fixture_parses_to_the_values_written():
    ds = weather.load(EPW, hours=24, start="2025-07-15")
    np.testing.assert_array_equal(ds["dry_bulb_c"].values, EPW_DRY_BULB)
    np.testing.assert_array_equal(ds["dew_point_c"].values, EPW_DEW_POINT)
    np.testing.assert_array_equal(ds["relative_humidity_pct"].values, EPW_RH)
    assert ds["time"].values[0] == np.datetime64("2025-07-15T00:00")  # EPW hour 1 is labelled at 00:00
    assert ds.attrs["site"] == "Testville" and ds.attrs["latitude"] == 33.43
    assert np.all(ds["wet_bulb_c"].values <= ds["dry_bulb_c"].values)
    assert weather.design_ambient_c(EPW) == pytest.approx(np.quantile(EPW_DRY_BULB, 0.996))


def test_short_epw_record_repeats_and_rejects_uncovered_start():
    ds = weather.load(str(EPW), hours=48, start="2025-07-15")
    np.testing.assert_array_equal(ds["dry_bulb_c"].values, EPW_DRY_BULB * 2)
    later = weather.load(EPW, hours=2, start="2025-07-15 14:00")
    np.testing.assert_array_equal(later["dry_bulb_c"].values, EPW_DRY_BULB[14:16])
    with pytest.raises(weather.WeatherError, match="not covered by the record"):
        weather.load(EPW, hours=24)


def _epw_text(times: pd.DatetimeIndex, ds: xr.Dataset, period: str) -> str:
    header = EPW.read_text().splitlines()[:7] + [f"DATA PERIODS,1,1,Data,Wednesday,{period}"]
    rows = [
        f"{t.year},{t.month},{t.day},{t.hour + 1},0,flags,{db:.1f},{dp:.1f},{rh:.0f},97000"
        for t, db, dp, rh in zip(
            times, ds["dry_bulb_c"].values, ds["dew_point_c"].values, ds["relative_humidity_pct"].values
        )
    ]
    return "\n".join(header + rows) + "\n"


def test_full_year_epw_aligns_by_calendar_and_drops_feb_29(tmp_path):
    year = weather.synthesize("dallas")
    path = tmp_path / "year.epw"
    path.write_text(_epw_text(pd.DatetimeIndex(year["time"].values), year, "1/1,12/31"))
    back = weather.load(path, hours=24, start="2031-08-01")
    expected = np.round(year["dry_bulb_c"].sel(time="2025-08-01").values, 1)
    np.testing.assert_allclose(back["dry_bulb_c"].values, expected, atol=1e-9)
    # a leap-year file: 8784 rows; its Feb 29 rows (holding Mar 1 values here) are dropped
    leap_times = pd.date_range("2024-01-01", periods=8784, freq="h")
    doy = np.minimum(leap_times.day_of_year.to_numpy() - 1 - (leap_times > "2024-02-29 23:00"), 364)
    leap = year.isel(time=xr.DataArray(doy * 24 + leap_times.hour.to_numpy(), dims="time"))
    path.write_text(_epw_text(leap_times, leap, "1/1,12/31"))
    np.testing.assert_allclose(weather.load(path, hours=24, start="2031-08-01")["dry_bulb_c"].values, expected, atol=1e-9)


def test_epw_period_may_wrap_the_year_end(tmp_path):
    times = pd.date_range("2025-12-31", periods=48, freq="h")
    ds = weather.load("dublin", hours=48, start="2025-12-31")
    path = tmp_path / "newyear.epw"
    path.write_text(_epw_text(times, ds, "12/31,1/1"))
    back = weather.load(path, hours=48, start="2030-12-31")
    np.testing.assert_allclose(back["dry_bulb_c"].values, np.round(ds["dry_bulb_c"].values, 1), atol=1e-9)


def _edit_line(lines: list[str], line: int, field: int, value: str) -> None:
    fields = lines[line - 1].split(",")
    fields[field - 1] = value
    lines[line - 1] = ",".join(fields)


def _epw_dry_bulb_text(lines):
    _edit_line(lines, 12, 7, "hot")


def _epw_missing_row(lines):
    del lines[19]


def _epw_extra_row(lines):
    lines.append(lines[-1])


def _epw_short_row(lines):
    lines[14] = ",".join(lines[14].split(",")[:8])


def _epw_missing_code(lines):
    _edit_line(lines, 20, 8, "99.9")


def _epw_dew_above_dry_bulb(lines):
    _edit_line(lines, 10, 8, "30.0")


def _epw_bad_header(lines):
    lines[7] = "DATA,1,1,Data,Tuesday, 7/15, 7/15"


def _epw_two_records_per_hour(lines):
    _edit_line(lines, 8, 3, "2")


def _epw_out_of_range_rh(lines):
    _edit_line(lines, 25, 9, "150")


@pytest.mark.parametrize(
    "mutate, match",
    [
        (_epw_dry_bulb_text, r"line 12, field 7 \(dry bulb temperature\): 'hot' is not a number"),
        (_epw_missing_row, r"line 20, fields 2-4"),
        (_epw_extra_row, r"line 33: 25 hourly rows"),
        (_epw_short_row, r"line 15: 8 fields"),
        (_epw_missing_code, r"line 20, field 8 \(dew point temperature\): missing-value code 99.9"),
        (_epw_dew_above_dry_bulb, r"line 10, field 8 .* above the dry bulb"),
        (_epw_bad_header, r"line 8: expected the 'DATA PERIODS' header"),
        (_epw_two_records_per_hour, r"line 8: 2 records per hour"),
        (_epw_out_of_range_rh, r"line 25, field 9 \(relative humidity\): 150 is outside"),
    ],
)
def test_malformed_epw_names_file_line_and_field(tmp_path, mutate, match):
    lines = EPW.read_text().splitlines()
    mutate(lines)
    bad = tmp_path / "bad.epw"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(weather.WeatherError, match=match) as exc:
        weather.load(bad, hours=24, start="2025-07-15")
    assert str(bad) in str(exc.value)


def test_garbage_bytes_are_weather_errors(tmp_path):
    nul = tmp_path / "nul.epw"
    nul.write_bytes(EPW.read_bytes().replace(b"36.5", b"3\x006.5", 1))
    with pytest.raises(weather.WeatherError, match=r"line 23: binary data"):
        weather.load(nul, hours=24, start="2025-07-15")
    noise = tmp_path / "noise.epw"
    noise.write_bytes(bytes(range(1, 256)) * 8)
    with pytest.raises(weather.WeatherError, match="noise.epw"):
        weather.load(noise)
    latin = tmp_path / "latin.epw"
    latin.write_bytes(EPW.read_bytes().replace(b"24.0,12.0", b"\xe924.0,12.0", 1))
    with pytest.raises(weather.WeatherError, match=r"line 9, field 7"):
        weather.load(latin, hours=24, start="2025-07-15")


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(weather.WeatherError, match="file not found"):
        weather.load(tmp_path / "absent.epw")
    other = tmp_path / "weather.txt"
    other.write_text("x")
    with pytest.raises(weather.WeatherError, match="unsupported weather file type '.txt'"):
        weather.load(other)
    with pytest.raises(weather.WeatherError, match="must be a climate name"):
        weather.load(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------- CSV


def test_csv_fixture_parses_to_the_values_written():
    ds = weather.load(CSV, hours=6)
    np.testing.assert_array_equal(ds["dry_bulb_c"].values, [5.0, 4.5, 4.0, 3.5, 3.0, 2.5])
    np.testing.assert_array_equal(ds["relative_humidity_pct"].values, [80.0, 82.5, 85.0, 88.0, 90.0, 92.5])
    np.testing.assert_allclose(
        psychro.relative_humidity_pct(ds["dry_bulb_c"].values, ds["dew_point_c"].values), ds["relative_humidity_pct"]
    )
    assert "wind_speed_m_s" not in ds and ds.attrs["site"] == "six_hours"


def _write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_csv_with_wet_bulb_or_dew_point_keeps_them(tmp_path):
    rows = ["2025-06-01 12:00,30.0,20.0", "2025-06-01 13:00,31.0,20.5"]
    wb = weather.load(_write_csv(tmp_path / "wb.csv", "time,dry_bulb_c,wet_bulb_c", rows), hours=2, start="2025-06-01 12:00")
    np.testing.assert_array_equal(wb["wet_bulb_c"].values, [20.0, 20.5])
    assert np.all(wb["dew_point_c"].values < wb["wet_bulb_c"].values)
    dp = weather.load(_write_csv(tmp_path / "dp.csv", "time,dry_bulb_c,dew_point_c", rows), hours=2, start="2025-06-01 12:00")
    np.testing.assert_array_equal(dp["dew_point_c"].values, [20.0, 20.5])


@pytest.mark.parametrize(
    "header, rows, match",
    [
        ("time,dry_bulb_c", ["2025-01-01T00:00,5.0"], r"line 1: no humidity column"),
        ("time,temp,dew_point_c", ["2025-01-01T00:00,5.0,1.0"], r"line 1: no 'dry_bulb_c' column"),
        ("time,dry_bulb_c,dew_point_c", ["2025-01-01T00:00,5.0,1.0", "2025-01-01T01:00,warm,1.0"], r"line 3, field 'dry_bulb_c': 'warm' is not a number"),
        ("time,dry_bulb_c,dew_point_c", ["2025-01-01T00:00,5.0,1.0", "2025-01-01T01:00,,1.0"], r"line 3, field 'dry_bulb_c': an empty value"),
        ("time,dry_bulb_c,dew_point_c", ["2025-01-01T00:00,5.0,1.0", "2025-01-01T03:00,5.0,1.0"], r"line 3, field 'time': .* consecutive hours"),
        ("time,dry_bulb_c,dew_point_c", ["2025-01-01T00:00,5.0,1.0", "yesterday,5.0,1.0"], r"line 3, field 'time': 'yesterday'"),
        ("time,dry_bulb_c,dew_point_c", ["2025-01-01T00:00,5.0,9.0"], r"line 2, field 'dew_point_c': 9 °C is above the dry bulb"),
        ("time,dry_bulb_c,relative_humidity_pct", ["2025-01-01T00:00,5.0,0"], r"line 2, field 'relative_humidity_pct': must be above 0"),
        ("time,dry_bulb_c,dew_point_c", ["2025-01-01T00:00,5.0"], r"line 2: 2 fields"),
        ("time,dry_bulb_c,dry_bulb_c,dew_point_c", ["2025-01-01T00:00,5.0,5.0,1.0"], r"line 1: column\(s\) dry_bulb_c appear"),
    ],
)
def test_malformed_csv_names_line_and_field(tmp_path, header, rows, match):
    path = _write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(weather.WeatherError, match=match):
        weather.load(path, hours=1)


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-30.0, 45.0), st.floats(1.0, 100.0)).map(lambda p: (round(p[0], 2), round(p[1], 2))),
        min_size=1,
        max_size=30,
    )
)
def test_csv_round_trips_any_values(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("csv") / "w.csv"
    times = pd.date_range("2025-03-01", periods=len(rows), freq="h")
    body = [f"{t.isoformat()},{db},{rh}" for t, (db, rh) in zip(times, rows)]
    ds = weather.load(_write_csv(path, "time,dry_bulb_c,relative_humidity_pct", body), hours=len(rows), start="2025-03-01")
    np.testing.assert_array_equal(ds["dry_bulb_c"].values, [r[0] for r in rows])
    np.testing.assert_array_equal(ds["relative_humidity_pct"].values, [r[1] for r in rows])
    assert np.all(ds["dew_point_c"].values <= ds["wet_bulb_c"].values + 1e-9)


# ---------------------------------------------------------------- Dataset pass-through


def test_dataset_is_checked_completed_and_passed_through():
    time = pd.date_range("2030-05-01", periods=3, freq="30min")
    given_ds = xr.Dataset({"dry_bulb_c": ("time", [20.0, 21.0, 22.0]), "relative_humidity_pct": ("time", [50.0, 50.0, 50.0])}, coords={"time": time})
    out = weather.load(given_ds)
    assert list(out["time"].values) == list(time.values)
    assert out["wet_bulb_c"].values[0] == pytest.approx(13.7, abs=0.05)
    assert "wet_bulb_c" not in given_ds  # the caller's object is not modified
    assert out.attrs["source"] and out["dry_bulb_c"].attrs["units"] == "degC"


def test_bad_datasets_raise_weather_error():
    time = pd.date_range("2030-05-01", periods=2, freq="h")
    with pytest.raises(weather.WeatherError, match="no 'dry_bulb_c'"):
        weather.load(xr.Dataset({"t": ("time", [1.0, 2.0])}, coords={"time": time}))
    with pytest.raises(weather.WeatherError, match=r"'dry_bulb_c' at time .* is nan"):
        weather.load(xr.Dataset({"dry_bulb_c": ("time", [1.0, np.nan]), "dew_point_c": ("time", [0.0, 0.0])}, coords={"time": time}))
    with pytest.raises(weather.WeatherError, match="no humidity"):
        weather.load(xr.Dataset({"dry_bulb_c": ("time", [1.0, 2.0])}, coords={"time": time}))
    with pytest.raises(weather.WeatherError, match="'dew_point_c' at time .* is above 'dry_bulb_c'"):
        weather.load(xr.Dataset({"dry_bulb_c": ("time", [1.0, 2.0]), "dew_point_c": ("time", [0.0, 9.0])}, coords={"time": time}))
    with pytest.raises(weather.WeatherError, match="no 'time' dimension"):
        weather.load(xr.Dataset({"dry_bulb_c": ("hour", [1.0, 2.0])}))


# ---------------------------------------------------------------- packaged typical-year files


def test_a_climate_with_a_packaged_file_loads_it_by_default_and_says_so():
    ds = weather.load("phoenix")
    assert ds.attrs["weather_kind"] == "typical-year file (TMY3)"
    assert ds.attrs["weather_file"].startswith("USA_AZ_Phoenix") and "BSD" in ds.attrs["licence"]
    assert ds.sizes["time"] == 8760
    # a real year, not the smooth synthesis: the file's hottest hour is its own (44.4 °C in the TMY3)
    assert float(ds["dry_bulb_c"].max()) == pytest.approx(44.4)
    synth = weather.load("phoenix", synthesized=True)
    assert synth.attrs["weather_kind"] == "synthesized from monthly normals"
    assert weather.load("lulea").attrs["weather_kind"] == "synthesized from monthly normals"


@pytest.mark.slow
def test_every_packaged_file_reads_complete_with_physical_wet_bulbs():
    from twin.weather import catalog

    for sid in catalog.epw_files():
        ds = weather.load(sid)
        db, wb, dp = (ds[k].values for k in ("dry_bulb_c", "wet_bulb_c", "dew_point_c"))
        assert ds.sizes["time"] == 8760 and np.all(dp <= wb + 1e-6) and np.all(wb <= db + 1e-6), sid
        info = weather.climate_info(sid)
        assert info["weather_kind"].startswith("typical-year file") and info["design_ambient_c"] > 20, sid


def test_epw_wet_bulb_accounts_for_station_pressure():
    """At Golden (~820 hPa) the psychrometric wet bulb is below the sea-level fit's for the same air."""
    psychrolib = pytest.importorskip("psychrolib")
    psychrolib.SetUnitSystem(psychrolib.SI)
    from twin.weather import psychro

    for db, dp, p in [(35.0, 10.0, 1013.25), (30.0, 12.0, 820.0), (43.0, 5.0, 970.0)]:
        ours = float(psychro.wet_bulb_from_dew_point_c(db, dp, p))
        assert ours == pytest.approx(psychrolib.GetTWetBulbFromTDewPoint(db, dp, p * 100.0), abs=0.05)
    golden = weather.load("golden")
    warm = golden["dry_bulb_c"].values > 25.0
    stull = psychro.wet_bulb_c(golden["dry_bulb_c"].values, golden["relative_humidity_pct"].values)
    assert float(np.mean((golden["wet_bulb_c"].values - stull)[warm])) < -0.3
    assert "station pressure" in golden["wet_bulb_c"].attrs["long_name"]


def test_file_only_site_cannot_be_synthesized():
    with pytest.raises(weather.WeatherError, match="no monthly normals"):
        weather.load("houston", synthesized=True)
    assert weather.design_ambient_c("houston") == pytest.approx(36.0)  # its EPW header's ASHRAE 0.4 % value
