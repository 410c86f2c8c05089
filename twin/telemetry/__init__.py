"""Measured telemetry in: GPU, Prometheus, Redfish and building-management exports as one xarray Dataset.

`read` turns files of any supported format (see `twin.telemetry.formats`) into regular series on the same
coordinates and names as `twin.simulate` (time x rack, time x device, facility totals), using a small
mapping file (`twin.telemetry.mapping`) to say which series is which node. Units are checked and
converted; duplicates, clock problems (DST changes, declared offsets, skew, steps), impossible values,
outliers and gaps are handled and listed in a report that travels with the Dataset. Every unreadable
file raises `TelemetryError` naming the file, line and field.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "gpu-a01.csv").write_text(
...     "timestamp, index, power.draw [W], utilization.gpu [%]\\n"
...     "2025/07/01 10:00:00.000, 0, 412.5 W, 80 %\\n"
...     "2025/07/01 10:00:00.000, 1, 387.5 W, 70 %\\n"
...     "2025/07/01 11:00:00.000, 0, 150.0 W, 10 %\\n"
...     "2025/07/01 11:00:00.000, 1, 150.0 W, 10 %\\n")
>>> ds = read(folder / "gpu-a01.csv", mapping={"hosts": {"gpu-a01": "hall-a/row-01/rack-01"}}, freq="1h")
>>> ds.rack_gpu_power_kw.values.ravel().tolist(), ds.rack_utilization.values.ravel().tolist()
([0.8, 0.3], [0.75, 0.1])
"""

from __future__ import annotations

import glob
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pandas as pd

from twin.telemetry.errors import TelemetryError
from twin.telemetry.report import Report
from twin.telemetry.variables import VARIABLES

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility
    from twin.telemetry.mapping import Mapping
    from twin.telemetry.tables import Table

REPORT_ATTR = "telemetry_report"


def read(
    paths: str | Path | Iterable[str | Path],
    mapping: str | Path | dict | Mapping | None = None,
    *,
    facility: Facility | None = None,
    freq: str | None = None,
    timezone: str | None = None,
    format: str | None = None,
    max_gap: int = 3,
    outlier_z: float | None = 6.0,
    clock_skew: bool = True,
    start: Any = None,
    end: Any = None,
) -> xr.Dataset:
    """Read telemetry files (paths or glob patterns) into one Dataset on the twin's coordinates.

    mapping: the mapping file (or dict) assigning series to nodes; without one, GPU hosts are racks of the
    same name and points are unmapped. facility: checks every mapped node exists (and adds rack/device
    coordinates). freq: the time step (default: the coarsest typical sampling interval, at most 1 h).
    timezone: IANA zone of timestamps written without one (overrides the mapping's). max_gap: longest gap,
    in steps, filled by interpolation. outlier_z: Hampel threshold (None: keep outliers). clock_skew: align
    sources sampling on a shared schedule whose clocks run ahead or behind.
    """
    from twin.telemetry import cleaning, dataset, formats, mapping as mapping_mod, tables, timebase

    files = _expand(paths)
    m = mapping_mod.load(mapping)
    tz = timezone if timezone is not None else m.timezone
    report = Report()
    series: dict[tuple[str, str], int] = {}
    src_rows: list[dict] = []
    parts: list[tuple[np.ndarray, ...]] = []
    wide: list[tuple[Table, int]] = []         # per wide export: its table and its clock
    clocks: dict[tuple[str, str], int] = {}
    hashes = {}
    formats_seen = set()
    for path in files:
        rd = formats.read_file(path, format, dayfirst=m.dayfirst)
        formats_seen.add(rd.format)
        hashes[Path(path).name] = _sha256(path)
        for note in rd.notes:
            report.note(rd.file, note)
        report.add("flagged", rd.file, rd.flagged, None, f"{rd.flagged} samples marked bad by the source's status; removed")
        missing = int(np.isnan(rd.value).sum()) - rd.flagged
        report.add("missing", rd.file, missing, None, f"{missing} empty or N/A readings")
        res = mapping_mod.resolve(rd, m, facility)
        mapped = res.variable != ""
        if rd.wide and np.unique(res.offset_s[mapped]).size > 1:
            rd = rd.long()                 # columns with clocks of their own
        per_row = rd.value.shape[1] if rd.wide else 1
        code = rd.row_codes()
        if res.unmapped:
            gone = int((~mapped).sum()) * rd.time.size if rd.wide else int(np.isin(rd.code, np.flatnonzero(~mapped)).sum())
            shown = ", ".join(res.unmapped[:5]) + (f" and {len(res.unmapped) - 5} more" if len(res.unmapped) > 5 else "")
            report.add("unmapped", rd.file, gone, None,
                       f"{len(res.unmapped)} series not in the mapping ({shown}); not read")
        times = timebase.to_standard(rd.time, rd.aware, tz, code, rd.line, rd.file, report, per_row)
        names = [str(p) if p else f"{h}/gpu{g}" for p, h, g in zip(rd.sources["point"], rd.sources["host"], rd.sources["gpu"])]
        timebase.clock_steps(times, code, rd.line, rd.file, names, report, per_row=per_row)
        if np.any(res.offset_s):
            shifted = np.count_nonzero(res.offset_s) * rd.time.size if rd.wide else np.count_nonzero(res.offset_s[code])
            report.add("clock_offset", rd.file, int(shifted), None, "declared clock offsets (clock_offsets_s) removed")
        offsets = res.offset_s[mapped][:1] if rd.wide else res.offset_s
        times = timebase.apply_offsets(times, code, offsets if offsets.size else np.zeros(1))
        local = np.full(len(rd.sources), -1, dtype=np.int32)
        for i, row in enumerate(rd.sources.itertuples(index=False)):
            if not res.variable[i]:
                continue
            key = (res.variable[i], res.node[i])
            clock = (rd.file, row.host) if row.field else (rd.file, "")
            local[i] = len(src_rows)
            src_rows.append({"series": series.setdefault(key, len(series)), "label": names[i], "file": rd.file,
                             "clock": clocks.setdefault(clock, len(clocks))})
        if rd.wide:
            cols = np.flatnonzero(mapped)
            if cols.size:
                value = rd.value[:, cols] * res.a[cols] + res.b[cols]
                wide.append((tables.from_columns(local[cols], times, value, rd.line), clocks[(rd.file, "")]))
            continue
        keep = local[rd.code] >= 0
        code = rd.code[keep]
        parts.append((local[code], times[keep], rd.value[keep] * res.a[code] + res.b[code],
                      rd.line[keep].astype(np.int32)))
    if not src_rows:
        raise TelemetryError(str(files[0]), None, None, "no series of these files is mapped to a variable",
                             "map points in the mapping file (points/patterns) and GPU hosts (hosts)")
    sources = pd.DataFrame(src_rows)
    empty = (np.int32, "datetime64[ns]", float, np.int32)
    source, time, value, line = (np.concatenate([p[k] for p in parts]) if parts else np.empty(0, dtype=empty[k])
                                 for k in range(4))
    parts.clear()
    time = time.astype("datetime64[ns]", copy=False).view(np.int64)
    if clock_skew:
        labels = [f"{f} {h}".strip() for (f, h) in clocks]
        clock_of = sources["clock"].to_numpy()[source]
        shift = _skew(clock_of, time, wide, labels, report)
        if shift is not None:
            time = time - shift[clock_of]
            for tb, c in wide:
                tb.time = tb.time - shift[c]
        del clock_of
    table = pd.DataFrame([{"variable": v, "node": n} for (v, n) in series])
    blocks = tables.from_long(source, time, value, line)
    del source, time, value, line
    blocks += [tb for tb, _ in wide]
    wide.clear()
    samples = cleaning.clean(cleaning.Samples(blocks, sources, table), report, outlier_z=outlier_z)
    del blocks
    if not samples.size:
        raise TelemetryError(str(files[0]), None, None, "every mapped reading is missing or was removed",
                             "check the values (see the report) and the mapping")
    step = freq or cleaning.infer_freq(samples)
    grid = cleaning.to_grid(samples, step, report, max_gap=max_gap, start=start, end=end)
    if facility is not None:
        _gpu_coverage(grid.series, facility, report)
    offset = timebase.standard_offset(tz, grid.time[0]) if tz else None
    attrs = {
        "source_files": ", ".join(f"{n} (sha256 {h[:16]})" for n, h in hashes.items()),
        "source_formats": ", ".join(sorted(formats_seen)),
        "mapping": m.origin,
        "timezone": tz or "",
        "time_basis": (f"local standard time of {tz} (UTC{_hours(offset)}, no daylight saving)" if tz
                       else "as recorded (no timezone given)"),
        "freq": step,
        REPORT_ATTR: report.to_json(),
    }
    return dataset.assemble(grid, facility, attrs)


def _skew(clock: np.ndarray, time: np.ndarray, wide: list[tuple[Table, int]], labels: list[str],
          report: Report) -> np.ndarray | None:
    """Per clock the shift aligning it to the common sampling phase (None: none), from the distinct sample
    times of each clock: long-form samples' and each wide export's rows."""
    from twin.telemetry import timebase

    pairs = [timebase.distinct_times(clock, time)] if time.size else []
    pairs += [(np.full(u.size, c), u) for tb, c in wide for u in [np.unique(tb.time)]]
    if not pairs:
        return None
    cs, ts = (np.concatenate([p[k] for p in pairs]) for k in range(2))
    if len(pairs) > 1:
        order = np.lexsort((ts, cs))
        cs, ts = cs[order], ts[order]
    return timebase.skew_shifts(cs, ts, labels, report)


def _gpu_coverage(series: pd.DataFrame, facility: Facility, report: Report) -> None:
    """Say when a rack's GPU power sums fewer GPUs than the rack holds (replay compares the same share)."""
    gpu = series[series["variable"] == "rack_gpu_power_kw"]
    if gpu.empty:
        return
    racks = facility.table("rack")["gpus"]
    have = gpu.set_index("node")["sources"]
    short = have[have.to_numpy() < racks.reindex(have.index).fillna(0).to_numpy()]
    if len(short):
        r = short.index[0]
        report.note("all files", f"rack_gpu_power_kw of {len(short)} racks sums only some of their GPUs (e.g. {r}: "
                                 f"{int(short.iloc[0])} of {int(racks[r])}); the twin is compared on the same share")


def _hours(offset: np.timedelta64) -> str:
    minutes = int(offset / np.timedelta64(1, "m"))
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _expand(paths: Any) -> list[str]:
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[str] = []
    for item in items:
        s = str(item)
        hits = sorted(glob.glob(s)) if any(c in s for c in "*?[") else [s]
        if not hits:
            raise TelemetryError(s, None, None, "no file matches", "check the pattern")
        out.extend(hits)
    if not out:
        raise TelemetryError("<no files>", None, None, "no telemetry files given", "pass one or more paths")
    return out


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def report(ds: xr.Dataset) -> pd.DataFrame:
    """The findings of the import that made `ds`, as a table (kind, where, count, line, detail)."""
    return Report.from_json(ds.attrs.get(REPORT_ATTR)).table()


def save(ds: xr.Dataset, path: str | Path) -> Path:
    """Write measured telemetry to NetCDF atomically (the same writer as simulation results)."""
    from twin import state

    return state.save(ds, path)


def load(path: str | Path) -> xr.Dataset:
    """Read measured telemetry written by `save`."""
    from twin import state

    return state.load(path)


__all__ = ["read", "report", "save", "load", "TelemetryError", "VARIABLES", "Report"]
