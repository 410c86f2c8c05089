"""From raw samples to regular series: duplicates, impossible values, outliers, gaps, and combining sources.

All steps work on (position x source) tables (`twin.telemetry.tables`): a wide export's columns as they stand,
long-form samples as tables of sources of similar length:

1. duplicates: the same source at the same time twice: identical copies are dropped, differing ones averaged;
2. impossible values (outside the variable's physical range) are removed; utilization within 2 % of its
   range is clipped to 0..1 (rounding in exports);
3. outliers: a Hampel-type filter removes values more than `outlier_z` noise deviations from the median of
   the 5 neighbouring samples of their source, the noise taken from the source's successive differences
   (from their median and 75th-percentile absolute deviations, / sqrt 2): single spikes and sensor glitches
   go, steps stay (the
   median moves with them). Power, temperatures and flows only: utilization and clocks jump for real;
4. the samples of each source are averaged into the time steps of the grid (`freq`), the sources of one
   (variable, node) combined (power adds, utilization and clocks average, GPU temperature takes the
   hottest); a step where only some sources reported is scaled up (sums) or taken from those present and
   flagged as filled;
5. gaps up to `max_gap` steps long are interpolated linearly (flagged); longer ones stay missing.

Quality flags per value: 0 measured, 1 filled (interpolated or from part of the sources), 2 missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.telemetry.report import Report
from twin.telemetry.tables import Table, column_quantiles, from_long, median_of_rows
from twin.telemetry.variables import VARIABLES

MEASURED, FILLED, MISSING = 0, 1, 2
HAMPEL_HALF_WINDOW = 2
#: dimensions whose single-sample spikes are glitches (utilization, clocks and token rates jump for real)
SPIKY = ("power", "temperature", "flow")
FRACTION_TOLERANCE = 0.02
#: cells of one Hampel window stack (bounds the filter's memory)
WINDOW_CELLS = 1_000_000


@dataclass
class Samples:
    """Samples of all files as tables, times in site standard time, values in canonical units."""

    tables: list[Table]
    sources: pd.DataFrame    # per source: series (index into `series`), label, file
    series: pd.DataFrame     # per series: variable, node

    @property
    def size(self) -> int:
        return sum(t.size for t in self.tables)


@dataclass
class Grid:
    """Regular series: time steps, per series the values and quality flags (time x series); `series` also
    counts the sources combined into each."""

    time: np.ndarray
    values: np.ndarray
    quality: np.ndarray
    series: pd.DataFrame


@dataclass
class _First:
    """A finding's count over all tables and its first sample in (source, time) order."""

    count: int = 0
    source: int = -1
    line: int = 0
    value: float = np.nan
    extra: float = np.nan

    def add(self, count: int, source: int, line: int, value: float = np.nan, extra: float = np.nan) -> None:
        if count and (self.source < 0 or source < self.source):
            self.source, self.line, self.value, self.extra = source, line, value, extra
        self.count += count


def clean(s: Samples, report: Report, *, outlier_z: float | None = 6.0) -> Samples:
    """De-duplicate, drop impossible values and outliers (in the tables' values); report each step."""
    tables = _duplicates(s.tables, s, report)
    codes, names = _variable_codes(s)
    _ranges(tables, codes, names, s, report)
    if outlier_z is not None:
        _outliers(tables, codes, names, s, report, outlier_z)
    kept = [tb.keep(~np.isnan(tb.value)) for tb in tables]
    return Samples([tb for tb in kept if tb.size], s.sources, s.series)


def _variable_codes(s: Samples) -> tuple[np.ndarray, np.ndarray]:
    """Per source the code of its variable, and the variable names the codes index."""
    codes, names = pd.factorize(s.series["variable"].to_numpy())
    return codes[s.sources["series"].to_numpy()], np.asarray(names)


def _label(s: Samples, src: int) -> str:
    return str(s.sources.iloc[int(src)]["label"])


def _where(s: Samples, src: int) -> str:
    return str(s.sources.iloc[int(src)]["file"])


def _duplicates(tables: list[Table], s: Samples, report: Report) -> list[Table]:
    """Samples of a source at one time: identical ones dropped, differing ones averaged (tables with repeats
    are merged in long form, the rest pass as they are)."""
    found = {"duplicates": _First(), "conflicting_duplicates": _First()}
    sources: dict[str, set] = {k: set() for k in found}
    out: list[Table] = []
    for tb in tables:
        t = tb.times()
        if t.shape[0] < 2 or not ((t[1:] == t[:-1]) & tb.valid()[1:]).any():
            out.append(tb)
            continue
        src, t, v, line = tb.flat()
        same = np.r_[False, (src[1:] == src[:-1]) & (t[1:] == t[:-1])]
        group = np.cumsum(~same) - 1
        starts = np.flatnonzero(~same)
        lo = np.minimum.reduceat(v, starts)
        hi = np.maximum.reduceat(v, starts)
        mean = np.add.reduceat(v, starts) / np.diff(np.r_[starts, v.size])
        conflict = (hi - lo) > 1e-9 * np.maximum(1.0, np.abs(hi))
        for kind, differ in (("duplicates", False), ("conflicting_duplicates", True)):
            rows = same & (conflict[group] == differ)
            if rows.any():
                first = int(np.flatnonzero(rows & (src == src[rows].min()))[0])
                found[kind].add(int(rows.sum()), int(src[first]), int(line[first]))
                sources[kind].update(np.unique(src[rows]).tolist())
        out.extend(from_long(src[starts], t[starts], mean, line[starts]))
    for kind, what in (("duplicates", "identical repeats dropped"),
                       ("conflicting_duplicates", "differing values at the same time averaged")):
        f = found[kind]
        if f.count:
            report.add(kind, _where(s, f.source), f.count, f.line,
                       f"{f.count} samples repeat a time of their source ({_label(s, f.source)} "
                       f"and {len(sources[kind]) - 1} more sources); {what}")
    return out


def _first_cell(bad: np.ndarray, source: np.ndarray) -> tuple[int, int]:
    """(position, column) of the first flagged cell in (source, time) order."""
    cols = np.flatnonzero(bad.any(axis=0))
    j = int(cols[np.argmin(source[cols])])
    return int(np.argmax(bad[:, j])), j


def _ranges(tables: list[Table], codes: np.ndarray, names: np.ndarray, s: Samples, report: Report) -> None:
    """Values outside the variable's physical range become NaN (fractions within the tolerance are clipped)."""
    for k, var in enumerate(names):
        spec = VARIABLES[var]
        f = _First()
        for tb in tables:
            cols = np.flatnonzero(codes[tb.source] == k)
            if not cols.size:
                continue
            whole = cols.size == tb.source.size
            x = tb.value if whole else tb.value[:, cols]
            if spec.dimension == "fraction":
                near = (x >= spec.lo - FRACTION_TOLERANCE) & (x <= spec.hi + FRACTION_TOLERANCE)
                np.copyto(x, np.clip(x, spec.lo, spec.hi), where=near)
            bad = (x < spec.lo) | (x > spec.hi)
            if bad.any():
                i, j = _first_cell(bad, tb.source[cols])
                f.add(int(bad.sum()), int(tb.source[cols[j]]), tb.cell_line(i, int(cols[j])), float(x[i, j]))
                x[bad] = np.nan
            if not whole:
                tb.value[:, cols] = x
        if f.count:
            report.add("out_of_range", _where(s, f.source), f.count, f.line,
                       f"{f.count} {var} values outside {spec.lo:g}..{spec.hi:g} {spec.unit} "
                       f"(e.g. {f.value:g} from {_label(s, f.source)}); removed")


def _outliers(tables: list[Table], codes: np.ndarray, names: np.ndarray, s: Samples, report: Report,
              z: float) -> None:
    """Hampel filter of half-width 2 within each source (edges use the nearest samples of the same source), on
    the sources whose variable has spiky glitches (SPIKY)."""
    spiky = np.array([VARIABLES[name].dimension in SPIKY for name in names])
    found = {k: _First() for k in np.flatnonzero(spiky)}
    for tb in tables:
        cols = np.flatnonzero(spiky[codes[tb.source]])
        chunk = max(1, WINDOW_CELLS // max(1, (2 * HAMPEL_HALF_WINDOW + 1) * tb.value.shape[0]))
        for a in range(0, cols.size, chunk):
            part = cols[a:a + chunk]
            bad, med = _hampel(tb.value[:, part], tb.count[part], z)
            if not bad.any():
                continue
            for k in pd.unique(codes[tb.source[part]]):
                of = bad & (codes[tb.source[part]] == k)[None, :]
                if of.any():
                    i, j = _first_cell(of, tb.source[part])
                    found[k].add(int(of.sum()), int(tb.source[part[j]]), tb.cell_line(i, int(part[j])),
                                 float(tb.value[i, part[j]]), float(med[i, j]))
            x = tb.value[:, part]
            x[bad] = np.nan
            tb.value[:, part] = x
    for k, f in found.items():
        if f.count:
            report.add("outliers", _where(s, f.source), f.count, f.line,
                       f"{f.count} {names[k]} spikes more than {z:g} robust deviations from their neighbours "
                       f"(e.g. {f.value:g} where neighbours give {f.extra:g}, {_label(s, f.source)}); removed")


def _hampel(x: np.ndarray, count: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """(spikes, window medians) of a (position x source) table whose columns hold `count` samples each."""
    n = x.shape[0]
    pos = np.arange(n)[:, None]
    last = np.maximum(count - 1, 0)[None, :]
    window = np.stack([np.take_along_axis(x, np.clip(pos + d, 0, last), axis=0)
                       for d in range(-HAMPEL_HALF_WINDOW, HAMPEL_HALF_WINDOW + 1)])
    med = median_of_rows(window)
    del window
    resid = np.abs(x - med)
    # the noise scale of each source from its successive differences (robust to spikes, blind to trends)
    step = np.full_like(x, np.nan)
    step[1:] = x[1:] - x[:-1]
    centre = column_quantiles(step, (0.5,))[:, 0]
    # half-normal: median |d| = 0.6745 sd, 75th percentile 1.1503 sd (the latter survives regular or quantized steps)
    q50, q75 = column_quantiles(np.abs(step - centre[None, :]), (0.5, 0.75)).T
    sigma = np.maximum(q50 / 0.6745, q75 / 1.1503) / np.sqrt(2.0)
    scale = column_quantiles(np.abs(x), (0.5,))[:, 0]
    limit = z * np.maximum(np.nan_to_num(sigma), 1e-3 * scale + 1e-9)
    bad = (resid > limit[None, :]) & (count >= 2 * HAMPEL_HALF_WINDOW + 3)[None, :] & ~np.isnan(x)
    return bad, med


def infer_freq(s: Samples) -> str:
    """The coarsest typical sampling interval of the sources, rounded up to a standard step (at most 1 h)."""
    steps = ("1s", "5s", "10s", "15s", "30s", "1min", "5min", "10min", "15min", "30min", "1h")
    typical = []
    for tb in s.tables:
        t = tb.times()
        if t.shape[0] < 2:
            continue
        d = (t[1:] - t[:-1]).astype(float)
        d[(d <= 0) | ~tb.valid()[1:][:, :d.shape[1]]] = np.nan
        typical.append(column_quantiles(d, (0.5,))[:, 0])
    typical = np.concatenate(typical) if typical else np.empty(0)
    need = float(np.nanmax(typical)) if np.isfinite(typical).any() else 3.6e12
    for step in steps:
        if pd.Timedelta(step).value >= need * 0.999:
            return step
    return "1h"


def _span(tables: list[Table]) -> tuple[int, int]:
    """Earliest and latest sample time."""
    lo, hi = [], []
    for tb in tables:
        if tb.row is None:
            lo.append(tb.time[0])
            hi.append(tb.time[-1])
        else:
            cols = np.flatnonzero(tb.count)
            lo.append(tb.time[tb.row[0, cols]].min())
            hi.append(tb.time[tb.row[tb.count[cols] - 1, cols]].max())
    return int(min(lo)), int(max(hi))


def _source_means(tb: Table, t0: int, step: int, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bin, column, mean) of each source's samples per grid step; broadcastable arrays."""
    if tb.row is None:                                     # one clock, every cell a sample: rows by bin
        b = (tb.time - t0) // step
        inside = (b >= 0) & (b < n_bins)
        b, v = b[inside], tb.value[inside]
        starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]]) if b.size else np.empty(0, dtype=np.int64)
        if not starts.size:
            return np.empty((0, 1), np.int64), np.arange(tb.source.size)[None, :], np.empty((0, tb.source.size))
        if starts.size < b.size:
            v = np.add.reduceat(v, starts, axis=0) / np.diff(np.r_[starts, b.size])[:, None]
        return b[starts][:, None], np.arange(tb.source.size)[None, :], v
    col = np.repeat(np.arange(tb.source.size), tb.count)
    _, t, v, _ = tb.flat()
    b = (t - t0) // step
    inside = (b >= 0) & (b < n_bins)
    if not inside.all():
        col, b, v = col[inside], b[inside], v[inside]
    key = col.astype(np.int64) * n_bins + b
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.empty(0, dtype=np.int64)
    if not starts.size:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    mean = np.add.reduceat(v, starts) / np.diff(np.r_[starts, v.size])
    return b[starts], col[starts], mean


def to_grid(s: Samples, freq: str, report: Report, *, max_gap: int = 3, start=None, end=None) -> Grid:
    """Average each source into steps of `freq`, combine sources per series, fill short gaps."""
    step = pd.Timedelta(freq).value
    if step <= 0:
        raise ValueError(f"freq {freq!r} must be a positive duration")
    first, latest = _span(s.tables)
    t0 = int(np.floor((first if start is None else pd.Timestamp(start).value) / step) * step)
    t1 = int(latest if end is None else pd.Timestamp(end).value)
    n_bins = int((t1 - t0) // step) + 1
    series_of = s.sources["series"].to_numpy()
    n_series = len(s.series)
    per_series = np.bincount(series_of, minlength=n_series)
    combine = s.series["variable"].map(lambda name: VARIABLES[name].combine).to_numpy()
    total = np.zeros((n_bins, n_series))
    count = np.zeros((n_bins, n_series), dtype=np.int32)
    peak = np.full((n_bins, n_series), -np.inf) if (combine == "max").any() else None
    for tb in s.tables:
        b, col, mean = _source_means(tb, t0, step, n_bins)
        ser = series_of[tb.source]
        if np.unique(ser).size == ser.size:                # one source per series here: cells are distinct
            total[b, ser[col]] += mean
            count[b, ser[col]] += 1
            if peak is not None:
                peak[b, ser[col]] = np.fmax(peak[b, ser[col]], mean)
        else:                                              # sources of a series summed in source order
            b, col, mean = (x.ravel(order="F") for x in np.broadcast_arrays(b, col, mean))
            cell = ser[col].astype(np.int64) * n_bins + b
            order = np.argsort(cell, kind="stable")
            cell, mean = cell[order], mean[order]
            cs = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
            r, c = cell[cs] % n_bins, cell[cs] // n_bins
            total[r, c] += np.add.reduceat(mean, cs)
            count[r, c] += np.diff(np.r_[cs, cell.size]).astype(np.int32)
            if peak is not None:
                peak[r, c] = np.fmax(peak[r, c], np.maximum.reduceat(mean, cs))
    values = total                                         # in place: sums scaled up to all sources, others averaged
    np.multiply(values, np.where(combine == "sum", per_series, 1)[None, :], out=values)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(values, count, out=values)               # no sample: 0 / 0, NaN
    if peak is not None:
        values[:, combine == "max"] = peak[:, combine == "max"]
        values[count == 0] = np.nan
    seen = count > 0
    partial = seen & (count < per_series[None, :])
    quality = np.full(values.shape, MISSING, dtype=np.uint8)
    quality[seen] = MEASURED
    quality[partial] = FILLED
    if partial.any():
        col = int(np.flatnonzero(partial.any(axis=0))[0])
        row = int(np.argmax(partial[:, col]))
        report.add("partial", "all files", int(partial.sum()), None,
                   f"{int(partial.sum())} steps where only some sources of a series reported "
                   f"(e.g. {_series_label(s.series, col)}: {count[row, col]} of {per_series[col]}); "
                   "sums scaled up to all sources, flagged filled")
    del count, partial
    _fill(values, quality, max_gap, s.series, t0, step, report)
    series = s.series.assign(sources=per_series)
    return Grid((t0 + np.arange(n_bins) * step).astype("datetime64[ns]"), values, quality, series)


def _series_label(series: pd.DataFrame, i: int) -> str:
    row = series.iloc[int(i)]
    return f"{row['variable']}[{row['node']}]" if row["node"] else str(row["variable"])


def _fill(values: np.ndarray, quality: np.ndarray, max_gap: int, series: pd.DataFrame, t0: int, step: int,
          report: Report) -> None:
    """Interpolate NaN runs of at most `max_gap` steps between two values (in place); report the rest."""
    miss = np.isnan(values)
    if not miss.any():
        return
    n = values.shape[0]
    ar = np.arange(n)[:, None]
    prev = np.maximum.accumulate(np.where(~miss, ar, -1), axis=0)
    nxt = np.minimum.accumulate(np.where(~miss, ar, n)[::-1], axis=0)[::-1]
    length = nxt - prev - 1
    fill = miss & (prev >= 0) & (nxt < n) & (length <= max_gap)
    if fill.any():
        r, c = np.nonzero(fill)
        p, q = prev[r, c], nxt[r, c]
        values[r, c] = values[p, c] + (values[q, c] - values[p, c]) * (r - p) / (q - p)
        quality[r, c] = FILLED
        report.add("gaps_filled", "all files", int(fill.sum()), None,
                   f"{int(fill.sum())} missing steps in gaps of at most {max_gap} steps interpolated linearly "
                   f"({len(np.unique(c))} series)")
    still = np.isnan(values)
    if still.any():
        cols = np.flatnonzero(still.any(axis=0))
        runs = np.where(still, length, 0)
        worst = int(np.argmax(runs.max(axis=0)))
        at = int(np.argmax(runs[:, worst]))
        start = np.datetime64(int(t0 + (prev[at, worst] + 1) * step), "ns")
        report.add("gaps_open", "all files", int(still.sum()), None,
                   f"{int(still.sum())} steps in {len(cols)} series left missing (gaps longer than {max_gap} steps or at "
                   f"the ends); longest: {int(runs[:, worst].max())} steps of {_series_label(series, worst)} from {start}")


__all__ = ["Samples", "Grid", "clean", "infer_freq", "to_grid", "MEASURED", "FILLED", "MISSING"]
