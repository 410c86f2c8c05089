"""Shared pieces of twin.weather: its errors, the hourly `Record`, and turning a record into a Dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from twin import limits
from twin.errors import BlueprintError, UnknownEntry
from twin.weather import psychro

if TYPE_CHECKING:
    import xarray as xr

HOUR_NS = 3_600_000_000_000
YEAR_HOURS = 8760
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
MONTH_START_DAY = np.concatenate([[0], np.cumsum(DAYS_IN_MONTH)[:-1]])
VARIABLES = ("dry_bulb_c", "wet_bulb_c", "dew_point_c", "relative_humidity_pct")
HUMIDITY_VARIABLES = ("dew_point_c", "relative_humidity_pct", "wet_bulb_c")
PLAUSIBLE_C = (-90.0, 70.0)

VAR_ATTRS: dict[str, dict[str, str]] = {
    "dry_bulb_c": {"units": "degC", "long_name": "dry-bulb air temperature", "standard_name": "air_temperature"},
    "wet_bulb_c": {
        "units": "degC",
        "long_name": "wet-bulb temperature (Stull 2011 from dry-bulb and RH, clipped to [dew point, dry-bulb])",
        "standard_name": "wet_bulb_temperature",
    },
    "dew_point_c": {
        "units": "degC",
        "long_name": "dew-point temperature (over water)",
        "standard_name": "dew_point_temperature",
    },
    "relative_humidity_pct": {
        "units": "%",
        "long_name": "relative humidity over water (Magnus, Alduchov & Eskridge 1996)",
        "standard_name": "relative_humidity",
    },
}


class WeatherError(BlueprintError):
    """A weather source (file, climate name, Dataset or argument) is unusable; the message says where."""


class UnknownClimate(WeatherError, UnknownEntry):
    """A climate name that is neither a packaged site nor an alias."""


@dataclass
class Record:
    """Hourly weather rows: four aligned variables, each row's calendar key, and provenance attrs."""

    values: dict[str, np.ndarray]
    month: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.month.size)

    @property
    def typical_year(self) -> bool:
        """True when the rows are exactly Jan 1 00:00 .. Dec 31 23:00 of a 365-day year, hour by hour."""
        if self.n != YEAR_HOURS:
            return False
        return bool(np.array_equal(noleap_hour_of_year(self.month, self.day, self.hour), np.arange(YEAR_HOURS)))


def noleap_hour_of_year(month: np.ndarray, day: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """Hour index in a 365-day year (Feb 29 maps onto Feb 28), from 1-based month/day and hour 0-23."""
    day = np.where((month == 2) & (day == 29), 28, day)
    return (MONTH_START_DAY[month - 1] + day - 1) * 24 + hour


def complete_humidity(
    dry_bulb_c: np.ndarray,
    given: dict[str, np.ndarray],
    where: str,
    pressure_hpa: float = psychro.STANDARD_PRESSURE_HPA,
) -> dict[str, np.ndarray]:
    """Fill the missing humidity variables from those given (dew point, then RH, then wet-bulb as basis)."""
    t = np.asarray(dry_bulb_c, dtype=float)
    dew = given.get("dew_point_c")
    rh = given.get("relative_humidity_pct")
    wb = given.get("wet_bulb_c")
    if dew is None and rh is None and wb is None:
        raise WeatherError(f"{where}: no humidity given; provide one of {', '.join(HUMIDITY_VARIABLES)}")
    if rh is not None:
        rh = np.minimum(np.asarray(rh, dtype=float), 100.0)
    if dew is not None:
        dew = np.minimum(np.asarray(dew, dtype=float), t)
        if rh is None:
            rh = psychro.relative_humidity_pct(t, dew)
    elif rh is not None:
        dew = np.minimum(psychro.dew_point_from_rh_c(t, rh), t)
    else:
        wb = np.minimum(np.asarray(wb, dtype=float), t)
        dew = np.minimum(psychro.dew_point_from_wet_bulb_c(t, wb, pressure_hpa), t)
        rh = psychro.relative_humidity_pct(t, dew)
    if wb is None:
        wb = psychro.wet_bulb_c(t, rh, dew)
    else:
        wb = np.minimum(np.maximum(np.asarray(wb, dtype=float), dew), t)
    return {"dry_bulb_c": t, "wet_bulb_c": wb, "dew_point_c": dew, "relative_humidity_pct": rh}


def parse_time_args(hours: int, freq: str, start: Any, where: str = "weather.load") -> tuple[int, int, np.datetime64]:
    """Validate hours/freq/start; return (number of output samples, step in ns, start as datetime64[ns])."""
    import pandas as pd

    if isinstance(hours, bool) or not isinstance(hours, (int, np.integer)) or hours <= 0:
        raise WeatherError(f"{where}: hours={hours!r} must be a positive whole number of hours")
    try:
        step = pd.to_timedelta(freq)
    except (ValueError, TypeError) as exc:
        raise WeatherError(f"{where}: freq={freq!r} is not a time step like '1h', '15min' or '1min' ({exc})") from None
    step_ns = int(step.value)
    if step_ns <= 0 or (HOUR_NS % step_ns and step_ns % HOUR_NS):
        raise WeatherError(
            f"{where}: freq={freq!r} must divide one hour evenly (e.g. '1min', '15min') or be whole hours (e.g. '3h')"
        )
    total_ns = int(hours) * HOUR_NS
    if total_ns % step_ns:
        raise WeatherError(f"{where}: hours={hours} is not a whole number of {freq!r} steps")
    try:
        ts = pd.Timestamp(start)
    except (ValueError, TypeError) as exc:
        raise WeatherError(f"{where}: start={start!r} is not a date/time ({exc})") from None
    if ts is pd.NaT:
        raise WeatherError(f"{where}: start={start!r} is not a date/time")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    limits.check_steps(total_ns // step_ns, what=f"{where}: hours={hours} at freq={freq!r}")
    return total_ns // step_ns, step_ns, np.datetime64(ts.to_datetime64(), "ns")


def _record_index(record: Record, month: np.ndarray, day: np.ndarray, hour: np.ndarray, where: str) -> np.ndarray:
    """Row of `record` to use for each requested calendar hour (calendar-aligned or repeated from start)."""
    if record.typical_year:
        return noleap_hour_of_year(month, day, hour)
    keys = (record.month * 100 + record.day) * 100 + record.hour
    m0, d0, h0 = int(month[0]), int(day[0]), int(hour[0])
    hits = np.flatnonzero(keys == (m0 * 100 + d0) * 100 + h0)
    if hits.size == 0 and (m0, d0) == (2, 29):
        hits = np.flatnonzero(keys == (2 * 100 + 28) * 100 + h0)
    if hits.size == 0:
        first = f"{int(record.month[0])}/{int(record.day[0])} {int(record.hour[0]):02d}:00"
        last = f"{int(record.month[-1])}/{int(record.day[-1])} {int(record.hour[-1]):02d}:00"
        raise WeatherError(
            f"{where}: start {m0}/{d0} {h0:02d}:00 is not covered by the record ({record.n} hours, {first} .. {last});"
            f" pass a start inside it (the record is then repeated as needed)"
        )
    return (hits[0] + np.arange(month.size)) % record.n


def to_dataset(record: Record, hours: int, freq: str, start: Any, where: str) -> xr.Dataset:
    """Sample `record` on start + k*freq for `hours` hours: linear in time below 1 h, block means above."""
    import pandas as pd
    import xarray as xr

    n_out, step_ns, t0 = parse_time_args(hours, freq, start, where)
    times = t0 + np.arange(n_out, dtype=np.int64) * np.timedelta64(step_ns, "ns")
    block = max(1, step_ns // HOUR_NS)
    # hourly grid from the hour at or before start to one hour past the last sample
    h0 = t0.astype("datetime64[h]").astype("datetime64[ns]")
    offset_ns = (times - h0).astype(np.int64)
    n_hourly = int((offset_ns[-1] + (block - 1) * HOUR_NS) // HOUR_NS) + 2
    grid = pd.DatetimeIndex(h0 + np.arange(n_hourly, dtype=np.int64) * np.timedelta64(HOUR_NS, "ns"))
    rows = _record_index(
        record, grid.month.to_numpy(), grid.day.to_numpy(), grid.hour.to_numpy(), where
    )
    data = {}
    for name in VARIABLES:
        hourly = record.values[name][rows]
        acc = np.zeros(n_out)
        for j in range(block):
            pos = offset_ns + j * HOUR_NS
            i = pos // HOUR_NS
            f = (pos % HOUR_NS) / HOUR_NS
            acc += hourly[i] * (1.0 - f) + hourly[i + 1] * f
        var_attrs = dict(VAR_ATTRS[name])
        if name == "wet_bulb_c" and record.attrs.get("wet_bulb_method"):
            var_attrs["long_name"] = f"wet-bulb temperature ({record.attrs['wet_bulb_method']})"
        data[name] = ("time", acc / block if block > 1 else acc, var_attrs)
    coords = {"time": ("time", times, {"standard_name": "time", "long_name": "time (local standard time of the site)"})}
    attrs = {k: v for k, v in record.attrs.items() if v is not None}
    attrs.update({"Conventions": "CF-1.8", "freq": str(freq), "hours": int(hours)})
    return xr.Dataset(data, coords=coords, attrs=attrs)
