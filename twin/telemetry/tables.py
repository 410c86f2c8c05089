"""Samples as (position x source) tables, the one layout every cleaning rule works on.

Column j of a `Table` holds the samples of one source in time order in its first `count[j]` rows, NaN below.
A wide export's columns on their shared clock are a table as they stand (`from_columns`: no long form, the
times kept once); long-form samples become tables of sources of similar length (`from_long`), so padding
stays below about half the cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Table:
    """Samples of some sources. `row` (n x k) says where each cell's time and line are in `time` and `line`
    (padding repeats the column's last row); None: cell i of every column is row i (a shared clock, no gaps)."""

    source: np.ndarray        # (k,) int32: index into the sources table
    value: np.ndarray         # (n, k) float64, canonical units
    count: np.ndarray         # (k,) samples per column
    time: np.ndarray          # int64 ns (site standard time)
    line: np.ndarray          # int32 file line
    row: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.count.sum())

    def valid(self) -> np.ndarray:
        """(n, k): the cell holds a sample (not padding)."""
        return np.arange(self.value.shape[0])[:, None] < self.count[None, :]

    def times(self) -> np.ndarray:
        """Time of each cell: (n, k), or (n, 1) on a shared clock."""
        return self.time[:, None] if self.row is None else self.time[self.row]

    def cell_line(self, i: int, j: int) -> int:
        return int(self.line[i if self.row is None else self.row[i, j]])

    def flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(source, time, value, line) of the samples, column by column: long form sorted by source and time."""
        ok = self.valid().T
        rows = np.broadcast_to(np.arange(self.value.shape[0])[None, :], ok.shape) if self.row is None else self.row.T
        at = rows[ok]
        src = np.repeat(self.source, self.count)
        return src, self.time[at], self.value.T[ok], self.line[at]

    def keep(self, keep: np.ndarray) -> Table:
        """The table without the cells where `keep` is False (the rest moved up, in order)."""
        return _compact(self.source, self.value, self.time, self.line, self.row, keep & self.valid())


def _compact(source, value, time, line, row, keep) -> Table:
    if keep.all():
        return Table(source, value, np.full(source.size, value.shape[0]), time, line, row)
    order = np.argsort(~keep, axis=0, kind="stable")               # kept cells first, in time order
    count = keep.sum(axis=0)
    n = int(count.max()) if count.size else 0
    if not n:
        return Table(source, value[:0], count, time, line, np.zeros((0, count.size), dtype=_index_type(time.size)))
    order = order[:n]
    new_row = order if row is None else np.take_along_axis(row, order, axis=0)
    v = np.take_along_axis(value, order, axis=0)
    pad = np.arange(n)[:, None] >= count[None, :]
    v[pad] = np.nan
    last = new_row[np.maximum(count - 1, 0), np.arange(count.size)]
    new_row = np.where(pad, last[None, :], new_row).astype(_index_type(time.size))
    return Table(source, v, count, time, line, new_row)


def _index_type(n: int) -> type:
    return np.int32 if n < 2**31 else np.int64


def from_columns(source: np.ndarray, time: np.ndarray, value: np.ndarray, line: np.ndarray) -> Table:
    """A wide export's (row x column) values on their shared clock: rows in time order (ties in file order),
    missing cells (NaN) left out."""
    t = time.astype("datetime64[ns]", copy=False).view(np.int64)
    if t.size > 1 and not (t[1:] >= t[:-1]).all():
        order = np.argsort(t, kind="stable")
        t, value, line = t[order], value[order], line[order]
    return _compact(source.astype(np.int32), value, t, line.astype(np.int32), None, ~np.isnan(value))


def from_long(source: np.ndarray, time: np.ndarray, value: np.ndarray, line: np.ndarray) -> list[Table]:
    """Long-form samples (any order; NaN values are missing and left out) as tables of similar-length sources."""
    keep = ~np.isnan(value)
    t = time.astype("datetime64[ns]", copy=False).view(np.int64)
    src, v, ln = source, value, line
    if not keep.all():
        src, t, v, ln = src[keep], t[keep], v[keep], ln[keep]
    if not _in_order(src, t):
        order = np.lexsort((t, src))
        src, t, v, ln = src[order], t[order], v[order], ln[order]
    ln = ln.astype(np.int32, copy=False)
    if not src.size:
        return []
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    counts = np.diff(np.r_[starts, src.size])
    by_length = np.argsort(-counts, kind="stable")
    tables, a = [], 0
    while a < by_length.size:
        width, b, total = counts[by_length[a]], a, 0
        while b < by_length.size and width * (b - a + 1) <= 2 * (total + counts[by_length[b]]) + 4096:
            total += counts[by_length[b]]
            b += 1
        cols = np.sort(by_length[a:b])
        pos = np.arange(width)[:, None]
        row = starts[cols][None, :] + np.minimum(pos, counts[cols][None, :] - 1)
        pad = pos >= counts[cols][None, :]
        tables.append(Table(src[starts[cols]].astype(np.int32), np.where(pad, np.nan, v[row]), counts[cols], t, ln,
                            row.astype(_index_type(t.size))))
        a = b
    return tables


def _in_order(src: np.ndarray, t: np.ndarray) -> bool:
    """True when samples already run by source, then time (a reader's column per series gives them so)."""
    if src.size < 2:
        return True
    same = src[1:] == src[:-1]
    return bool((src[1:] >= src[:-1]).all() and (t[1:][same] >= t[:-1][same]).all())


def column_quantiles(table: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """(column, q) quantiles of a (position x column) table, NaN ignored, linear between order statistics (as
    pandas' quantile)."""
    table = np.sort(table, axis=0)
    count = (~np.isnan(table)).sum(axis=0)
    cols = np.arange(table.shape[1])
    out = np.full((table.shape[1], len(qs)), np.nan)
    if not table.shape[0]:
        return out
    for j, q in enumerate(qs):
        pos = q * np.maximum(count - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
        a, b = table[lo, cols], table[hi, cols]
        out[:, j] = np.where(count > 0, a + (b - a) * (pos - lo), np.nan)
    return out


def median_of_rows(window: np.ndarray) -> np.ndarray:
    """Median over axis 0, NaN ignored (as numpy's nanmedian, without its all-NaN warning): NaN where none."""
    s = np.sort(window, axis=0)                                   # NaN last
    m = (~np.isnan(window)).sum(axis=0)
    lo = np.take_along_axis(s, (np.maximum(m - 1, 0) // 2)[None], axis=0)[0]
    hi = np.take_along_axis(s, (m // 2)[None], axis=0)[0]
    return (lo + hi) / 2


__all__ = ["Table", "from_columns", "from_long", "column_quantiles", "median_of_rows"]
