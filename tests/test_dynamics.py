"""Training power swings: the waveform follows the job's parameters, the checks measure what they say, and the
smoothing LP's sizes pass when the hour is re-simulated (and cost no more than the best floor alone)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from solvers.smoothing import smoothing
from twin.catalog import default_catalog
from twin.dynamics import Limits, TrainingJob, band_amplitudes, job_power, ramp_rate
from twin.physics import gpu

CAT = default_catalog()
JOB = TrainingJob(gpus=72 * 64, system="gb200_nvl72", iteration_s=2.0, comm_share=0.3, comm_fraction=0.45)


def swing_kw(job: TrainingJob) -> float:
    """Compute minus communication power: dynamic rack power x (1 - comm_fraction), from the GPU physics."""
    spec = CAT.system(job.system)
    _, dyn = gpu.rack_power_terms_kw(spec, job.gpus / spec.gpus_per_node, spec.gpu_tdp_w)
    return float(dyn) * (1 - job.comm_fraction)


@pytest.mark.parametrize("iteration_s,comm_share", [(2.0, 0.3), (4.0, 0.5), (1.0, 0.2)])
def test_square_wave_amplitude_and_period_follow_the_job(iteration_s, comm_share):
    """A rectangular wave of height H, M of N samples high: fundamental at 1/iteration Hz with single-sided amplitude
    2 H |sin(pi M / N)| / (N |sin(pi / N)|); every other bin is weaker."""
    job = dataclasses.replace(JOB, iteration_s=iteration_s, comm_share=comm_share)
    hz, n = 10.0, int(iteration_s * 10)
    t, kw = job_power(job, CAT, seconds=120, hz=hz, steady=True)
    h = swing_kw(job)
    m = round((1 - comm_share) * n)
    expect = 2 * h * abs(np.sin(np.pi * m / n)) / (n * abs(np.sin(np.pi / n))) / 1000
    f0 = 1.0 / iteration_s
    assert band_amplitudes(kw, hz, ((f0 - 1e-3, f0 + 1e-3),))[0] == pytest.approx(expect, rel=1e-9)
    assert band_amplitudes(kw, hz, ((f0 + 1e-3, 5.0),))[0] < expect
    assert kw.max() - kw.min() == pytest.approx(h, rel=1e-9)
    assert ramp_rate(kw, hz, 1.0 if iteration_s >= 2 else 0.1) == pytest.approx(h / 1000 / (1.0 if iteration_s >= 2 else 0.1), rel=1e-9)


def test_checkpoints_and_ramps_show_in_the_hour():
    job = dataclasses.replace(JOB, checkpoint_every_s=600, checkpoint_s=20, ramp_s=30, start_s=0, stop_s=3000)
    t, kw = job_power(job, CAT, seconds=3600, hz=10)
    idle = kw[-1]
    assert kw[0] == pytest.approx(idle) and np.all(kw[t > 3000] == pytest.approx(idle))
    dip = (t >= 580) & (t < 600)
    assert np.all(kw[dip] == pytest.approx(idle))
    assert ramp_rate(kw[(t > 40) & (t < 570)], 10) == pytest.approx(swing_kw(job) / 1000, rel=1e-9)


def test_smoothing_meets_the_limits_when_the_hour_is_re_simulated():
    limits = Limits(ramp_mw_per_s=0.5, bands_hz=((0.1, 1.0, 0.2), (1.0, 5.0, 0.1)))
    s = smoothing(JOB, CAT, limits, seconds=3600)
    assert not s.before["ok"]
    assert s.after["ok"], s.after
    assert s.after["storage_kw_max"] <= s.storage_kw * (1 + 1e-6)
    assert s.cost_usd_per_year > 0


def test_smoothing_costs_no_more_than_the_best_floor_alone():
    """Storage priced out and ramps unlimited: only burning helps. A flat floor F cuts the swing to p_hi - F, so the
    least F meeting the band is p_hi - A N |sin(pi/N)| / (2 |sin(pi M/N)|) (fundamental); the LP, free to shape its
    burn, pays at most that floor's energy (and its verified hour meets the band)."""
    amp_mw = 0.3
    limits = Limits(ramp_mw_per_s=1e6, bands_hz=((0.1, 5.0, amp_mw),))
    s = smoothing(JOB, CAT, limits, seconds=600, usd_per_kw_year=1e9, usd_per_kwh_year=1e9)
    _, p = job_power(JOB, CAT, seconds=JOB.iteration_s, hz=10, steady=True)
    n, m = p.size, int(round((1 - JOB.comm_share) * p.size))
    floor = p.max() - amp_mw * 1000 * n * np.sin(np.pi / n) / (2 * np.sin(np.pi * m / n))
    burn_kw = np.maximum(floor - p, 0).mean()
    every = JOB.checkpoint_every_s / JOB.iteration_s
    dip = round(JOB.checkpoint_s / JOB.iteration_s)
    cost_floor = burn_kw * (1 - dip / every) * 8760 * 0.08
    assert s.after["ok"]
    assert s.storage_kw == pytest.approx(0.0, abs=1e-6)
    assert s.cost_usd_per_year <= cost_floor * (1 + 1e-6) + 1.0
