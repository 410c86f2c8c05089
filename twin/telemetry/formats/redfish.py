"""Redfish power and thermal readings: MetricReports, and Power / Thermal / EnvironmentMetrics / Sensor
resources collected over time (a JSON list, JSON Lines, or wrappers carrying a `Timestamp`).

A Power or Thermal resource has no time of its own, so the collector's `Timestamp` (on the resource or an
enclosing object) dates it. Each reading is a point named by its property path, for example
`/redfish/v1/Chassis/R12/Power#/PowerControl/0/PowerConsumedWatts`, which the mapping's `points` or
`patterns` assign to a variable and node. Values given as strings ("8000") are read as numbers.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterator

import numpy as np
import pandas as pd

from twin.telemetry.errors import TelemetryError
from twin.telemetry.readings import Readings, sources_frame, text_of, times

TIME_KEYS = ("Timestamp", "timestamp", "ReadingTime", "CollectionTime", "time")
#: (array, property, unit) readings of Power and Thermal resources
ARRAY_READINGS = (
    ("PowerControl", "PowerConsumedWatts", "W"),
    ("PowerSupplies", "PowerInputWatts", "W"),
    ("PowerSupplies", "LastPowerOutputWatts", "W"),
    ("Temperatures", "ReadingCelsius", "degC"),
    ("Fans", "Reading", None),
)
#: EnvironmentMetrics excerpts (property with a .Reading) and their units
EXCERPTS = (("PowerWatts", "W"), ("TemperatureCelsius", "degC"), ("HumidityPercent", "%"), ("FanSpeedsPercent", "%"))
#: keys never searched for nested readings (links and vendor blocks)
SKIP = frozenset({"Oem", "Links", "RelatedItem", "@Redfish.Settings", "Actions"})
UCUM = {"Cel": "degC", "W": "W", "kW": "kW", "%": "%", "Percent": "%", "RPM": "RPM", "{rev}/min": "RPM"}


def read(path: str, text: str) -> Readings:
    """Readings of a Redfish JSON or JSON Lines file."""
    docs = list(_documents(path, text))
    out: list[tuple[str, str, str, Any, int]] = []   # point, unit, timestamp, value, line
    for doc, line in docs:
        for item in _walk(path, text, doc, None, line):
            out.append(item)
    if not out:
        raise TelemetryError(path, 1, None, "no power or thermal reading found",
                             "export MetricReports or Power/Thermal resources, each with a Timestamp")
    frame = pd.DataFrame(out, columns=["point", "unit", "time", "value", "line"])
    lines = frame["line"].to_numpy(dtype=np.int64)
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & frame["value"].notna().to_numpy()
    bad &= ~frame["value"].astype(str).str.lower().isin(["nan", "", "none", "n/a"]).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        point, value = frame["point"].iloc[i], frame["value"].iloc[i]
        raise TelemetryError(path, int(lines[i]) or _value_line(text, point, value), point,
                             f"value {value!r} is not a number", "fix the reading (a number, or null when absent)")
    stamps, aware = times(frame["time"], path, lines, "Timestamp")
    key = pd.MultiIndex.from_arrays([frame["point"].to_numpy(), text_of(frame["unit"]).to_numpy()])
    code, uniq = pd.factorize(key)
    rows = [{"point": p, "unit": u} for p, u in uniq]
    return Readings(path, "redfish", sources_frame(rows), code.astype(np.int64), stamps, values, lines, aware)


def _documents(path: str, text: str) -> Iterator[tuple[Any, int]]:
    stripped = text.lstrip()
    try:
        doc = json.loads(text, parse_constant=lambda c: math.nan)
    except json.JSONDecodeError as exc:
        if stripped.startswith("{") and "\n" in stripped.strip():
            for i, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line), i
                except json.JSONDecodeError as err:
                    raise TelemetryError(path, i, None, f"invalid JSON ({err.msg})",
                                         "one JSON object per line (JSON Lines) or one JSON document") from None
            return
        raise TelemetryError(path, exc.lineno, None, f"invalid JSON ({exc.msg})", "fix the syntax at that line") from None
    for item in doc if isinstance(doc, list) else [doc]:
        yield item, 0


def _line_of(text: str, needle: str, default: int) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else max(default, 1)


def _value_line(text: str, point: str, value: Any) -> int:
    """The line of a reading inside one JSON document: its property written with that value."""
    prop = re.escape(point.rsplit("/", 1)[-1])
    m = re.search(rf'"{prop}"\s*:\s*{re.escape(json.dumps(value))}', text)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def _stamp(obj: dict, inherited: Any) -> Any:
    for k in TIME_KEYS:
        if obj.get(k) not in (None, ""):
            return obj[k]
    return inherited


def _walk(path: str, text: str, obj: Any, stamp: Any, line: int) -> Iterator[tuple[str, str, str, Any, int]]:
    if isinstance(obj, list):
        for item in obj:
            yield from _walk(path, text, item, stamp, line)
        return
    if not isinstance(obj, dict):
        return
    stamp = _stamp(obj, stamp)
    ident = str(obj.get("@odata.id", ""))
    kind = str(obj.get("@odata.type", ""))
    here = _line_of(text, f'"{ident}"', line) if ident and not line else line
    found = False
    if isinstance(obj.get("MetricValues"), list):
        found = True
        for i, mv in enumerate(obj["MetricValues"]):
            if not isinstance(mv, dict):
                continue
            point = str(mv.get("MetricProperty") or mv.get("MetricId") or "")
            when = _stamp(mv, stamp)
            _need_time(path, when, here, point)
            yield point, _unit_from_name(point), when, mv.get("MetricValue"), here
    for array, prop, unit in ARRAY_READINGS:
        members = obj.get(array)
        if not isinstance(members, list):
            continue
        for i, m in enumerate(members):
            if not isinstance(m, dict) or m.get(prop) is None:
                continue
            found = True
            base = str(m.get("@odata.id") or f"{ident}#/{array}/{i}")
            u = unit if unit is not None else UCUM.get(str(m.get("ReadingUnits", "")), str(m.get("ReadingUnits", "")))
            _need_time(path, stamp, here, f"{base}/{prop}")
            yield f"{base}/{prop}", u, stamp, m.get(prop), here
            avg = (m.get("PowerMetrics") or {}).get("AverageConsumedWatts") if array == "PowerControl" else None
            if avg is not None:
                yield f"{base}/PowerMetrics/AverageConsumedWatts", "W", stamp, avg, here
    if "EnvironmentMetrics" in kind or any(isinstance(obj.get(k), dict) and "Reading" in obj[k] for k, _ in EXCERPTS):
        for prop, unit in EXCERPTS:
            sub = obj.get(prop)
            if isinstance(sub, dict) and sub.get("Reading") is not None:
                found = True
                _need_time(path, stamp, here, f"{ident}/{prop}")
                yield f"{ident}/{prop}/Reading", unit, stamp, sub["Reading"], here
    if "#Sensor." in kind and obj.get("Reading") is not None:
        found = True
        _need_time(path, stamp, here, f"{ident}/Reading")
        yield f"{ident}/Reading", UCUM.get(str(obj.get("ReadingUnits", "")), str(obj.get("ReadingUnits", ""))), stamp, obj["Reading"], here
    if found:
        return
    for key, value in obj.items():
        if key not in SKIP and isinstance(value, (dict, list)):
            yield from _walk(path, text, value, stamp, line)


def _need_time(path: str, stamp: Any, line: int, field: str) -> None:
    if stamp in (None, ""):
        raise TelemetryError(path, line, field, "reading has no time",
                             "add the collection time as \"Timestamp\" on the resource (or the object around it)")


def _unit_from_name(point: str) -> str:
    tail = point.rsplit("/", 1)[-1]
    for suffix, unit in (("Watts", "W"), ("Celsius", "degC"), ("Percent", "%"), ("kW", "kW")):
        if tail.endswith(suffix):
            return unit
    return ""


__all__ = ["read"]
