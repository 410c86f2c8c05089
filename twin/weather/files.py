"""Readers for EnergyPlus .epw and simple hourly .csv weather files, and checks for a caller's Dataset.

Every problem raises WeatherError naming the file, the 1-based line and the field, never a numpy or
pandas traceback. Feb 29 rows are dropped when that leaves a full 365-day year, so leap-year files
align with the typical-year calendar.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from twin.weather import psychro
from twin.weather.base import (
    DAYS_IN_MONTH,
    HUMIDITY_VARIABLES,
    MONTH_START_DAY,
    PLAUSIBLE_C,
    VAR_ATTRS,
    VARIABLES,
    YEAR_HOURS,
    Record,
    WeatherError,
    complete_humidity,
    noleap_hour_of_year,
)

if TYPE_CHECKING:
    import xarray as xr

EPW_HEADERS = (
    "LOCATION",
    "DESIGN CONDITIONS",
    "TYPICAL/EXTREME PERIODS",
    "GROUND TEMPERATURES",
    "HOLIDAYS/DAYLIGHT SAVINGS",
    "COMMENTS 1",
    "COMMENTS 2",
    "DATA PERIODS",
)
# 1-based EPW field number -> (name, missing-value code, valid range); EnergyPlus Auxiliary Programs, "Data Field Descriptions"
EPW_FIELDS = {
    1: ("year", None, None),
    2: ("month", None, (1, 12)),
    3: ("day", None, (1, 31)),
    4: ("hour", None, (1, 24)),
    7: ("dry bulb temperature", 99.9, (-70.0, 70.0)),
    8: ("dew point temperature", 99.9, (-70.0, 70.0)),
    9: ("relative humidity", 999.0, (0.0, 110.0)),
    10: ("atmospheric station pressure", 999999.0, (31000.0, 120000.0)),
}
DEW_ABOVE_DRY_BULB_TOLERANCE_C = 1.0
CSV_RANGES = {
    "dry_bulb_c": PLAUSIBLE_C,
    "wet_bulb_c": PLAUSIBLE_C,
    "dew_point_c": PLAUSIBLE_C,
    "relative_humidity_pct": (0.0, 100.5),
}


def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz":
            import gzip

            data = gzip.decompress(data)
    except FileNotFoundError:
        raise WeatherError(f"{path}: file not found") from None
    except (OSError, EOFError) as exc:
        raise WeatherError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise WeatherError(f"{path}, line {line}: binary data (NUL byte); expected a text weather file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # EPW headers from older tools are often Latin-1
    return text.splitlines()


def _as_float(rows: Sequence[Sequence[str]], col: int, lines: Sequence[int], where: str, field: str) -> np.ndarray:
    """Column `col` of `rows` as floats; on failure name the first offending line and field."""
    raw = [r[col].strip() for r in rows]
    try:
        out = np.array(raw, dtype=float)
    except ValueError:
        out = None
    if out is not None and np.all(np.isfinite(out)):
        return out
    for text, line in zip(raw, lines):
        try:
            value = float(text)
        except ValueError:
            shown = repr(text[:30]) if text else "an empty value"
            raise WeatherError(f"{where}, line {line}, field {field}: {shown} is not a number") from None
        if not np.isfinite(value):
            raise WeatherError(f"{where}, line {line}, field {field}: {text!r} is not a finite number")
    raise AssertionError("unreachable")  # pragma: no cover


def _check_range(values: np.ndarray, lo: float, hi: float, lines: Sequence[int], where: str, field: str) -> None:
    bad = np.flatnonzero((values < lo) | (values > hi))
    if bad.size:
        i = int(bad[0])
        raise WeatherError(f"{where}, line {lines[i]}, field {field}: {values[i]:g} is outside [{lo:g}, {hi:g}]")


def _check_dew(dry: np.ndarray, other: np.ndarray, lines: Sequence[int], where: str, field: str) -> None:
    bad = np.flatnonzero(other > dry + DEW_ABOVE_DRY_BULB_TOLERANCE_C)
    if bad.size:
        i = int(bad[0])
        raise WeatherError(
            f"{where}, line {lines[i]}, field {field}: {other[i]:g} °C is above the dry bulb {dry[i]:g} °C,"
            " which air cannot hold"
        )


def _drop_feb29_if_full_year(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Row mask keeping everything, or dropping Feb 29 when the rest is a 365-day year."""
    leap = (month == 2) & (day == 29)
    keep = ~leap
    if leap.any() and keep.sum() == YEAR_HOURS:
        return keep
    return np.ones(month.size, dtype=bool)


def _month_day(text: str, where: str, line: int, field: str) -> tuple[int, int]:
    m = re.match(r"\s*(\d{1,2})\s*/\s*(\d{1,2})", text)
    if not m:
        raise WeatherError(f"{where}, line {line}, field {field}: {text.strip()!r} is not a month/day date")
    month, day = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= DAYS_IN_MONTH[month - 1]:
        raise WeatherError(f"{where}, line {line}, field {field}: {text.strip()!r} is not a date in a 365-day year")
    return month, day


def read_epw(path: str | Path) -> Record:
    """Parse an EnergyPlus weather file: 8 header lines, then one row per hour of the DATA PERIODS range."""
    path = Path(path)
    where = str(path)
    lines = _read_lines(path)
    if len(lines) < 9:
        raise WeatherError(f"{where}: {len(lines)} lines; an EPW file has 8 header lines followed by hourly rows")
    for i, key in enumerate(EPW_HEADERS):
        if not lines[i].lstrip().upper().startswith(key):
            raise WeatherError(f"{where}, line {i + 1}: expected the {key!r} header line, found {lines[i][:40]!r}")
    loc = [f.strip() for f in lines[0].split(",")]
    if len(loc) < 10:
        raise WeatherError(f"{where}, line 1: LOCATION needs 10 fields (city .. elevation), found {len(loc)}")
    lat, lon, tz, elev = (
        float(_as_float([loc], i, [1], where, name)[0])
        for i, name in ((6, "latitude"), (7, "longitude"), (8, "time zone"), (9, "elevation"))
    )
    periods = [f.strip() for f in lines[7].split(",")]
    if len(periods) < 7:
        raise WeatherError(f"{where}, line 8: DATA PERIODS needs 7 fields, found {len(periods)}")
    n_periods = _as_float([periods], 1, [8], where, "number of data periods")[0]
    per_hour = _as_float([periods], 2, [8], where, "records per hour")[0]
    if n_periods != 1:
        raise WeatherError(f"{where}, line 8: {n_periods:g} data periods; only files with one period are supported")
    if per_hour != 1:
        raise WeatherError(f"{where}, line 8: {per_hour:g} records per hour; only hourly EPW files are supported")
    m0, d0 = _month_day(periods[5], where, 8, "start date")
    m1, d1 = _month_day(periods[6], where, 8, "end date")
    first_day = MONTH_START_DAY[m0 - 1] + d0 - 1
    n_days = (MONTH_START_DAY[m1 - 1] + d1 - 1 - first_day) % 365 + 1
    expected = (first_day * 24 + np.arange(n_days * 24)) % YEAR_HOURS

    body = lines[8:]
    while body and not body[-1].strip():
        body.pop()
    line_no = list(range(9, 9 + len(body)))
    rows = []
    for line, text in zip(line_no, body):
        fields = text.split(",")
        if len(fields) < 10:
            raise WeatherError(
                f"{where}, line {line}: {len(fields)} fields; a data row needs at least 10"
                " (year, month, day, hour, minute, flags, dry bulb, dew point, relative humidity, pressure)"
            )
        rows.append(fields)
    cols = {}
    for number, (name, missing, valid) in EPW_FIELDS.items():
        label = f"{number} ({name})"
        values = _as_float(rows, number - 1, line_no, where, label)
        if missing is not None:
            gone = np.flatnonzero(values == missing)
            if gone.size:
                raise WeatherError(f"{where}, line {line_no[gone[0]]}, field {label}: missing-value code {values[gone[0]]:g}; "
                                   "fill the gap (EnergyPlus's weather converter interpolates) or use another file")
        if valid is not None:
            _check_range(values, valid[0], valid[1], line_no, where, label)
        cols[name] = values
    month, day, hour = (cols[k].astype(int) for k in ("month", "day", "hour"))
    hour = hour - 1  # EPW hour h covers (h-1):00-h:00; it is labelled at its start
    bad_day = np.flatnonzero(day > np.where(month == 2, 29, DAYS_IN_MONTH[month - 1]))
    if bad_day.size:
        i = int(bad_day[0])
        raise WeatherError(f"{where}, line {line_no[i]}, field 3 (day): {month[i]}/{day[i]} is not a date")
    keep = ~((month == 2) & (day == 29))
    idx = np.flatnonzero(keep)
    got = noleap_hour_of_year(month[idx], day[idx], hour[idx])
    n = min(got.size, expected.size)
    wrong = np.flatnonzero(got[:n] != expected[:n])
    if wrong.size:
        k = int(wrong[0])
        e_day = int(expected[k] // 24)
        e_month = int(np.searchsorted(MONTH_START_DAY, e_day, side="right"))
        e_dom = e_day - MONTH_START_DAY[e_month - 1] + 1
        raise WeatherError(
            f"{where}, line {line_no[idx[k]]}, fields 2-4 (month, day, hour): expected"
            f" {e_month}/{e_dom} hour {expected[k] % 24 + 1}, found {month[idx[k]]}/{day[idx[k]]} hour {hour[idx[k]] + 1}"
            " (rows must be consecutive hours of the DATA PERIODS range on line 8)"
        )
    if got.size != expected.size:
        line = line_no[idx[n]] if got.size > n else (line_no[-1] if line_no else 8)
        raise WeatherError(
            f"{where}, line {line}: {got.size} hourly rows, but DATA PERIODS on line 8"
            f" ({m0}/{d0} to {m1}/{d1}) needs {expected.size}"
        )
    sel = [line_no[i] for i in idx]
    dry = cols["dry bulb temperature"][idx]
    dew = cols["dew point temperature"][idx]
    rh = cols["relative humidity"][idx]
    _check_dew(dry, dew, sel, where, "8 (dew point temperature)")
    pressure_hpa = cols["atmospheric station pressure"][idx] / 100.0
    values = complete_humidity(dry, {"dew_point_c": dew, "relative_humidity_pct": rh}, where)
    values["wet_bulb_c"] = psychro.wet_bulb_from_dew_point_c(dry, values["dew_point_c"], pressure_hpa)
    attrs = {
        "site": loc[1] or path.stem,
        "source": f"EnergyPlus weather file {path.name} (LOCATION: {', '.join(loc[1:6])})",
        "evidence": "as written in the file (dry bulb, dew point, relative humidity, station pressure); "
                    "wet-bulb computed psychrometrically at the station pressure",
        "wet_bulb_method": "psychrometric (ASHRAE Fundamentals ch. 1) at the file's station pressure",
        **_design_conditions(lines[1]),
        "generator": "twin.weather EPW reader; EPW hour h is labelled at (h-1):00",
        "latitude": lat,
        "longitude": lon,
        "time_zone_hours": tz,
        "elevation_m": elev,
    }
    return Record(values, month[idx], day[idx], hour[idx], attrs)


def _design_conditions(line: str) -> dict[str, float]:
    """ASHRAE cooling design conditions from an EPW DESIGN CONDITIONS line (0.4 % dry bulb and its mean
    coincident wet bulb follow the `Cooling` keyword after the hottest month and the daily range), if given."""
    fields = [f.strip() for f in line.split(",")]
    try:
        k = [f.lower() for f in fields].index("cooling")
        return {"design_db_0_4_c": float(fields[k + 3]), "design_mcwb_0_4_c": float(fields[k + 4]),
                "design_conditions": fields[2] if len(fields) > 2 else ""}
    except (ValueError, IndexError):
        return {}


def read_csv(path: str | Path) -> Record:
    """Parse an hourly CSV with columns time, dry_bulb_c and one or more of dew_point_c, relative_humidity_pct, wet_bulb_c."""
    import pandas as pd

    path = Path(path)
    where = str(path)
    lines = _read_lines(path)
    numbered = [(i + 1, t) for i, t in enumerate(lines) if t.strip() and not t.lstrip().startswith("#")]
    if not numbered:
        raise WeatherError(f"{where}: no header line; expected columns time, dry_bulb_c and a humidity column")
    parsed = list(csv.reader([t for _, t in numbered]))
    header_line = numbered[0][0]
    header = [h.strip().lower() for h in parsed[0]]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise WeatherError(f"{where}, line {header_line}: column(s) {', '.join(dupes)} appear more than once")
    for need in ("time", "dry_bulb_c"):
        if need not in header:
            raise WeatherError(f"{where}, line {header_line}: no {need!r} column (header: {', '.join(header)})")
    humid = [h for h in HUMIDITY_VARIABLES if h in header]
    if not humid:
        raise WeatherError(
            f"{where}, line {header_line}: no humidity column; add one of {', '.join(HUMIDITY_VARIABLES)}"
        )
    rows, line_no = parsed[1:], [n for n, _ in numbered[1:]]
    if not rows:
        raise WeatherError(f"{where}: header only, no data rows")
    width = max(header.index(c) for c in ["time", "dry_bulb_c", *humid]) + 1
    for line, r in zip(line_no, rows):
        if len(r) < width:
            raise WeatherError(f"{where}, line {line}: {len(r)} fields, the header has {len(header)}")
    values: dict[str, np.ndarray] = {}
    for name in ["dry_bulb_c", *humid]:
        col = header.index(name)
        values[name] = _as_float(rows, col, line_no, where, repr(name))
        _check_range(values[name], *CSV_RANGES[name], line_no, where, repr(name))
    for name in ("dew_point_c", "wet_bulb_c"):
        if name in values:
            _check_dew(values["dry_bulb_c"], values[name], line_no, where, repr(name))
    if "relative_humidity_pct" in values:
        zero = np.flatnonzero(values["relative_humidity_pct"] <= 0.0)
        if zero.size:
            raise WeatherError(f"{where}, line {line_no[zero[0]]}, field 'relative_humidity_pct': must be above 0 %")

    t_col = header.index("time")
    texts = [r[t_col].strip() for r in rows]
    times = _parse_times(texts, line_no, where, pd)
    step = np.diff(times.asi8)
    bad = np.flatnonzero(step != 3_600_000_000_000)
    if bad.size:
        i = int(bad[0]) + 1
        raise WeatherError(
            f"{where}, line {line_no[i]}, field 'time': {texts[i]!r} follows {texts[i - 1]!r};"
            " rows must be consecutive hours"
        )
    month, day, hour = times.month.to_numpy(), times.day.to_numpy(), times.hour.to_numpy()
    keep = _drop_feb29_if_full_year(month, day)
    given = {k: v[keep] for k, v in values.items() if k != "dry_bulb_c"}
    full = complete_humidity(values["dry_bulb_c"][keep], given, where)
    attrs = {
        "site": path.stem,
        "source": f"CSV file {path.name} ({', '.join(['time', 'dry_bulb_c', *humid])})",
        "evidence": f"as written in the file ({', '.join(['dry_bulb_c', *humid])}); other humidity variables computed",
        "generator": "twin.weather CSV reader",
        "record_start": str(times[0]),
    }
    return Record(full, month[keep], day[keep], hour[keep], attrs)


def _parse_times(texts: list[str], line_no: list[int], where: str, pd: Any) -> Any:
    try:
        times = pd.DatetimeIndex(pd.to_datetime(texts, format="ISO8601"))
    except (ValueError, TypeError, OverflowError):
        for text, line in zip(texts, line_no):
            try:
                pd.Timestamp(text)
            except (ValueError, TypeError, OverflowError):
                raise WeatherError(
                    f"{where}, line {line}, field 'time': {text[:40]!r} is not an ISO date-time like 2025-01-01T00:00"
                ) from None
        raise WeatherError(f"{where}, field 'time': mixed or inconsistent date-time formats") from None
    if times.tz is not None:
        times = times.tz_localize(None)
    times = times.as_unit("ns")
    nat = np.flatnonzero(times.isna())
    if nat.size:
        raise WeatherError(f"{where}, line {line_no[nat[0]]}, field 'time': empty date-time")
    return times


def check_dataset(ds: xr.Dataset) -> xr.Dataset:
    """A checked copy of a caller's Dataset with every weather variable present and CF attributes added."""
    where = "xarray.Dataset"
    if "time" not in ds.dims:
        raise WeatherError(f"{where}: no 'time' dimension (dims: {', '.join(map(str, ds.dims)) or 'none'})")
    if "dry_bulb_c" not in ds.data_vars:
        raise WeatherError(f"{where}: no 'dry_bulb_c' variable (variables: {', '.join(map(str, ds.data_vars))})")
    time = ds["time"].values
    if not np.issubdtype(time.dtype, np.datetime64):
        raise WeatherError(f"{where}: coordinate 'time' has dtype {time.dtype}, expected datetime64")
    back = np.flatnonzero(np.diff(time.astype("datetime64[ns]").astype(np.int64)) <= 0)
    if back.size:
        raise WeatherError(f"{where}: 'time' is not strictly increasing at index {back[0] + 1} ({time[back[0] + 1]})")
    present = {}
    for name in VARIABLES:
        if name not in ds.data_vars:
            continue
        da = ds[name]
        if da.dims != ("time",):
            raise WeatherError(f"{where}: variable {name!r} has dims {da.dims}, expected ('time',)")
        if not np.issubdtype(da.dtype, np.number):
            raise WeatherError(f"{where}: variable {name!r} has dtype {da.dtype}, expected numbers")
        values = da.values.astype(float)
        lo, hi = CSV_RANGES[name]
        bad = np.flatnonzero(~np.isfinite(values) | (values < lo) | (values > hi))
        if bad.size:
            i = int(bad[0])
            raise WeatherError(
                f"{where}: variable {name!r} at time {time[i]} (index {i}) is {values[i]:g}, outside [{lo:g}, {hi:g}]"
            )
        present[name] = values
    given = {k: v for k, v in present.items() if k != "dry_bulb_c"}
    for name in ("dew_point_c", "wet_bulb_c"):
        if name in given:
            above = np.flatnonzero(given[name] > present["dry_bulb_c"] + DEW_ABOVE_DRY_BULB_TOLERANCE_C)
            if above.size:
                i = int(above[0])
                raise WeatherError(f"{where}: {name!r} at time {time[i]} (index {i}) is above 'dry_bulb_c'")
    if "relative_humidity_pct" in given and np.any(given["relative_humidity_pct"] <= 0):
        raise WeatherError(f"{where}: 'relative_humidity_pct' must be above 0 %")
    full = complete_humidity(present["dry_bulb_c"], given, where)
    out = ds.copy()
    for name in VARIABLES:
        attrs = dict(ds[name].attrs) if name in ds.data_vars else {}
        attrs.update(VAR_ATTRS[name])
        out[name] = ("time", full[name], attrs)
    out.attrs = dict(ds.attrs)
    out.attrs.setdefault("site", "unknown")
    out.attrs.setdefault("source", "xarray.Dataset passed by the caller")
    out.attrs.setdefault("evidence", "as given by the caller; missing humidity variables computed")
    out.attrs.setdefault("generator", "passed through twin.weather.load after checks")
    return out
