"""Utilization profiles: constant, diurnal, training swings, user arrays."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from twin.physics import PhysicsError, profiles


def hours(n, step="h"):
    """n time stamps one `step` apart from 2025-01-01 00:00."""
    return np.datetime64("2025-01-01T00:00") + np.arange(n) * np.timedelta64(1, step)


def test_diurnal_peaks_in_the_afternoon():
    t = hours(48)
    p = profiles.diurnal(t)
    assert p.argmax() % 24 == 14 and p.argmin() % 24 == 2
    assert p.min() == pytest.approx(0.45) and p.max() == pytest.approx(0.95)


def test_training_step_average_matches_fine_resolution():
    coarse = profiles.training(hours(24))
    fine = profiles.training(hours(24 * 60, "m"))
    assert np.allclose(coarse, fine.reshape(24, 60).mean(axis=1), atol=1e-12)
    assert fine.min() == pytest.approx(0.30) and fine.max() == pytest.approx(0.95)
    assert coarse.mean() == pytest.approx(0.95 - 0.65 * (1 / 3) / 3)


def test_resolve_accepts_names_numbers_pairs_arrays_and_dataarrays():
    t = hours(5)
    assert profiles.resolve("constant", t, 3).tolist() == [1.0] * 5
    assert profiles.resolve(0.4, t, 3).tolist() == [0.4] * 5
    assert profiles.resolve(("diurnal", {"low": 0.2, "high": 0.6}), t, 3).max() <= 0.6
    arr = np.linspace(0, 1, 15).reshape(5, 3)
    assert profiles.resolve(arr, t, 3).shape == (5, 3)
    da = xr.DataArray(arr[:, ::-1], dims=("time", "rack"), coords={"rack": ["c", "b", "a"]})
    assert np.allclose(profiles.resolve(da, t, 3, ["a", "b", "c"]), arr)


@pytest.mark.parametrize("bad,match", [
    ("weekly", "unknown utilization profile"),
    (np.ones((4,)), "shape"),
    (np.full(5, 1.2), "outside 0..1"),
    (("training", {"dip_h": 5}), "dip_h"),
    (("diurnal", {"nope": 1}), "diurnal"),
])
def test_bad_profiles_say_what_is_wrong(bad, match):
    with pytest.raises(PhysicsError, match=match):
        profiles.resolve(bad, hours(5), 3)
