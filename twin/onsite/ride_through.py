"""Ride-through on grid loss: for each failure of an N-1 scan, which racks only on-site batteries and generators
still reach, and for how many seconds they carry them.

Rules (assumptions): batteries are full when the grid goes (autonomy is rated at full
charge) and deliver energy x sqrt(round-trip efficiency); they carry the load only if their summed rating covers it
(an inverter above its rating trips). Generators take over after their start time (NFPA 110 Type 10: 10 s) if their
summed rating covers the load and the batteries bridged that long; they then run until their tanks are empty
(unlimited without `fuel_l`). The load is the rack power at its cap of the racks carried (chain losses and cooling
are not counted, so the figure is optimistic by the facility's overhead). Sources are pooled over the racks they
reach with every device up.
(tests/test_ride_through.py works the cases through by hand.)
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from twin.contingency import Network, Outages
    from twin.facility import Facility


def ride_through(facility: Facility, net: Network, out: Outages, vals: dict[str, Any]) -> pd.DataFrame:
    """(scenario) racks_on_backup (racks without a grid path that on-site sources reach) and ride_through_s
    (seconds they carry them; inf with generators of unlimited fuel; nan where no rack needs them)."""
    from twin.contingency import BATCH_ROWS, _minus, _ones, _pattern, _weights, dead_after, rack_fate
    from twin.onsite import table

    src = dataclasses.replace(net, needs_power=net.needs_power & ~net.backup)   # on-site sources need no feed
    idx = np.flatnonzero(net.backup)
    spec = table(facility).reindex(net.devices[idx])
    start = _pattern(np.arange(idx.size), idx, (idx.size, net.n_devices))
    reach = _weights(src, start).toarray() > 0                                       # (source x block)
    count, kw = net.blocks["count"].to_numpy(float), vals["kw"]
    grid_lost = out.lost
    on_backup, load = np.zeros(len(out.failed)), np.zeros(len(out.failed))
    used = np.zeros((len(out.failed), idx.size), dtype=bool)
    for lo in range(0, len(out.failed), BATCH_ROWS):
        chunk = out.failed[lo:lo + BATCH_ROWS]
        dead = dead_after(src, chunk)
        unfed, uncooled = rack_fate(src, dead)
        bridged = _minus(grid_lost[lo:lo + len(chunk)], _ones(unfed + uncooled))   # lost on grid, kept on sources
        on_backup[lo:lo + len(chunk)] = bridged @ count
        load[lo:lo + len(chunk)] = bridged @ (count * kw)
        used[lo:lo + len(chunk)] = dead.alive(idx) & ((bridged @ reach.T) > 0)
    is_bat = (spec["kind"] == "battery").to_numpy()
    col = (lambda name: spec[name].to_numpy(float) if name in spec else np.zeros(idx.size))
    rating = col("rating_kw")
    energy = np.where(is_bat, np.nan_to_num(col("energy_kwh")) * np.sqrt(np.nan_to_num(col("round_trip_efficiency"))), 0.0)
    bat = used & is_bat[None, :]
    gen = used & ~is_bat[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        bat_s = np.where((bat @ rating >= load) & (load > 0), (bat @ energy) * 3600.0 / load, 0.0)
        start_s = np.where(gen, np.nan_to_num(col("start_s"))[None, :], -np.inf).max(axis=1, initial=-np.inf)
        tank = np.where(gen, col("fuel_l")[None, :], 0.0).sum(axis=1)
        gen_kw = gen @ rating
        l_per_kwh = np.where(gen_kw > 0, gen @ (rating * np.nan_to_num(col("fuel_l_per_kwh"))) / gen_kw, 0.0)
        fuel_s = np.where(np.isinf(tank), np.inf, tank / (l_per_kwh * load) * 3600.0)
        takes_over = gen.any(axis=1) & (gen_kw >= load) & (start_s <= bat_s)
        seconds = np.where(takes_over, start_s + fuel_s, bat_s)
    seconds = np.where(load > 0, seconds, np.nan)
    return pd.DataFrame({"racks_on_backup": on_backup.round().astype(np.int64),
                         "ride_through_s": seconds}, index=pd.Index(net.devices[out.failed], name="device"))


__all__ = ["ride_through"]
