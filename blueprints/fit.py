"""Fitting a parametric site to its grid limit through its design year: as many identical racks as the grid
holds at full load in every hour that can bind (the year's non-dominated hours), measured on a one-hall
probe with the twin's own physics instead of an assumed PUE, then checked on the whole site.

>>> from blueprints.parametric import ai_factory
>>> import twin
>>> site = ai_factory(grid_mw=5, system="gb200_nvl72", climate="phoenix")
>>> twin.check(site).over_grid_hours
0
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

FIT_ROUNDS = 3


def binding_weather(year: xr.Dataset) -> xr.Dataset:
    """The hours of a design year that can bind (no other hour is both hotter and more humid)."""
    from twin.design_year import non_dominated

    return year.isel(time=np.sort(non_dominated(year["dry_bulb_c"].values, year["wet_bulb_c"].values)))


def racks_within(grid_kw: float, rack_kw: float, probe: Callable[[int], Facility], per_hall: int,
                 hours: xr.Dataset) -> int:
    """Racks of `rack_kw` the grid holds at every hour of `hours`: a probe site of one full hall (`probe(n)`
    lays out n racks as the real site would) gives the grid kW per kW of IT (as a ratio, so a probe that
    throttles does not look lighter than its racks) and the auxiliary kW per hall."""
    from twin.simulation import aux_power_kw

    site = probe(per_hall)
    ds = _year(site, hours)
    per_rack = rack_kw * float(((ds["grid_power_kw"] - ds["aux_power_kw"]) / ds["it_power_kw"]).max())
    aux = aux_power_kw(site)
    total = int(max(grid_kw - aux, 0.0) // per_rack)
    for _ in range(FIT_ROUNDS):
        total = int(max(grid_kw - aux * max(1, math.ceil(total / per_hall)), 0.0) // per_rack)
    return total


def trim_to_grid(facility: Facility, hours: xr.Dataset) -> int:
    """Empty the last racks until the site holds its grid limit at every hour of `hours`; returns how many."""
    limit = float(facility.grid_limit_mw) * 1000.0
    emptied = 0
    for _ in range(FIT_ROUNDS):
        peak = float(_year(facility, hours)["grid_power_kw"].max())
        if peak <= limit:
            break
        racks = facility.table("rack")
        full = racks.index[racks["system"].notna()]
        per_rack = float(np.nanmax(racks["nameplate_kw"].to_numpy(dtype=float))) * peak / max(
            float(np.nansum(racks["nameplate_kw"].to_numpy(dtype=float))), 1e-9)
        take = min(len(full), max(1, math.ceil((peak - limit) / per_rack)))
        facility.populate(list(full[len(full) - take:]), None)
        emptied += take
    return emptied


def _year(facility: Facility, hours: xr.Dataset) -> xr.Dataset:
    from twin.design_year.assess import power_workload
    from twin.simulation import simulate

    return simulate(facility, weather=hours, workload=power_workload(), hours=hours.sizes["time"], utilization=1.0,
                    per_rack=False, per_device=False)


__all__ = ["FIT_ROUNDS", "binding_weather", "racks_within", "trim_to_grid"]
