"""What can be measured: the twin's own variable names (the same as `twin.simulate`'s) plus a few per-rack
GPU readings the twin does not predict directly, each with its unit, how readings of one node combine, and
the range a real reading can take.

GPU exports (nvidia-smi, DCGM CSV, DCGM exporter metrics) name their fields in several ways; `GPU_FIELDS`
says which field feeds which variable, in order of preference when a file has more than one.
"""

from __future__ import annotations

from typing import NamedTuple


class Variable(NamedTuple):
    """A measured variable: dims, canonical unit and its dimension, how readings combine, valid range."""

    dims: tuple[str, ...]
    unit: str
    dimension: str
    combine: str        # sum (power, flow, tokens) | mean (utilization, temperature, clocks) | max
    lo: float
    hi: float
    long_name: str


_F = ("time",)
_R = ("time", "rack")
_D = ("time", "device")

VARIABLES: dict[str, Variable] = {
    "grid_power_kw": Variable(_F, "kW", "power", "sum", -1e-3, 1e8, "power drawn from the grid"),
    "it_power_kw": Variable(_F, "kW", "power", "sum", -1e-3, 1e8, "IT power at the rack inputs"),
    "losses_kw": Variable(_F, "kW", "power", "sum", -1e-3, 1e7, "power-chain losses"),
    "cooling_power_kw": Variable(_F, "kW", "power", "sum", -1e-3, 1e7, "cooling power"),
    "aux_power_kw": Variable(_F, "kW", "power", "sum", -1e-3, 1e7, "auxiliary power"),
    "units_power_kw": Variable(_F, "kW", "power", "sum", -1e-3, 1e7, "in-hall cooling unit power"),
    "chiller_power_kw": Variable(_F, "kW", "power", "sum", -1e-3, 1e7, "chiller compressor power"),
    "plant_fans_pumps_kw": Variable(_F, "kW", "power", "sum", -1e-3, 1e7, "heat-rejection fans and facility pumps"),
    "water_l_per_h": Variable(_F, "L/h", "flow", "sum", 0.0, 1e9, "water consumed by the cooling plant"),
    "utilization": Variable(_F, "1", "fraction", "mean", 0.0, 1.0, "utilization of serving capacity"),
    "dry_bulb_c": Variable(_F, "degC", "temperature", "mean", -70.0, 65.0, "outdoor dry-bulb temperature"),
    "wet_bulb_c": Variable(_F, "degC", "temperature", "mean", -70.0, 45.0, "outdoor wet-bulb temperature"),
    "rack_power_kw": Variable(_R, "kW", "power", "sum", -1e-3, 5000.0, "rack input power"),
    "rack_gpu_power_kw": Variable(_R, "kW", "power", "sum", 0.0, 5000.0, "sum of the rack's GPU board power"),
    "rack_utilization": Variable(_R, "1", "fraction", "mean", 0.0, 1.0, "mean GPU utilization of the rack"),
    "rack_gpu_temp_c": Variable(_R, "degC", "temperature", "max", -20.0, 150.0, "hottest GPU of the rack"),
    "rack_sm_clock_mhz": Variable(_R, "MHz", "frequency", "mean", 0.0, 10_000.0, "mean GPU SM clock of the rack"),
    "rack_gpu_cap_w": Variable(_R, "W", "power", "mean", 0.0, 10_000.0, "mean GPU power limit of the rack"),
    "rack_tokens_per_s": Variable(_R, "tokens/s", "tokens", "sum", 0.0, 1e9, "tokens per second served by the rack"),
    "device_power_kw": Variable(_D, "kW", "power", "sum", -1e-3, 1e7, "device electrical input power"),
    "device_load_kw": Variable(_D, "kW", "power", "sum", -1e-3, 1e7, "power delivered or heat absorbed by the device"),
}

#: per-GPU fields -> (variable, unit when the export gives none); the first present field of a variable wins
GPU_FIELDS: dict[str, tuple[str, str]] = {
    "power.draw": ("rack_gpu_power_kw", "W"),
    "power.draw.average": ("rack_gpu_power_kw", "W"),
    "power.draw.instant": ("rack_gpu_power_kw", "W"),
    "DCGM_FI_DEV_POWER_USAGE": ("rack_gpu_power_kw", "W"),
    "DCGM_FI_DEV_POWER_USAGE_INSTANT": ("rack_gpu_power_kw", "W"),
    "power_w": ("rack_gpu_power_kw", "W"),
    "utilization.gpu": ("rack_utilization", "%"),
    "DCGM_FI_DEV_GPU_UTIL": ("rack_utilization", "%"),
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE": ("rack_utilization", "1"),
    "gpu_util": ("rack_utilization", "%"),
    "temperature.gpu": ("rack_gpu_temp_c", "degC"),
    "DCGM_FI_DEV_GPU_TEMP": ("rack_gpu_temp_c", "degC"),
    "clocks.sm": ("rack_sm_clock_mhz", "MHz"),
    "clocks.current.sm": ("rack_sm_clock_mhz", "MHz"),
    "DCGM_FI_DEV_SM_CLOCK": ("rack_sm_clock_mhz", "MHz"),
    "power.limit": ("rack_gpu_cap_w", "W"),
    "enforced.power.limit": ("rack_gpu_cap_w", "W"),
    "DCGM_FI_DEV_POWER_MGMT_LIMIT": ("rack_gpu_cap_w", "W"),
}
_FIELD_ALIASES = {"POWER": "power_w", "GPUTL": "gpu_util", "TMP": "temperature.gpu", "SMCLK": "clocks.sm",
                  "power.draw.avg": "power.draw.average"}
_LOWER_FIELDS = {k.lower(): k for k in GPU_FIELDS}


def gpu_field(name: str) -> str | None:
    """The canonical GPU field a column or metric name stands for (None when the twin does not read it)."""
    s = str(name).strip()
    s = _FIELD_ALIASES.get(s, s)
    if s in GPU_FIELDS:
        return s
    return _LOWER_FIELDS.get(s.lower())


def kind_of(name: str) -> str:
    """'facility', 'rack' or 'device': the coordinate a variable is measured on."""
    dims = VARIABLES[name].dims
    return "facility" if len(dims) == 1 else dims[1]


__all__ = ["Variable", "VARIABLES", "GPU_FIELDS", "gpu_field", "kind_of"]
