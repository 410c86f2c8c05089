"""Battery and generator ride-through in the N-1 scan: seconds of grid loss survived, computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.test_contingency import RACK_KW, tiny
from twin.contingency import scan

LOAD = 4 * RACK_KW                          # the four racks at TDP, kW


def with_backup(battery_kw: float = 1000.0, energy_kwh: float = 100.0, generator: dict | None = None):
    """tiny() with a battery (81 % round trip: 90 % out) beside the grid on both UPS, and optionally a generator."""
    f = tiny()
    f.add_device("bess-1", "battery", rating_kw=battery_kw, energy_kwh=energy_kwh, round_trip_efficiency=0.81,
                 fed_by=["grid"])
    sources = ["bess-1"]
    if generator is not None:
        f.add_device("gen-1", "generator", **generator)
        sources.append("gen-1")
    for ups in ("ups-a", "ups-b"):
        for s in sources:
            f.connect(s, ups, "power")
    return f


def test_battery_carries_the_racks_for_its_energy_over_their_power():
    t = scan(with_backup()).table
    row = t.loc["grid"]
    assert row["racks_unpowered"] == 4 and row["racks_on_backup"] == 4     # lost without grid, carried meanwhile
    assert row["ride_through_s"] == pytest.approx(100 * 0.9 * 3600 / LOAD, rel=1e-9)      # ~613 s
    assert math.isnan(t.loc["ups-a", "ride_through_s"]) and t.loc["ups-a", "racks_on_backup"] == 0
    assert t.loc["bess-1", "racks_lost"] == 0 and t.loc["bess-1", "dead_devices"] == 1


def test_a_battery_rated_below_the_load_trips_at_once():
    assert scan(with_backup(battery_kw=0.5 * LOAD)).table.loc["grid", "ride_through_s"] == 0.0


def test_a_generator_started_within_the_battery_runs_until_its_tank_is_empty():
    """NFPA 110 Type 10 start (10 s, the default) inside the battery's 613 s; 100 L at 0.255 L/kWh (default)."""
    t = scan(with_backup(generator={"rating_kw": 1000, "fuel_l": 100.0})).table
    assert t.loc["grid", "ride_through_s"] == pytest.approx(10 + 100 / (0.255 * LOAD) * 3600, rel=1e-9)
    unlimited = scan(with_backup(generator={"rating_kw": 1000})).table
    assert np.isinf(unlimited.loc["grid", "ride_through_s"])


def test_a_generator_slower_than_the_battery_leaves_the_racks_dark_first():
    """1 kWh lasts 6.1 s: the 10 s start comes too late, so ride-through is the battery's alone."""
    t = scan(with_backup(energy_kwh=1.0, generator={"rating_kw": 1000})).table
    assert t.loc["grid", "ride_through_s"] == pytest.approx(0.9 * 3600 / LOAD, rel=1e-9)


def test_without_backup_the_scan_has_no_ride_through_columns():
    assert "ride_through_s" not in scan(tiny()).table.columns


def test_generators_without_a_feed_stay_out_of_every_scenario_row():
    """An unfed generator is dead with nothing failed: it is kept once (the cascade's base), not in each row,
    so the scan's dead entries are only what each failure kills itself."""
    from twin.contingency import dead_after, network
    from twin.contingency_check import dead_devices

    f = with_backup(generator={"rating_kw": 1000})
    net = network(f)
    gone = dead_after(net, np.arange(net.n_devices))
    gen = list(net.devices).index("gen-1")
    assert gone.base[gen] and gone.base.sum() == 1
    assert gone.extra[:, gen].nnz == 0
    plain = with_backup()                                     # the same site without it: what the graph walk says dies
    for r, device in enumerate(net.devices):
        if device != "gen-1":
            assert set(net.devices[gone.extra[r].indices]) == dead_devices(plain, device), device
