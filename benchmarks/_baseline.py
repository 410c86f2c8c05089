"""The fixed numpy kernel a benchmark times in its own process, so its runs can be read against the machine's load."""

from __future__ import annotations

import time

import numpy as np


def baseline_kernel() -> float:
    """Seconds for a fixed numpy workload like the engine: elementwise work on a (8760 x 500) float64 array, twice."""
    a = np.linspace(0.0, 1.0, 8760 * 500).reshape(8760, 500)
    t = time.perf_counter()
    for _ in range(2):
        b = np.maximum(a * 1.0001, 0.3) ** 3 + a / (a + 1.0)
        b.sum(axis=1)
    return time.perf_counter() - t
