"""Prometheus text exposition exports (and `promtool tsdb dump` output): one sample per line with a timestamp.

`metric{label="value",...} 312.5 1736937600000` (milliseconds) or OpenMetrics seconds; `# HELP`/`# TYPE`
comments; `{__name__="metric", ...}` as promtool writes it; NaN/+Inf values. DCGM exporter metrics
(`DCGM_FI_DEV_POWER_USAGE` with `Hostname`, `gpu`, `UUID` labels) become per-GPU sources; any other metric
is a point named by the metric, its labels kept for the mapping (`node_label`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from twin.telemetry.errors import TelemetryError
from twin.telemetry.readings import Readings, sources_frame, text_of, times
from twin.telemetry.variables import GPU_FIELDS, gpu_field

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)(?:\s+(\S+))?\s*$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
#: unit suffixes of the Prometheus naming conventions
SUFFIX_UNITS = (("_kilowatts", "kW"), ("_watts", "W"), ("_celsius", "degC"), ("_ratio", "1"), ("_percent", "%"),
                ("_hertz", "Hz"), ("_megahertz", "MHz"), ("_kw", "kW"))


def looks_like(text: str) -> bool:
    """True when the head of `text` reads as Prometheus text exposition."""
    for line in text.splitlines()[:20]:
        s = line.strip()
        if not s:
            continue
        if s.startswith("# HELP") or s.startswith("# TYPE"):
            return True
        m = _SAMPLE.match(s)
        if not m or s.startswith("#"):
            return False
        value, stamp = m.group(3), m.group(4)
        try:
            float(value)
        except ValueError:
            return False
        return stamp is None or stamp.replace(".", "", 1).isdigit()
    return False


def unit_of(name: str) -> str:
    """The unit a metric name implies: DCGM field defaults, then Prometheus suffixes ('' when none)."""
    field = gpu_field(name)
    if field is not None:
        return GPU_FIELDS[field][1]
    for suffix, unit in SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def read(path: str, text: str) -> Readings:
    """Samples of a Prometheus text export; every sample needs a timestamp."""
    raw = pd.Series(text.splitlines())
    lines = np.arange(1, raw.size + 1)
    body = raw.str.strip()
    keep = (body != "") & ~body.str.startswith("#")
    body, lines = body[keep], lines[keep.to_numpy()]
    parts = body.str.extract(_SAMPLE)
    bad = parts[2].isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TelemetryError(path, int(lines[i]), None, f"line {body.iloc[i][:80]!r} is not a Prometheus sample",
                             "write `metric{label=\"value\"} value timestamp` (text exposition format)")
    missing = parts[3].isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise TelemetryError(path, int(lines[i]), "timestamp", "sample has no timestamp",
                             "export with timestamps (promtool tsdb dump, or a query_range export)")
    values = pd.to_numeric(parts[2].replace({"+Inf": "inf", "-Inf": "-inf", "Inf": "inf"}), errors="coerce").to_numpy()
    nonnum = np.isnan(values) & ~parts[2].str.lower().eq("nan").to_numpy()
    if nonnum.any():
        i = int(np.flatnonzero(nonnum)[0])
        raise TelemetryError(path, int(lines[i]), "value", f"value {parts[2].iloc[i]!r} is not a number",
                             "write a number, NaN or +Inf")
    values = np.where(np.isfinite(values), values, np.nan)
    stamps, _ = times(parts[3], path, lines, "timestamp")
    series = text_of(parts[0]) + text_of(parts[1])
    code, uniq = pd.factorize(series)
    rows = [_source(path, key, int(lines[np.flatnonzero(code == k)[0]])) for k, key in enumerate(uniq)]
    return Readings(path, "prometheus", sources_frame(rows), code.astype(np.int64), stamps, values,
                    lines.astype(np.int64), True)


def _source(path: str, key: str, line: int) -> dict:
    name, _, rest = key.partition("{")
    labels = {m.group(1): bytes(m.group(2), "utf-8").decode("unicode_escape") for m in _LABEL.finditer(rest.rstrip("}"))}
    name = name or labels.pop("__name__", "")
    if not name:
        raise TelemetryError(path, line, "__name__", "sample has no metric name", "give the metric name")
    field = gpu_field(name)
    if field is not None:
        host = labels.get("Hostname") or labels.get("hostname") or re.sub(r":\d+$", "", labels.get("instance", ""))
        gpu = labels.get("gpu", "0")
        return {"point": f"{host}/gpu{gpu}", "host": host, "gpu": gpu, "uuid": labels.get("UUID", ""),
                "field": field, "unit": unit_of(name), "labels": labels}
    return {"point": name, "unit": unit_of(name), "labels": labels}


__all__ = ["read", "looks_like", "unit_of"]
