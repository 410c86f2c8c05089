"""Building-management (BMS/DCIM) trend exports: point lists in long form or one column per point.

Long: a row per sample with the point name, its unit, a timestamp and the value (header names vary:
`Point Name`/`Point`/`Tag`, `Units`/`Engineering Units`, `Timestamp`/`Date/Time` or separate `Date` and
`Time`, `Value`/`Present Value`, optional `Status`). Wide: a timestamp column then one column per point,
its unit in the header (`MAIN.KW (kW)` or `MAIN.KW [kW]`) or given by the mapping.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from twin.telemetry.errors import TelemetryError
from twin.telemetry.formats.table import column, load
from twin.telemetry.readings import BAD_STATUS, Readings, numbers, sources_frame, text_of, times

POINT = ("point name", "point", "pointname", "name", "tag", "point path", "object name", "sensor", "point_name")
UNIT = ("unit", "units", "engineering units", "eu", "uom")
TIME = ("timestamp", "date/time", "datetime", "date time", "time stamp", "sample time", "trend time", "time")
DATE = ("date",)
VALUE = ("value", "present value", "presentvalue", "reading", "trend value")
STATUS = ("status", "quality", "flags", "status flags")
_UNIT_SUFFIX = re.compile(r"^(.*?)\s*[\[(]([^\])]*)[\])]\s*$")


def _norm(cells: list[str]) -> set[str]:
    return {c.lower().replace("_", " ").strip() for c in cells}


def is_long_header(cells: list[str]) -> bool:
    names = _norm(cells)
    has_time = bool(names & {t.replace("_", " ") for t in TIME}) or bool(names & set(DATE))
    return has_time and bool(names & set(POINT)) and bool(names & set(VALUE))


def is_wide_header(cells: list[str]) -> bool:
    if len(cells) < 2:
        return False
    first = cells[0].lower().replace("_", " ").strip()
    return first in TIME or first in DATE or first.startswith("time") or first.startswith("date")


def is_header(cells: list[str]) -> bool:
    return is_long_header(cells) or is_wide_header(cells)


def read(path: str, text: str, *, dayfirst: bool = False) -> Readings:
    """Samples of a BMS trend export (long or wide)."""
    frame, lines, decimal_comma = load(path, text, is_header, "building-management export")
    if is_long_header(list(frame.columns)):
        return _long(path, frame, lines, decimal_comma, dayfirst)
    return _wide(path, frame, lines, decimal_comma, dayfirst)


def _stamps(path, frame, lines, dayfirst):
    tcol = column(frame, TIME)
    dcol = column(frame, DATE)
    if dcol and tcol and dcol != tcol:
        text = frame[dcol].astype(str).str.strip() + " " + frame[tcol].astype(str).str.strip()
        return times(text, path, lines, f"{dcol} + {tcol}", dayfirst=dayfirst)
    col = tcol or dcol or frame.columns[0]
    return times(frame[col], path, lines, col, dayfirst=dayfirst)


def _long(path, frame, lines, decimal_comma, dayfirst) -> Readings:
    pcol, vcol, ucol, scol = column(frame, POINT), column(frame, VALUE), column(frame, UNIT), column(frame, STATUS)
    stamps, aware = _stamps(path, frame, lines, dayfirst)
    points = frame[pcol].astype(str).str.strip()
    empty = np.flatnonzero(points.isin(["", "nan"]).to_numpy())
    if empty.size:
        raise TelemetryError(path, int(lines[empty[0]]), pcol, "point name is empty", "name the point of every row")
    values, found, flagged = numbers(frame[vcol], path, lines, vcol, decimal_comma=decimal_comma)
    unit = text_of(frame[ucol]) if ucol else pd.Series(found, index=frame.index)
    unit = unit.where(unit != "", pd.Series(found, index=frame.index))
    if scol:
        bad = text_of(frame[scol]).str.contains(BAD_STATUS).to_numpy()
        flagged += int((bad & ~np.isnan(values)).sum())
        values = np.where(bad, np.nan, values)
    key = pd.MultiIndex.from_arrays([points.to_numpy(), unit.to_numpy()])
    code, uniq = pd.factorize(key)
    rows = [{"point": p, "unit": u} for p, u in uniq]
    return Readings(path, "bms-long", sources_frame(rows), code.astype(np.int64), stamps, values,
                    lines.astype(np.int64), aware, [], flagged)


def _wide(path, frame, lines, decimal_comma, dayfirst) -> Readings:
    stamps, aware = _stamps(path, frame, lines, dayfirst)
    skip = {column(frame, TIME), column(frame, DATE)}
    cols = [c for c in frame.columns if c not in skip]
    if not cols:
        raise TelemetryError(path, int(lines[0]) - 1 if len(lines) else 1, None, "no point columns after the timestamp",
                             "export one column per point")
    rows = []
    table = np.empty((len(frame), len(cols)))
    flagged = 0
    for j, c in enumerate(cols):
        m = _UNIT_SUFFIX.match(c)
        point, unit = (m.group(1).strip(), m.group(2).strip()) if m else (c.strip(), "")
        table[:, j], found, bad = numbers(frame[c], path, lines, c, decimal_comma=decimal_comma)
        flagged += bad
        if not unit:
            cell_units = pd.unique(found[found != ""])
            unit = str(cell_units[0]) if len(cell_units) == 1 else ""
        rows.append({"point": point, "unit": unit})
    return Readings(path, "bms-wide", sources_frame(rows), None, stamps, table, lines.astype(np.int32), aware, [],
                    flagged)


__all__ = ["read", "is_header", "is_long_header", "is_wide_header"]
