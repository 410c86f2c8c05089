"""Per-GPU CSV exports: `nvidia-smi --query-gpu=... --format=csv` and DCGM field dumps (wide or long).

nvidia-smi: header `timestamp, index, uuid, power.draw [W], utilization.gpu [%], ...` (units in brackets, or
none with `nounits`), cells like `312.45 W` or `[N/A]`, local wall-clock timestamps `2025/03/09 01:59:59.123`,
no host column (the host is the file name unless a hostname column exists). DCGM: columns named by field
(`DCGM_FI_DEV_POWER_USAGE`) or a long table `timestamp, hostname, gpu, field, value` where field may be a
DCGM field id (155 = power usage).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twin.telemetry import units as units_mod
from twin.telemetry.errors import TelemetryError
from twin.telemetry.formats.table import column, load
from twin.telemetry.readings import Readings, numbers, sources_frame, times
from twin.telemetry.variables import GPU_FIELDS, gpu_field

TIME = ("timestamp", "time", "datetime", "date_time", "ts")
HOST = ("hostname", "host", "node", "instance", "server")
GPU = ("index", "gpu", "gpu_id", "gpuid", "entity", "entityid", "device")
UUID = ("uuid", "gpu_uuid")
FIELD = ("field", "field_id", "fieldid", "metric", "field_name")
VALUE = ("value", "reading")
#: DCGM field ids of the fields the twin reads (dcgm_fields.h)
DCGM_IDS = {"155": "DCGM_FI_DEV_POWER_USAGE", "150": "DCGM_FI_DEV_GPU_TEMP", "203": "DCGM_FI_DEV_GPU_UTIL",
            "100": "DCGM_FI_DEV_SM_CLOCK", "160": "DCGM_FI_DEV_POWER_MGMT_LIMIT", "1001": "DCGM_FI_PROF_GR_ENGINE_ACTIVE"}


def split_header(name: str) -> tuple[str, str]:
    """'power.draw [W]' -> ('power.draw', 'W'); 'temperature.gpu' -> ('temperature.gpu', '')."""
    s = name.strip()
    if s.endswith("]") and "[" in s:
        head, _, unit = s[:-1].rpartition("[")
        return head.strip(), unit.strip()
    return s, ""


def is_header(cells: list[str]) -> bool:
    lowered = {c.lower() for c in cells}
    if not any(c in lowered for c in TIME):
        return False
    long_form = any(c in lowered for c in FIELD) and any(c in lowered for c in VALUE)
    return any(gpu_field(split_header(c)[0]) for c in cells) or long_form and any(c in lowered for c in GPU + UUID)


def read(path: str, text: str, *, dayfirst: bool = False) -> Readings:
    """Per-GPU samples of a nvidia-smi or DCGM CSV file."""
    frame, lines, decimal_comma = load(path, text, is_header, "GPU CSV export")
    tcol = column(frame, TIME)
    stamps, aware = times(frame[tcol], path, lines, tcol, dayfirst=dayfirst)
    hcol, gcol, ucol = column(frame, HOST), column(frame, GPU), column(frame, UUID)
    default_host = Path(path).stem
    host = frame[hcol].astype(str).str.strip() if hcol else pd.Series(default_host, index=frame.index)
    if hcol:
        host = host.str.replace(r":\d+$", "", regex=True)
    gpu = frame[gcol].astype(str).str.strip().str.replace(r"\.0$", "", regex=True) if gcol else pd.Series("0", index=frame.index)
    uuid = frame[ucol].astype(str).str.strip() if ucol else pd.Series("", index=frame.index)
    fcol, vcol = column(frame, FIELD), column(frame, VALUE)
    if fcol and vcol and not any(gpu_field(split_header(c)[0]) for c in frame.columns):
        names = frame[fcol].astype(str).str.strip().replace(DCGM_IDS)
        columns = {gpu_field(name): (frame[vcol], "", (names == name).to_numpy())
                   for name in pd.unique(names) if gpu_field(name)}
        fmt = "dcgm-csv-long"
    else:
        columns = {}
        for c in frame.columns:
            name, unit = split_header(c)
            canon = gpu_field(name)
            if canon is not None:
                columns[canon] = (frame[c], unit, np.ones(len(frame), dtype=bool))
        fmt = "nvidia-smi-csv" if any("." in k for k in columns) else "dcgm-csv"
    return _assemble(path, fmt, columns, stamps, aware, lines, host, gpu, uuid, decimal_comma, hcol is None)


def _assemble(path, fmt, columns, stamps, aware, lines, host, gpu, uuid, decimal_comma, host_from_file) -> Readings:
    ident = pd.DataFrame({"host": host.to_numpy(), "gpu": gpu.to_numpy(), "uuid": uuid.to_numpy()})
    gcode, guniq = pd.factorize(pd.MultiIndex.from_frame(ident))
    chosen: dict[str, str] = {}
    for name in columns:
        chosen.setdefault(GPU_FIELDS[name][0], name)
    rows, codes, tt, vv, ll = [], [], [], [], []
    flagged = 0
    notes = []
    if host_from_file:
        notes.append(f"no hostname column: GPUs are taken to be on host {host.iloc[0]!r} (the file name)")
    skipped = sorted(set(columns) - set(chosen.values()))
    if skipped:
        notes.append(f"fields {', '.join(skipped)} not read: another field gives the same variable")
    for variable, name in chosen.items():
        cells, header_unit, rows_of_field = columns[name]
        idx = np.flatnonzero(rows_of_field)
        values, found, bad = numbers(cells.iloc[idx], path, lines[idx], name, decimal_comma=decimal_comma)
        flagged += bad
        cell_units = pd.Series(found, dtype=object).replace("", header_unit or GPU_FIELDS[name][1])
        for unit in pd.unique(cell_units):
            units_mod.lookup(unit) or _bad_unit(path, lines[idx[np.flatnonzero(cell_units.to_numpy() == unit)[0]]], name, unit)
            sel = idx[cell_units.to_numpy() == unit]
            vsel = values[cell_units.to_numpy() == unit]
            base = len(rows)
            for h, g, u in guniq:
                rows.append({"point": f"{h}/gpu{g}", "host": h, "gpu": g, "uuid": u, "field": name, "unit": unit})
            codes.append(base + gcode[sel])
            tt.append(stamps[sel])
            vv.append(vsel)
            ll.append(lines[sel])
    if not rows:
        raise TelemetryError(path, 1, None, "no GPU field the twin reads (power.draw, utilization.gpu, ...)",
                             f"export at least one of {', '.join(sorted(GPU_FIELDS)[:6])}, ...")
    cat = lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)  # noqa: E731
    return Readings(path, fmt, sources_frame(rows), cat(codes, np.int64), cat(tt, "datetime64[ns]"), cat(vv, float),
                    cat(ll, np.int64), aware, notes, flagged)


def _bad_unit(path: str, line: int, field: str, unit: str) -> None:
    raise TelemetryError(path, int(line), field, f"unit {unit!r} is unknown",
                         "use W, kW, %, C, F or MHz (or export with nounits and the default units)")


__all__ = ["read", "is_header", "split_header", "DCGM_IDS"]
