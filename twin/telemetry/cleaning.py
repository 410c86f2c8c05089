"""From raw samples to regular series: duplicates, impossible values, outliers, gaps, and combining sources.

All steps are vectorized over every sample at once (sorted by source, then time):

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
from twin.telemetry.variables import VARIABLES

MEASURED, FILLED, MISSING = 0, 1, 2
HAMPEL_HALF_WINDOW = 2
#: dimensions whose single-sample spikes are glitches (utilization, clocks and token rates jump for real)
SPIKY = ("power", "temperature", "flow")
FRACTION_TOLERANCE = 0.02


@dataclass
class Samples:
    """Samples of all files: series and source of each, time (site standard time), value (canonical unit)."""

    source: np.ndarray       # index into `sources`
    time: np.ndarray         # datetime64[ns]
    value: np.ndarray
    line: np.ndarray
    sources: pd.DataFrame    # per source: series (index into `series`), label, file
    series: pd.DataFrame     # per series: variable, node


@dataclass
class Grid:
    """Regular series: time steps, per series the values and quality flags (time x series); `series` also
    counts the sources combined into each."""

    time: np.ndarray
    values: np.ndarray
    quality: np.ndarray
    series: pd.DataFrame


def clean(s: Samples, report: Report, *, outlier_z: float | None = 6.0) -> Samples:
    """Sort, de-duplicate, drop impossible values and outliers; report each step."""
    keep = ~np.isnan(s.value)
    t = s.time.astype("datetime64[ns]", copy=False).view(np.int64)
    if keep.all():
        src, v, line = s.source, s.value, s.line
    else:
        src, t, v, line = s.source[keep], t[keep], s.value[keep], s.line[keep]
    del keep
    if not _in_order(src, t):
        order = np.lexsort((t, src))
        src, t, v, line = src[order], t[order], v[order], line[order]
    src, t, v, line = _duplicates(src, t, v, line, s, report)
    v = _ranges(src, v, line, s, report)
    if outlier_z is not None:
        v = _outliers(src, v, line, s, report, outlier_z)
    ok = ~np.isnan(v)
    if not ok.all():
        src, t, v, line = src[ok], t[ok], v[ok], line[ok]
    return Samples(src, t.view("datetime64[ns]"), v, line, s.sources, s.series)


def _in_order(src: np.ndarray, t: np.ndarray) -> bool:
    """True when samples already run by source, then time (a reader's column per series gives them so)."""
    if src.size < 2:
        return True
    same = src[1:] == src[:-1]
    return bool((src[1:] >= src[:-1]).all() and (t[1:][same] >= t[:-1][same]).all())


def _variable_codes(s: Samples, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sample the code of its variable, and the variable names the codes index."""
    codes, names = pd.factorize(s.series["variable"].to_numpy())
    return codes[s.sources["series"].to_numpy()][src], np.asarray(names)


def quantiles_by_group(x: np.ndarray, starts: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """(group, q) quantiles of `x` within the contiguous groups beginning at `starts`, NaN ignored, linear
    between order statistics (as pandas' groupby quantile): one row sort of a (group x longest) table."""
    n = np.diff(np.r_[starts, x.size])
    width = int(n.max()) if n.size else 0
    if width * n.size > 4 * x.size + 1024:            # very unequal groups: pandas sorts them one by one
        grouped = pd.Series(x).groupby(np.repeat(np.arange(n.size), n))
        return np.stack([grouped.quantile(q).reindex(range(n.size)).to_numpy() for q in qs], 1)
    table = np.full((n.size, width), np.nan)
    table[np.repeat(np.arange(n.size), n), np.arange(x.size) - np.repeat(starts, n)] = x
    table.sort(axis=1)
    count = (~np.isnan(table)).sum(axis=1)
    rows = np.arange(n.size)
    out = np.full((n.size, len(qs)), np.nan)
    for j, q in enumerate(qs):
        pos = q * np.maximum(count - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
        a, b = table[rows, lo], table[rows, hi]
        out[:, j] = np.where(count > 0, a + (b - a) * (pos - lo), np.nan)
    return out


def _where(s: Samples, src: int) -> str:
    row = s.sources.iloc[int(src)]
    return str(row["file"])


def _duplicates(src, t, v, line, s, report):
    same = np.r_[False, (src[1:] == src[:-1]) & (t[1:] == t[:-1])]
    if not same.any():
        return src, t, v, line
    group = np.cumsum(~same) - 1
    starts = np.flatnonzero(~same)
    lo = np.minimum.reduceat(v, starts)
    hi = np.maximum.reduceat(v, starts)
    mean = np.add.reduceat(v, starts) / np.diff(np.r_[starts, v.size])
    conflict = (hi - lo) > 1e-9 * np.maximum(1.0, np.abs(hi))
    dup_groups = np.unique(group[same])
    exact = dup_groups[~conflict[dup_groups]]
    differ = dup_groups[conflict[dup_groups]]
    for kind, groups, what in (("duplicates", exact, "identical repeats dropped"),
                               ("conflicting_duplicates", differ, "differing values at the same time averaged")):
        if groups.size:
            rows = np.isin(group, groups) & same
            first = int(np.flatnonzero(rows)[0])
            report.add(kind, _where(s, src[first]), int(rows.sum()), int(line[first]),
                       f"{int(rows.sum())} samples repeat a time of their source ({s.sources.iloc[src[first]]['label']} "
                       f"and {len(np.unique(src[rows])) - 1} more sources); {what}")
    return src[starts], t[starts], mean, line[starts]


def _ranges(src, v, line, s, report):
    var_code, names = _variable_codes(s, src)
    out = v.copy()
    for k, var in enumerate(names):
        spec = VARIABLES[var]
        rows = var_code == k
        x = out[rows]
        if spec.dimension == "fraction":
            near = (x >= spec.lo - FRACTION_TOLERANCE) & (x <= spec.hi + FRACTION_TOLERANCE)
            x = np.where(near, np.clip(x, spec.lo, spec.hi), x)
        bad = (x < spec.lo) | (x > spec.hi)
        if bad.any():
            idx = np.flatnonzero(rows)[bad]
            report.add("out_of_range", _where(s, src[idx[0]]), int(bad.sum()), int(line[idx[0]]),
                       f"{int(bad.sum())} {var} values outside {spec.lo:g}..{spec.hi:g} {spec.unit} "
                       f"(e.g. {x[bad][0]:g} from {s.sources.iloc[src[idx[0]]]['label']}); removed")
            x = np.where(bad, np.nan, x)
        out[rows] = x
    return out


def _outliers(src, v, line, s, report, z):
    """Hampel filter of half-width 2 within each source (edges use the nearest samples of the same source), on
    the sources whose variable has spiky glitches (SPIKY)."""
    var_code, names = _variable_codes(s, src)
    spiky = np.array([VARIABLES[name].dimension in SPIKY for name in names])
    idx = np.flatnonzero(spiky[var_code])
    n = idx.size
    if n < 2 * HAMPEL_HALF_WINDOW + 3:
        return v
    x, xs = v[idx], src[idx]
    starts = np.r_[0, np.flatnonzero(xs[1:] != xs[:-1]) + 1]
    size = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(starts.size), size)
    first, last = starts[group], (starts + size - 1)[group]
    med = np.empty(n)
    block = 2_000_000
    for a in range(0, n, block):
        b = min(n, a + block)
        i = np.arange(a, b)
        window = np.stack([x[np.clip(i + k, first[a:b], last[a:b])] for k in range(-HAMPEL_HALF_WINDOW, HAMPEL_HALF_WINDOW + 1)])
        med[a:b] = np.nanmedian(window, axis=0) if np.isnan(window).any() else np.median(window, axis=0)
    resid = np.abs(x - med)
    # the noise scale of each source from its successive differences (robust to spikes, blind to trends)
    step = np.r_[np.nan, np.diff(x)]
    step[starts] = np.nan
    centre = quantiles_by_group(step, starts, (0.5,))[:, 0]
    # half-normal: median |d| = 0.6745 sd, 75th percentile 1.1503 sd (the latter survives regular or quantized steps)
    q50, q75 = quantiles_by_group(np.abs(step - centre[group]), starts, (0.5, 0.75)).T
    sigma = np.maximum(q50 / 0.6745, q75 / 1.1503) / np.sqrt(2.0)
    scale = quantiles_by_group(np.abs(x), starts, (0.5,))[:, 0]
    limit = z * np.maximum(np.nan_to_num(sigma), 1e-3 * scale + 1e-9)
    bad = (resid > limit[group]) & (size[group] >= 2 * HAMPEL_HALF_WINDOW + 3) & ~np.isnan(x)
    if not bad.any():
        return v
    out = v.copy()
    code = var_code[idx]
    for k in pd.unique(code[bad]):
        rows = np.flatnonzero(bad & (code == k))
        at = idx[rows[0]]
        report.add("outliers", _where(s, src[at]), rows.size, int(line[at]),
                   f"{rows.size} {names[k]} spikes more than {z:g} robust deviations from their neighbours "
                   f"(e.g. {v[at]:g} where neighbours give {med[rows[0]]:g}, {s.sources.iloc[src[at]]['label']}); removed")
    out[idx[bad]] = np.nan
    return out


def infer_freq(s: Samples) -> str:
    """The coarsest typical sampling interval of the sources, rounded up to a standard step (at most 1 h)."""
    steps = ("1s", "5s", "10s", "15s", "30s", "1min", "5min", "10min", "15min", "30min", "1h")
    t = s.time.astype("datetime64[ns]", copy=False).view(np.int64)
    same = s.source[1:] == s.source[:-1]
    d = np.diff(t)[same]
    if not d.size:
        return "1h"
    typical = pd.Series(d[d > 0]).groupby(s.source[1:][same][d > 0]).median()
    need = float(typical.max()) if len(typical) else 3.6e12
    for step in steps:
        if pd.Timedelta(step).value >= need * 0.999:
            return step
    return "1h"


def to_grid(s: Samples, freq: str, report: Report, *, max_gap: int = 3, start=None, end=None) -> Grid:
    """Average each source into steps of `freq`, combine sources per series, fill short gaps."""
    step = pd.Timedelta(freq).value
    if step <= 0:
        raise ValueError(f"freq {freq!r} must be a positive duration")
    t = s.time.astype("datetime64[ns]", copy=False).view(np.int64)
    t0 = int(np.floor((t.min() if start is None else pd.Timestamp(start).value) / step) * step)
    t1 = int(t.max() if end is None else pd.Timestamp(end).value)
    n_bins = int((t1 - t0) // step) + 1
    inside = (t >= t0) & (t < t0 + n_bins * step)
    src, v = s.source, s.value
    if not inside.all():
        src, t, v = src[inside], t[inside], v[inside]
    b = (t - t0) // step
    key = src.astype(np.int64) * n_bins + b
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])      # sorted by (source, time): key is sorted
    mean = np.add.reduceat(v, starts) / np.diff(np.r_[starts, v.size])
    k_src, k_bin = src[starts], b[starts]
    series_of = s.sources["series"].to_numpy()
    n_series = len(s.series)
    per_series = np.bincount(series_of, minlength=n_series)
    ser = series_of[k_src]
    cell = ser.astype(np.int64) * n_bins + k_bin
    if (cell[1:] >= cell[:-1]).all():                       # one source per series, in series order
        cell_s, mean_s = cell, mean
    else:
        order = np.argsort(cell, kind="stable")
        cell_s, mean_s = cell[order], mean[order]
    cs = np.flatnonzero(np.r_[True, cell_s[1:] != cell_s[:-1]])
    count = np.diff(np.r_[cs, cell_s.size])
    total = np.add.reduceat(mean_s, cs)
    combine = s.series["variable"].map(lambda name: VARIABLES[name].combine).to_numpy()
    cell_series = cell_s[cs] // n_bins
    how = combine[cell_series]
    expected = per_series[cell_series]
    value = np.where(how == "sum", total * expected / count, total / count)
    if (how == "max").any():
        value = np.where(how == "max", np.maximum.reduceat(mean_s, cs), value)
    values = np.full((n_bins, n_series), np.nan)
    quality = np.full((n_bins, n_series), MISSING, dtype=np.uint8)
    rows, cols = cell_s[cs] % n_bins, cell_series
    values[rows, cols] = value
    partial = count < expected
    quality[rows, cols] = np.where(partial, FILLED, MEASURED)
    if partial.any():
        report.add("partial", "all files", int(partial.sum()), None,
                   f"{int(partial.sum())} steps where only some sources of a series reported "
                   f"(e.g. {_label(s.series, cols[partial][0])}: {count[partial][0]} of {expected[partial][0]}); "
                   "sums scaled up to all sources, flagged filled")
    _fill(values, quality, max_gap, s.series, t0, step, report)
    series = s.series.assign(sources=per_series)
    return Grid((t0 + np.arange(n_bins) * step).astype("datetime64[ns]"), values, quality, series)


def _label(series: pd.DataFrame, i: int) -> str:
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
                   f"the ends); longest: {int(runs[:, worst].max())} steps of {_label(series, worst)} from {start}")


__all__ = ["Samples", "Grid", "clean", "infer_freq", "to_grid", "quantiles_by_group", "MEASURED", "FILLED", "MISSING"]
