"""Putting every sample on one clock: the site's local standard time (no daylight saving), as the weather is.

- Wall-clock times in a zone with daylight saving: a repeated hour in autumn is split by order of
  appearance (first pass daylight time, second standard time), so `01:30, 01:30` becomes two samples an hour
  apart; times in the spring gap do not exist and are moved forward an hour, and reported (a source whose
  clock keeps standard time all year shows up this way).
- Zoned times (offsets, zone abbreviations, epoch numbers) are instants and only shifted to the site's zone.
- Known clock errors (`clock_offsets_s` in the mapping) are removed; clocks stepping back within a source are
  reported; sources that sample on a shared schedule but run ahead or behind the others are aligned to the
  common phase and reported (skew below one sampling interval; larger offsets must be declared).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from twin.telemetry.report import Report

NS = 1_000_000_000


def standard_offset(tz: str, when: np.datetime64) -> np.timedelta64:
    """The zone's standard (non-DST) offset from UTC around `when`."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    moment = pd.Timestamp(when).to_pydatetime().replace(tzinfo=datetime.timezone.utc).astimezone(zone)
    std = moment.utcoffset() - (moment.dst() or datetime.timedelta(0))
    return np.timedelta64(int(std.total_seconds() * 1e9), "ns")


def to_standard(time: np.ndarray, aware: bool, tz: str | None, code: np.ndarray, lines: np.ndarray, file: str,
                report: Report, per_row: int = 1) -> np.ndarray:
    """Sample times as the site's local standard time (naive datetime64[ns]). per_row: samples each time stands
    for (a wide export's row holds one per column), so the report counts samples either way."""
    if not time.size:
        return time
    if tz is None:
        if not aware:
            report.note(file, "timestamps without a zone and no mapping timezone: taken as the site's standard time "
                              "(a DST change would show as a repeated or missing hour)")
        else:
            report.note(file, "no mapping timezone: zoned timestamps kept in UTC")
        return time
    if aware:
        return time + standard_offset(tz, time[0])
    utc = _localize(time, tz, code, lines, file, report, columns=per_row)
    return utc + standard_offset(tz, utc[0])


def _localize(time: np.ndarray, tz: str, code: np.ndarray, lines: np.ndarray, file: str, report: Report, *,
              columns: int) -> np.ndarray:
    """Wall-clock times in `tz` -> naive UTC, splitting repeated hours by order of appearance per source."""
    codes, uniq = pd.factorize(time, sort=False)
    idx = pd.DatetimeIndex(uniq)
    plain = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    dst_side = idx.tz_localize(tz, ambiguous=True, nonexistent="NaT")
    missing = dst_side.isna()
    ambiguous = plain.isna() & ~missing
    out = plain.tz_convert("UTC").tz_localize(None).to_numpy().copy()
    if missing.any():
        shifted = idx[missing].tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        out[missing] = (shifted.tz_convert("UTC").tz_localize(None) + pd.Timedelta(hours=1)).to_numpy()
        rows = np.isin(codes, np.flatnonzero(missing))
        report.add("dst_nonexistent", file, int(rows.sum()) * columns, int(lines[rows][0]),
                   f"{rows.sum() * columns} samples at wall-clock times skipped by the spring DST change (e.g. {idx[missing][0]}); "
                   "moved forward one hour; if the source keeps standard time all year, drop `timezone` for it")
    per_row = out[codes]
    if ambiguous.any():
        amb_rows = np.flatnonzero(np.isin(codes, np.flatnonzero(ambiguous)))
        seen = pd.DataFrame({"c": code[amb_rows], "t": codes[amb_rows]}).groupby(["c", "t"]).cumcount().to_numpy()
        early = idx.tz_localize(tz, ambiguous=True).tz_convert("UTC").tz_localize(None).to_numpy()
        late = idx.tz_localize(tz, ambiguous=False).tz_convert("UTC").tz_localize(None).to_numpy()
        t = codes[amb_rows]
        per_row[amb_rows] = np.where(seen == 0, early[t], late[t])
        twice = int((seen >= 1).sum()) * columns
        report.add("dst_repeated", file, twice, int(lines[amb_rows][0]),
                   f"{len(amb_rows) * columns} samples in the hour repeated by the autumn DST change: the first of each time "
                   "taken as daylight time, the repeat as standard time")
        if (seen >= 2).any():
            report.add("duplicates", file, int((seen >= 2).sum()) * columns, int(lines[amb_rows[seen >= 2][0]]),
                       "a time in the repeated DST hour appears more than twice; later copies kept as duplicates")
    return per_row


def apply_offsets(time: np.ndarray, code: np.ndarray, offset_s: np.ndarray) -> np.ndarray:
    """Remove declared clock errors (seconds ahead, per source)."""
    if not np.any(offset_s):
        return time
    return time - (offset_s[code] * NS).astype("timedelta64[ns]")


def clock_steps(time: np.ndarray, code: np.ndarray, lines: np.ndarray, file: str, names: list[str], report: Report,
                tolerance_s: float = 1.0, per_row: int = 1) -> None:
    """Report clocks that step back within a source (in file order), beyond `tolerance_s`; per_row: sources
    sharing each time (a wide export's columns; `code` is then one clock)."""
    if time.size < 2:
        return
    order = np.argsort(code, kind="stable")
    t = time[order].astype(np.int64)
    c = code[order]
    back = (np.diff(t) < -tolerance_s * NS) & (c[1:] == c[:-1])
    if back.any():
        i = int(np.flatnonzero(back)[0]) + 1
        step = (t[i - 1] - t[i]) / NS
        sources = len(np.unique(c[1:][back])) * per_row
        report.add("clock_step", file, int(back.sum()) * per_row, int(lines[order][i]),
                   f"clock steps back {int(back.sum()) * per_row} time(s) in {sources} source(s), e.g. {step:g} s in "
                   f"{names[c[i]]!r}; samples re-ordered by time")


def distinct_times(clock: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (clock, time) pairs sorted by clock, then time: a source's phase is its clock's schedule,
    however many series share that clock (a wide export's columns all do)."""
    codes, uniq = pd.factorize(t, sort=True)
    n_clocks = int(clock.max()) + 1 if clock.size else 0
    if n_clocks * uniq.size <= 4 * t.size + 1024:
        seen = np.zeros(n_clocks * uniq.size, dtype=bool)
        seen[clock.astype(np.int64) * uniq.size + codes] = True
        pair = np.flatnonzero(seen)                           # ordered by clock, then time
    else:
        pair = np.unique(clock.astype(np.int64) * uniq.size + codes)
    return pair // uniq.size, np.asarray(uniq)[pair % uniq.size]


def skew_shifts(cs: np.ndarray, ts: np.ndarray, labels: list[str], report: Report, *, jitter_share: float = 0.05,
                min_skew_s: float = 1.0) -> np.ndarray | None:
    """Nanoseconds to subtract from each clock's times (None: none to move), from the distinct (clock, time)
    pairs `cs`, `ts` (int64 ns) sorted by clock, then time (`distinct_times`).

    `cs` numbers the clocks (a GPU host, a collector's file). Clocks sampling at the modal interval with a
    steady phase (spread below `jitter_share` of it) take part; the common phase is their median (wrapped);
    a clock more than max(min_skew_s, jitter) away from it is moved onto it (skew below one interval).
    """
    if ts.size < 4 or len(labels) < 2:
        return None
    d = np.diff(ts)[cs[1:] == cs[:-1]]
    d = d[d > 0]
    if not d.size:
        return None
    period = int(np.median(d))

    def wrap(x):
        return (x + period / 2) % period - period / 2

    frame = pd.DataFrame({"c": cs, "p": ts % period})
    groups = frame.groupby("c")["p"]
    frame["rel"] = wrap(frame["p"] - groups.transform("first"))
    rel = frame.groupby("c")["rel"]
    stats = pd.DataFrame({"phase": groups.first() + rel.median(), "n": rel.size()})
    stats["spread"] = (frame["rel"] - rel.transform("median")).abs().groupby(frame["c"]).median()
    steady = stats[(stats["spread"] <= jitter_share * period) & (stats["n"] >= 3)]
    if len(steady) < 2:
        return None
    ref = float(steady["phase"].iloc[0])
    common = ref + float(np.median(wrap(steady["phase"].to_numpy() - ref)))
    skew = wrap(steady["phase"] - common)
    moved = skew[skew.abs() > max(min_skew_s * NS, jitter_share * period)]
    if moved.empty:
        return None
    shift = np.zeros(len(labels))
    shift[moved.index.to_numpy()] = moved.to_numpy()
    for c, value in moved.items():
        report.add("clock_skew", labels[c], 1, None,
                   f"clock of {labels[c]} {value / NS:+.3g} s against the common sampling phase of the other "
                   f"sources (every {period / NS:g} s); shifted onto it")
    return np.rint(shift).astype(np.int64)


__all__ = ["standard_offset", "to_standard", "apply_offsets", "clock_steps", "distinct_times", "skew_shifts"]
