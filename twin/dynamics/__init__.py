"""Sub-second power of synchronous training and what smooths it for the grid.

- `training`: a job's facility power at >= 10 Hz: compute and communication phases of every iteration, checkpoint
  dips, start and stop ramps, all GPUs in lockstep (arXiv 2508.14318: synchronous jobs swing between a
  compute-heavy and a communication-heavy phase every iteration).
- `smoothing`: the layers a site can buy, applied to that series: a GPU power floor (GPUs burn up to it), rack
  energy storage and a battery following a schedule, with their power, energy and burned energy.
- `checks`: the grid's limits: ramp rate (MW/s) and oscillation amplitude per frequency band (FFT).
The cheapest floor and storage that meet given limits is an LP (`models.smoothing`, `solvers.smoothing`).
"""

from __future__ import annotations

from twin.dynamics.checks import Limits, band_amplitudes, check, ramp_rate
from twin.dynamics.training import TrainingJob, job_power

__all__ = ["TrainingJob", "job_power", "Limits", "band_amplitudes", "ramp_rate", "check"]
