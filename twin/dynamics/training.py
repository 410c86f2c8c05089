"""A synchronous training job's power at >= 10 Hz: every GPU in lockstep through compute and communication phases,
checkpoint dips and start/stop ramps, times the GPU count, plus the power that does not swing.

Shape (all parameters of `TrainingJob`, defaults labelled assumptions): each iteration spends `comm_share` of its
`iteration_s` in communication at `comm_fraction` of the compute utilization (arXiv 2508.14318 shows production H100 jobs
swinging between the two every iteration; the figures here are illustrative, not read off its plots); every
`checkpoint_every_s` the GPUs idle for `checkpoint_s` (both rounded to whole iterations); the job ramps linearly from idle over `ramp_s` at its start
and back at its end (NVIDIA's GB300 power smoothing ramps the start and holds a floor at the end, reference
power_chain.yaml). GPU power at compute is the cap (TDP by default), at idle the catalog's idle power; node overheads
beyond the GPUs follow `twin.physics.gpu` (half fixed, half following GPU power).

>>> from twin.catalog import default_catalog
>>> job = TrainingJob(gpus=72, system="gb200_nvl72")
>>> t, kw = job_power(job, default_catalog(), seconds=20, hz=10, steady=True)
>>> t.size, round(float(kw.max()), 1), round(float(kw.min()), 1)
(200, 132.0, 81.4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twin.physics import PhysicsError, gpu

if TYPE_CHECKING:
    from twin.catalog import Catalog

MIN_HZ = 10.0


@dataclass(frozen=True)
class TrainingJob:
    """A synchronous training job: how many GPUs of which system, and its power pattern (see the module docstring)."""

    gpus: int
    system: str = "gb200_nvl72"
    iteration_s: float = 2.0          # assumption: a 2 s step of a large LLM pre-training job
    comm_share: float = 0.3           # assumption: 30 % of each step in all-reduce / pipeline bubbles
    comm_fraction: float = 0.45       # assumption: GPU power in communication, share of compute power above idle
    checkpoint_every_s: float = 1800.0  # assumption: a checkpoint every 30 min
    checkpoint_s: float = 30.0        # assumption: GPUs idle 30 s while it is written
    ramp_s: float = 10.0              # assumption: start and stop ramps of 10 s
    start_s: float = 0.0              # job starts at this second of the window
    stop_s: float | None = None       # and stops here (None: runs past the window)
    cap_w: float | None = None        # GPU power cap (None: TDP)

    def __post_init__(self) -> None:
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, (int, np.integer)) or self.gpus <= 0:
            raise PhysicsError(f"TrainingJob.gpus={self.gpus!r} must be a positive whole number")
        for name in ("iteration_s", "checkpoint_every_s"):
            if not getattr(self, name) > 0:
                raise PhysicsError(f"TrainingJob.{name}={getattr(self, name)!r} must be > 0 seconds")
        if not 0 <= self.comm_share < 1 or not 0 <= self.comm_fraction <= 1:
            raise PhysicsError("TrainingJob.comm_share must be in [0, 1) and comm_fraction in [0, 1]")
        if not 0 <= self.checkpoint_s < self.checkpoint_every_s or self.ramp_s < 0:
            raise PhysicsError("TrainingJob.checkpoint_s must be in [0, checkpoint_every_s) and ramp_s >= 0")


def job_power(job: TrainingJob, catalog: Catalog, *, seconds: float = 3600.0, hz: float = MIN_HZ,
              steady: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(time s, rack power kW) of the job at `hz` (>= 10) over `seconds`; `steady` leaves out checkpoints and ramps
    (the periodic iteration pattern alone). Vectorized: one array operation per phase, never a loop per GPU."""
    if hz < MIN_HZ:
        raise PhysicsError(f"hz={hz!r}: the swing model needs at least {MIN_HZ:g} samples per second")
    n = int(round(seconds * hz))
    if n <= 0 or n > 200_000_000:
        raise PhysicsError(f"seconds x hz = {n} samples; give a window of 1 to 2e8 samples")
    spec = catalog.system(job.system)
    cap = spec.gpu_tdp_w if job.cap_w is None else job.cap_w
    nodes = job.gpus / spec.gpus_per_node
    fixed, dyn = gpu.rack_power_terms_kw(spec, nodes, cap)          # kW of all the job's nodes (+ rack overhead once)
    racks = job.gpus / (spec.gpus_per_node * max(spec.nodes_per_rack))
    fixed = fixed + max(racks - 1.0, 0.0) * spec.rack_overhead_w / 1000.0
    i = np.arange(n, dtype=float)
    t = i / hz
    per_iter = job.iteration_s * hz                 # samples per iteration; phases from the sample index, exact
    phase = np.mod(i, per_iter) / per_iter
    util = np.where(phase < 1.0 - job.comm_share, 1.0, job.comm_fraction)
    if not steady:
        util = np.where(in_checkpoint(job, t, hz), 0.0, util)
        up = np.clip((t - job.start_s) / job.ramp_s, 0.0, 1.0) if job.ramp_s > 0 else (t >= job.start_s).astype(float)
        level = up
        if job.stop_s is not None:
            down = np.clip((job.stop_s - t) / job.ramp_s, 0.0, 1.0) if job.ramp_s > 0 else (t < job.stop_s).astype(float)
            level = np.minimum(up, down)
        util = util * level
    return t, fixed + dyn * util


def in_checkpoint(job: TrainingJob, t: np.ndarray, hz: float) -> np.ndarray:
    """Samples inside a checkpoint: the last `checkpoint_s` (in whole iterations) of every `checkpoint_every_s`
    (in whole iterations), so a checkpoint starts and ends on an iteration boundary."""
    every, dip = iterations(job)
    k = np.floor(np.round(np.asarray(t) * hz) / (job.iteration_s * hz) + 1e-9).astype(np.int64)
    return np.mod(k, every) >= every - dip


def iterations(job: TrainingJob) -> tuple[int, int]:
    """(iterations between checkpoint starts, iterations a checkpoint lasts)."""
    every = max(1, int(round(job.checkpoint_every_s / job.iteration_s)))
    return every, min(every - 1, int(round(job.checkpoint_s / job.iteration_s)))


__all__ = ["TrainingJob", "job_power", "in_checkpoint", "iterations", "MIN_HZ"]
