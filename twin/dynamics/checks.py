"""The grid's limits on a load's fast power changes: ramp rate and oscillation amplitude per frequency band.

Ramp: the largest |change| over any `ramp_window_s` (MW/s as change / window). Oscillation: the single-sided
amplitude spectrum of the (mean-removed) series by FFT, 2 |X_k| / N, the largest amplitude in each band [lo, hi) Hz.
Limits are the caller's (a utility's interconnection terms); `Limits()` defaults are labelled assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Limits:
    """Ramp (MW/s over `ramp_window_s`) and oscillation (MW amplitude per band, Hz) limits."""

    ramp_mw_per_s: float = 1.0
    ramp_window_s: float = 1.0
    bands_hz: tuple[tuple[float, float, float], ...] = field(default=((0.1, 5.0, 0.5),))
    """(low Hz, high Hz, MW amplitude allowed). Assumption: 0.5 MW in 0.1-5 Hz, the sub-synchronous range grid
    studies of training loads watch; no utility figure is in the reference folder."""


def ramp_rate(kw: np.ndarray, hz: float, window_s: float = 1.0) -> float:
    """Largest |P(t + window) - P(t)| / window over the series, MW/s."""
    lag = max(1, int(round(window_s * hz)))
    if kw.size <= lag:
        return 0.0
    return float(np.max(np.abs(kw[lag:] - kw[:-lag]))) / 1000.0 / (lag / hz)


def band_amplitudes(kw: np.ndarray, hz: float, bands: tuple[tuple[float, float], ...]) -> list[float]:
    """Largest single-sided FFT amplitude (MW) in each band [lo, hi) Hz of the mean-removed series."""
    x = np.asarray(kw, dtype=float) / 1000.0
    spec = np.abs(np.fft.rfft(x - x.mean())) * 2.0 / x.size
    freq = np.fft.rfftfreq(x.size, d=1.0 / hz)
    out = []
    for lo, hi in bands:
        m = (freq >= lo) & (freq < hi)
        out.append(float(spec[m].max()) if m.any() else 0.0)
    return out


def check(kw: np.ndarray, hz: float, limits: Limits) -> dict:
    """Ramp and band amplitudes against the limits: values, limits and whether each holds."""
    ramp = ramp_rate(kw, hz, limits.ramp_window_s)
    amps = band_amplitudes(kw, hz, tuple((lo, hi) for lo, hi, _ in limits.bands_hz))
    bands = [{"band_hz": (lo, hi), "amplitude_mw": a, "limit_mw": lim, "ok": a <= lim * (1 + 1e-6)}
             for (lo, hi, lim), a in zip(limits.bands_hz, amps)]
    return {"ramp_mw_per_s": ramp, "ramp_limit_mw_per_s": limits.ramp_mw_per_s,
            "ramp_ok": ramp <= limits.ramp_mw_per_s * (1 + 1e-6), "bands": bands,
            "ok": ramp <= limits.ramp_mw_per_s * (1 + 1e-6) and all(b["ok"] for b in bands)}


__all__ = ["Limits", "ramp_rate", "band_amplitudes", "check"]
