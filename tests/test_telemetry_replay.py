"""Replay: `twin.simulate(facility, drive=measured)` runs on the measured load and weather, beside the measurement."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import twin
from twin.calibration import metrics
from twin.state import StateError

from conftest import small_facility


@pytest.fixture(scope="module")
def truth():
    site = small_facility()
    u = np.random.default_rng(2).uniform(0.1, 0.95, (48, 4))
    sim = twin.simulate(site, weather="phoenix", hours=48, utilization=u, per_rack=True, start="2025-07-01")
    return site, u, sim


def measured_from(sim, **variables):
    coords = {"time": sim.time.values, "rack": sim.rack.values}
    return xr.Dataset({k: (v.dims if hasattr(v, "dims") else ("time", "rack"), np.asarray(v, dtype=float))
                       for k, v in variables.items()}, coords=coords, attrs={"freq": "1h"})


def test_replay_of_the_twins_own_load_reproduces_it_and_puts_measurements_beside(truth):
    site, u, sim = truth
    meas = measured_from(sim, rack_utilization=u, grid_power_kw=sim.grid_power_kw, dry_bulb_c=sim.dry_bulb_c,
                         wet_bulb_c=sim.wet_bulb_c)
    ds = twin.simulate(site, drive=meas)
    assert np.allclose(ds.grid_power_kw, ds.grid_power_kw_measured, rtol=1e-9)
    assert ds.attrs["drive"].startswith("measured rack_utilization of 4 of 4 racks")
    table = metrics.compare(ds)
    assert table["variable"].tolist() == ["grid_power_kw"]          # drivers are not scored
    assert table["cv_rmse_pct"].iloc[0] < 1e-6 and ds.twin.conservation_error() < 1e-9


def test_rack_power_and_it_power_drive_through_the_twins_power_model(truth):
    site, u, sim = truth
    by_rack = twin.simulate(site, drive=measured_from(sim, rack_power_kw=sim.rack_power_kw))
    assert np.allclose(by_rack.rack_power_kw, sim.rack_power_kw, rtol=1e-5)
    by_it = twin.telemetry.drive.replay(site, measured_from(sim, it_power_kw=sim.it_power_kw, grid_power_kw=sim.grid_power_kw),
                                        by="it_power_kw")
    assert np.allclose(by_it.it_power_kw, sim.it_power_kw, rtol=1e-6)   # one facility-wide utilization, same IT power
    assert "through the twin's rack power model" in by_it.attrs["drive"]


def test_unmeasured_racks_follow_the_measured_mean_and_out_of_reach_power_is_reported(truth):
    site, u, sim = truth
    part = measured_from(sim, rack_utilization=u).isel(rack=[0, 1])
    ds = twin.simulate(site, drive=part)
    assert "2 of 4 racks" in ds.attrs["drive"] and "follow the measured mean" in ds.attrs["drive"]
    assert np.isnan(ds.rack_utilization_measured.sel(rack=sim.rack.values[2])).all()
    # identical racks, power affine in utilization: the unmeasured rack draws the mean of the two measured ones
    p = ds.rack_power_kw.values.astype(float)
    calm = (ds.rack_throttle.values == 1).all(axis=1)
    assert calm.sum() > 10 and np.allclose(p[calm, 2], (p[calm, 0] + p[calm, 1]) / 2, rtol=1e-5)
    too_much = measured_from(sim, rack_power_kw=sim.rack_power_kw * 1.5)
    assert "beyond the model's idle..full-load range clipped" in twin.simulate(site, drive=too_much).attrs["drive"]


def test_measured_dry_bulb_replaces_the_climate_and_keeps_a_humidity(truth):
    site, u, sim = truth
    hot = sim.dry_bulb_c + 5.0
    ds = twin.simulate(site, drive=measured_from(sim, rack_utilization=u, dry_bulb_c=hot))
    assert np.allclose(ds.dry_bulb_c, hot)
    assert (ds.wet_bulb_c <= ds.dry_bulb_c + 1e-9).all() and "measured dry_bulb_c" in ds.attrs["weather_source"]


def test_nothing_to_drive_with_is_a_clear_error(truth):
    site, u, sim = truth
    with pytest.raises(StateError, match="nothing to drive the twin with; it needs one of rack_utilization"):
        twin.simulate(site, drive=measured_from(sim, grid_power_kw=sim.grid_power_kw))
