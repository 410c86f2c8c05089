"""Telemetry file formats: detection by name and content, and one reader per format.

| format | files |
|---|---|
| `nvidia-smi` / `dcgm` | per-GPU CSV (nvidia-smi --query-gpu, DCGM field dumps, wide or long) |
| `prometheus` | Prometheus text exposition with timestamps, promtool tsdb dump |
| `redfish` | Redfish MetricReports, Power/Thermal/EnvironmentMetrics/Sensor resources (JSON, JSON Lines) |
| `bms` | building-management trend exports: point lists (point, unit, timestamp, value) or one column per point |
"""

from __future__ import annotations

from pathlib import Path

from twin.errors import did_you_mean
from twin.telemetry.errors import TelemetryError
from twin.telemetry.formats import bms, gpu_csv, prometheus, redfish
from twin.telemetry.formats.table import header_row, read_text
from twin.telemetry.readings import Readings

FORMATS = ("nvidia-smi", "dcgm", "prometheus", "redfish", "bms")
_JSON = (".json", ".jsonl", ".ndjson")


def detect(path: str | Path, text: str) -> str:
    """The format of a file, from its suffix and the head of its text."""
    suffix = Path(path).suffix.lower()
    head = text.lstrip()[:1]
    if suffix in _JSON or head in ("{", "["):
        return "redfish"
    if prometheus.looks_like(text):
        return "prometheus"
    lines = text.splitlines()
    if header_row(lines, gpu_csv.is_header)[0] >= 0:
        return "nvidia-smi"
    if header_row(lines, bms.is_header)[0] >= 0:
        return "bms"
    raise TelemetryError(str(path), 1, None, "format not recognized",
                         f"give format= one of {', '.join(FORMATS)} (nvidia-smi/DCGM CSV needs a header with "
                         "timestamp and fields such as power.draw; a BMS export needs point, timestamp and value)")


def read_file(path: str | Path, format: str | None = None, *, dayfirst: bool = False) -> Readings:
    """Read one telemetry file into Readings (format detected unless given)."""
    name = str(path)
    text = read_text(path)
    fmt = format or detect(path, text)
    if fmt not in FORMATS:
        raise TelemetryError(name, None, "format", f"unknown format {fmt!r}", did_you_mean(fmt, FORMATS))
    if fmt in ("nvidia-smi", "dcgm"):
        return gpu_csv.read(name, text, dayfirst=dayfirst)
    if fmt == "prometheus":
        return prometheus.read(name, text)
    if fmt == "redfish":
        return redfish.read(name, text)
    return bms.read(name, text, dayfirst=dayfirst)


__all__ = ["FORMATS", "detect", "read_file"]
