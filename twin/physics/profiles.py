"""Utilization profiles over time: constant, diurnal inference demand, training with periodic swings, user arrays.

Utilization is the fraction of a rack's serving capacity in use (0 idle .. 1 full); GPU power and
tokens both scale with it. The shapes' defaults are labelled assumptions, not measurements.

>>> import numpy as np
>>> t = np.arange("2025-01-01T00", "2025-01-02T00", dtype="datetime64[h]")
>>> p = diurnal(t)
>>> round(float(p.min()), 2), round(float(p.max()), 2)
(0.45, 0.95)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.physics import PhysicsError
from twin.physics.gpu import _check_utilization

KINDS = ("constant", "diurnal", "training")
#: assumption: inference demand swings between 45 % at night and 95 % in the early afternoon (peak 14:00
#: local); no public facility-level demand curve is in the reference folder
DIURNAL = {"low": 0.45, "high": 0.95, "peak_hour": 14.0}
#: assumption: a training job runs at 95 % with a checkpoint/evaluation dip to 30 % for 20 minutes every
#: 3 hours (power swings of this kind motivate the GB300 power smoothing in reference/power_chain.yaml)
TRAINING = {"high": 0.95, "low": 0.30, "period_h": 3.0, "dip_h": 1.0 / 3.0}
CONSTANT = 1.0


def _hours(time: np.ndarray) -> np.ndarray:
    t = np.asarray(time).astype("datetime64[ns]").astype(np.int64)
    return t / 3.6e12


def step_hours(time: np.ndarray) -> np.ndarray:
    """Length of each step in hours (the last step repeats the one before; one step means 1 h)."""
    h = _hours(time)
    if h.size < 2:
        return np.ones(h.size)
    d = np.diff(h)
    return np.append(d, d[-1])


def constant(time: np.ndarray, level: float = CONSTANT) -> np.ndarray:
    """The same utilization at every step."""
    return np.full(np.asarray(time).shape, float(_check_utilization(level)))


def diurnal(time: np.ndarray, low: float = DIURNAL["low"], high: float = DIURNAL["high"],
            peak_hour: float = DIURNAL["peak_hour"]) -> np.ndarray:
    """Inference demand: a cosine over the day between `low` (12 h from the peak) and `high` (at `peak_hour`)."""
    _check_utilization([low, high])
    hour_of_day = np.mod(_hours(time), 24.0)
    return low + (high - low) * 0.5 * (1.0 + np.cos(2 * np.pi * (hour_of_day - peak_hour) / 24.0))


def training(time: np.ndarray, high: float = TRAINING["high"], low: float = TRAINING["low"],
             period_h: float = TRAINING["period_h"], dip_h: float = TRAINING["dip_h"]) -> np.ndarray:
    """Training: `high` with a dip to `low` lasting `dip_h` every `period_h`; each step holds its time average."""
    _check_utilization([low, high])
    if not 0 < dip_h < period_h:
        raise PhysicsError(f"training profile: dip_h {dip_h!r} must be between 0 and period_h {period_h!r}")
    start = _hours(time)
    end = start + step_hours(time)

    def dip_time(t: np.ndarray) -> np.ndarray:  # hours spent in dips from 0 to t (dips open each period)
        k = np.floor(t / period_h)
        return k * dip_h + np.minimum(t - k * period_h, dip_h)

    share = (dip_time(end) - dip_time(start)) / (end - start)
    return high - (high - low) * share


def resolve(utilization: Any, time: np.ndarray, n_racks: int, rack_ids: Any = None) -> np.ndarray:
    """Turn a profile spec into an array (time,) or (time, rack) of utilization in 0..1.

    Accepts 'constant', 'diurnal', 'training', a number, a (kind, {options}) pair, an array of shape
    (time,) or (time, rack), or an xarray DataArray with dims ('time',) or ('time', 'rack').
    """
    n_time = np.asarray(time).size
    if isinstance(utilization, str):
        return _named(utilization, time, {})
    if isinstance(utilization, tuple) and len(utilization) == 2 and isinstance(utilization[0], str):
        return _named(utilization[0], time, dict(utilization[1]))
    if isinstance(utilization, (int, float, np.number)) and not isinstance(utilization, bool):
        return constant(time, float(utilization))
    if type(utilization).__name__ == "DataArray":
        da = utilization
        if "rack" in da.dims and rack_ids is not None:
            da = da.sel(rack=list(rack_ids))
        order = [d for d in ("time", "rack") if d in da.dims]
        if set(da.dims) - set(order):
            raise PhysicsError(f"utilization DataArray has dims {da.dims}; expected ('time',) or ('time', 'rack')")
        utilization = da.transpose(*order).values
    arr = np.asarray(utilization, dtype=float)
    if arr.shape not in ((n_time,), (n_time, n_racks)):
        raise PhysicsError(f"utilization array has shape {arr.shape}; expected ({n_time},) for the facility or "
                           f"({n_time}, {n_racks}) for (time, rack)")
    return _check_utilization(arr)


def _named(kind: str, time: np.ndarray, options: dict) -> np.ndarray:
    makers = {"constant": constant, "diurnal": diurnal, "training": training}
    if kind not in makers:
        raise PhysicsError(f"unknown utilization profile {kind!r}; use one of {', '.join(KINDS)}, a number or an array")
    try:
        return makers[kind](time, **options)
    except TypeError as exc:
        raise PhysicsError(f"utilization profile {kind!r}: {exc}") from None


__all__ = ["KINDS", "DIURNAL", "TRAINING", "constant", "diurnal", "training", "resolve", "step_hours"]
