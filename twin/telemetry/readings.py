"""Readings as every reader returns them, and the number and timestamp parsing all readers share.

A `Readings` holds one file's samples: a table of sources (one row per measured series: its point name or
GPU identity, its unit) and, per sample, the source code, timestamp, value and file line, so any later problem
can still name the line it came from. A wide export (one column per series, one clock) keeps its values as a
(row x source) array beside the rows' times and lines instead (`wide`), a long form only on request (`long`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from twin.telemetry.errors import TelemetryError
from twin.telemetry.units import REFUSED, UNITS

#: cell texts meaning "no reading" (nvidia-smi, DCGM, BMS exports); counted as missing, never an error
MISSING = frozenset({
    "", "n/a", "[n/a]", "na", "nan", "null", "none", "---", "--", "-", "?", "[not supported]", "[unknown error]",
    "err!", "[gpu is lost]", "[insufficient permissions]", "#n/a", "no data", "nodata", "offline", "undefined",
})
#: status tags some BMS append to a value ("72.5 {ok}"); these ones mean the value is not to be trusted
BAD_STATUS = re.compile(r"fault|down|stale|alarm|unackedalarm|disabled|null|offline|overrid", re.I)
_STATUS = re.compile(r"\s*\{([^}]*)\}\s*$")
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
#: zone abbreviations BMS and loggers print after local times; they settle which side of a DST change a time is on
ZONE_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
    "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2,
    "EEST": 3, "IST": 5.5, "SGT": 8, "JST": 9, "AEST": 10, "AEDT": 11,
}
_ABBR = re.compile(r"^(.*\S)\s+([A-Z]{1,4})$")
_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")
NAIVE_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%d-%b-%Y %H:%M:%S", "%d-%b-%y %I:%M:%S %p", "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
)


@dataclass
class Readings:
    """One file's samples. `sources`: one row per series (columns point, host, gpu, uuid, field, unit, labels).

    `aware`: timestamps are UTC instants (they carried a zone or were epoch numbers); otherwise they are the
    wall-clock time of the source, to be placed in a time zone later. Wide: `value` is (row x source), `time`
    and `line` are per row and `code` is None.
    """

    file: str
    format: str
    sources: pd.DataFrame
    code: np.ndarray | None
    time: np.ndarray
    value: np.ndarray
    line: np.ndarray
    aware: bool
    notes: list[str] = field(default_factory=list)
    flagged: int = 0      # samples the source itself marked bad (status tags), already set to NaN

    def __len__(self) -> int:
        return int(self.value.size)

    @property
    def wide(self) -> bool:
        return self.value.ndim == 2

    def long(self) -> Readings:
        """The same samples in long form, source by source (a wide export's columns one after another)."""
        if not self.wide:
            return self
        n, k = self.value.shape
        code = np.repeat(np.arange(k, dtype=np.int32), n)
        return Readings(self.file, self.format, self.sources, code, np.tile(self.time, k), self.value.T.ravel(),
                        np.tile(self.line, k), self.aware, self.notes, self.flagged)

    def row_codes(self) -> np.ndarray:
        """Per time the source code (long form), or one clock code 0 per row (wide: every column shares it)."""
        return np.zeros(self.time.size, dtype=np.int32) if self.wide else self.code

    def first_lines(self) -> np.ndarray:
        """Per source the file line of its first sample."""
        out = np.zeros(len(self.sources), dtype=np.int64)
        if self.wide:
            out[:] = self.line[0] if self.line.size else 0
        elif len(self):
            order = np.argsort(self.code, kind="stable")
            codes = self.code[order]
            starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
            out[codes[starts]] = self.line[order][starts]
        return out


def text_of(cells: pd.Series) -> pd.Series:
    """Cells as stripped text, missing ones as '' (whatever dtype pandas gave the column)."""
    out = cells.astype(object).where(cells.notna(), "")
    return out.astype(str).str.strip()


def sources_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A sources table with every column present (missing ones empty)."""
    cols = ("point", "host", "gpu", "uuid", "field", "unit", "labels")
    frame = pd.DataFrame(rows, columns=list(cols))
    for c in cols[:-1]:
        frame[c] = text_of(frame[c])
    return frame


def numbers(text: pd.Series, file: str, lines: np.ndarray, field: str, *, decimal_comma: bool = False,
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Parse cells into floats. Returns (values, units found in the cells ('' if none), samples flagged bad).

    '312.45 W' gives 312.45 and 'W'; '1,234.5' drops the thousands separator; missing markers give NaN;
    a status tag '{fault}' gives NaN and counts as flagged. Anything else is a TelemetryError naming the line.
    """
    if text.dtype.kind in "fiu":
        return text.to_numpy(dtype=float), np.full(len(text), "", dtype=object), 0
    s = text_of(text)
    if decimal_comma:
        s = s.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, copy=True)
    units = np.full(values.size, "", dtype=object)
    todo = np.flatnonzero(np.isnan(values))
    flagged = 0
    if todo.size:
        raw = s.iloc[todo]
        uniq, inverse = np.unique(raw.to_numpy(dtype=str), return_inverse=True)
        parsed = np.full(uniq.size, np.nan)
        found = np.full(uniq.size, "", dtype=object)
        bad = np.zeros(uniq.size, dtype=bool)
        for i, cell in enumerate(uniq):
            parsed[i], found[i], bad[i] = _cell(cell, decimal_comma)
        ok = ~np.isnan(parsed) | np.array([_cell_missing(c) for c in uniq], dtype=bool) | bad
        if not ok.all():
            first = int(np.flatnonzero(~ok[inverse])[0])
            cell = raw.iloc[first]
            raise TelemetryError(file, int(lines[todo[first]]), field, f"value {cell!r} is not a number",
                                 "fix the cell, or leave it empty (empty, N/A and [Not Supported] count as missing)")
        values[todo] = parsed[inverse]
        units[todo] = found[inverse]
        flagged = int(bad[inverse].sum())
    return values, units, flagged


def _cell_missing(cell: str) -> bool:
    core = _STATUS.sub("", cell).strip().lower()
    return core in MISSING


def _cell(cell: str, decimal_comma: bool) -> tuple[float, str, bool]:
    """(value, unit, flagged) of one non-plain cell; value NaN when missing or not a number."""
    status = _STATUS.search(cell)
    core = _STATUS.sub("", cell).strip()
    if status and BAD_STATUS.search(status.group(1)):
        return np.nan, "", True
    if core.lower() in MISSING:
        return np.nan, "", False
    if _THOUSANDS.match(core):
        core = core.replace(",", "")
    m = _NUMBER_UNIT.match(core)
    if not m:
        return np.nan, "", False
    number, unit = m.group(1), (m.group(2) or "").strip()
    if unit and unit not in UNITS and unit not in REFUSED and unit.strip("[]") not in UNITS:
        return np.nan, "", False
    if "," in number:
        if not decimal_comma and _THOUSANDS.match(number) is None and number.count(",") == 1:
            number = number.replace(",", ".")
        else:
            number = number.replace(",", "")
    try:
        return float(number), unit, False
    except ValueError:
        return np.nan, "", False


def times(text: pd.Series, file: str, lines: np.ndarray, field: str, *, dayfirst: bool = False,
          ) -> tuple[np.ndarray, bool]:
    """Parse timestamps: (datetime64[ns] array, aware). Aware times (a zone, an offset or epoch numbers) are
    returned as naive UTC; others as the wall-clock times they are. Each distinct text is parsed once.
    """
    codes, uniq = pd.factorize(text.astype(str).str.strip(), sort=False)
    if (codes < 0).any():
        i = int(np.flatnonzero(codes < 0)[0])
        raise TelemetryError(file, int(lines[i]), field, "timestamp is missing", "give every row a timestamp")
    uniq = pd.Index(uniq)
    parsed, aware = _parse_unique(uniq, dayfirst)
    bad = np.flatnonzero(pd.isna(parsed))
    if bad.size:
        row = int(np.flatnonzero(codes == bad[0])[0])
        raise TelemetryError(file, int(lines[row]), field, f"timestamp {uniq[bad[0]]!r} is not a date and time",
                             "write ISO 8601 (2025-07-01 14:00:00, optionally with +02:00) or epoch seconds")
    if isinstance(aware, np.ndarray):
        if aware.any() and not aware.all():
            odd = int(np.flatnonzero(~aware if aware.mean() >= 0.5 else aware)[0])
            row = int(np.flatnonzero(codes == odd)[0])
            raise TelemetryError(file, int(lines[row]), field, f"timestamp {uniq[odd]!r} mixes zoned and unzoned times",
                                 "give every timestamp of a file a zone (or none)")
        aware = bool(aware.all())
    return np.asarray(parsed, dtype="datetime64[ns]")[codes], aware


def _parse_unique(uniq: pd.Index, dayfirst: bool) -> tuple[np.ndarray, Any]:
    """Distinct timestamp texts -> (datetime64 values, aware: bool, or a per-text mask when zones are mixed)."""
    as_num = pd.to_numeric(uniq, errors="coerce")
    if not np.isnan(as_num).any():
        x = np.asarray(as_num, dtype=float)
        big = np.nanmax(np.abs(x)) if x.size else 0.0
        unit = "ns" if big > 1e17 else "us" if big > 1e14 else "ms" if big > 1e11 else "s"
        return pd.to_datetime(x, unit=unit).to_numpy(), True
    abbr = uniq.str.extract(_ABBR)
    has_abbr = abbr[1].isin(list(ZONE_ABBREVIATIONS)).to_numpy()
    has_offset = np.asarray(uniq.str.contains(_OFFSET), dtype=bool) & ~has_abbr
    aware = has_abbr | has_offset
    if aware.any() and not aware.all():
        return _placeholder(uniq), aware
    if not aware.any():
        return _naive(uniq, dayfirst), False
    out = np.empty(len(uniq), dtype="datetime64[ns]")
    if has_abbr.any():
        base = _naive(pd.Index(abbr[0][has_abbr]), dayfirst)
        hours = abbr[1][has_abbr].map(ZONE_ABBREVIATIONS).to_numpy(dtype=float)
        out[has_abbr] = base - (hours * 3600e9).astype("timedelta64[ns]")
    if has_offset.any():
        zoned = pd.to_datetime(uniq[has_offset], utc=True, format="ISO8601", errors="coerce")
        out[has_offset] = zoned.tz_convert(None).to_numpy()
    return out, True


def _naive(uniq: pd.Index, dayfirst: bool) -> np.ndarray:
    """Wall-clock texts in one of the common export formats (tried on the first), else pandas' mixed parser."""
    first = uniq[0]
    for fmt in NAIVE_FORMATS:
        try:
            pd.to_datetime([first], format=fmt)
        except (ValueError, TypeError):
            continue
        out = pd.to_datetime(uniq, format=fmt, errors="coerce")
        if not out.isna().any():
            return out.to_numpy()
    return pd.to_datetime(uniq, format="mixed", dayfirst=dayfirst, errors="coerce").to_numpy()


def _placeholder(uniq: pd.Index) -> np.ndarray:
    """Placeholder parse (valid everywhere) so the caller can report the first mixed-zone row."""
    return np.full(len(uniq), np.datetime64("2000-01-01", "ns"))


__all__ = ["Readings", "sources_frame", "numbers", "times", "MISSING", "ZONE_ABBREVIATIONS"]
