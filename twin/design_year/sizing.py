"""Free-cooling plant sized for a design year: dry coolers and towers that take heat straight from in-hall
units (no chiller ahead of them) must reject their racks' full-load heat in every hour that has to hold.

A free-cooling unit rejects at most rating x (max water - ambient) / approach (`free_capacity_kw`), so the
rating it needs per kW of heat is set by the hottest hour that must hold: the (allowed + 1)-th hottest in its
ambient basis. Where no rating is enough (ambient at or above the water the racks accept) or the rating
would exceed MAX_FREE_OVERSIZE x the heat, the chain gets a trim chiller ahead of the free cooler (a
chiller with a waterside economizer, as `twin.physics.cooling` models it).

>>> import numpy as np
>>> from twin.catalog import default_catalog
>>> dry = default_catalog().heat_rejection("dry_cooler")
>>> round(free_cooling_factor(dry, 36.0, np.array([20.0, 30.0]), np.array([15.0, 20.0])), 3)
0.925
>>> climate_chain(default_catalog(), ("dry_cooler",), 36.0, np.array([38.0]), np.array([22.0]))
(('chiller_water_cooled', 'dry_cooler'), 1.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from twin.physics import PhysicsError
from twin.physics.cooling import free_capacity_kw

if TYPE_CHECKING:
    import xarray as xr

    from twin.catalog import Catalog, CoolingTech, HeatRejection, System
    from twin.facility import Facility

MAX_FREE_OVERSIZE = 2.0
"""Assumption: beyond twice the rating its heat needs at the design approach, a free-cooling plant gets a
trim chiller instead of more coil (a sizing rule of thumb, not sourced)."""
TRIM_CHILLER = "chiller_water_cooled"
"""The chiller put ahead of a free cooler that cannot hold the design year alone."""


def max_water_c(tech: CoolingTech, spec: System, air: CoolingTech | None = None) -> float:
    """Warmest facility water a unit of `tech` (or the residual-air units of `air`) can take for racks of
    `spec`: the system's coolant (or inlet air) limit less the unit's supply-over-facility-water offset."""
    unit = air if air is not None else tech
    limit = spec.max_inlet_air_c if unit.medium != "liquid" else spec.max_coolant_supply_c
    limit = float(limit) if limit is not None else np.inf
    return limit - (unit.supply_temp_c - unit.facility_supply_c)


def free_cooling_factor(unit: HeatRejection, max_water: float, dry_bulb_c: Any, wet_bulb_c: Any,
                        allowed: int = 0) -> float:
    """kW of rating per kW of heat a free-cooling unit needs to reject it in every hour but the `allowed`
    hottest; inf when one of those hours leaves no headroom at all."""
    per_rating = np.atleast_1d(free_capacity_kw(unit, 1.0, max_water, dry_bulb_c, wet_bulb_c))
    k = min(int(allowed), per_rating.size - 1)
    worst = float(np.partition(per_rating, k)[k])
    return 1.0 / worst if worst > 0 else float("inf")


def climate_chain(catalog: Catalog, chain: Sequence[str], max_water: float, dry_bulb_c: Any, wet_bulb_c: Any,
                  allowed: int = 0) -> tuple[tuple[str, ...], float]:
    """The heat-rejection chain to build for a design year, and its free cooler's rating per kW of heat.

    A chain that starts with a chiller is kept (factor 1); a free cooler that holds the year within
    MAX_FREE_OVERSIZE is kept with its factor; otherwise TRIM_CHILLER goes ahead of it (factor 1).
    """
    chain = tuple(chain)
    first = catalog.heat_rejection(chain[0])
    if first.kind == "chiller":
        return chain, 1.0
    factor = free_cooling_factor(first, max_water, dry_bulb_c, wet_bulb_c, allowed)
    if factor <= MAX_FREE_OVERSIZE:
        return chain, max(factor, 1.0)
    return (TRIM_CHILLER,) + chain[:1], 1.0


def size_free_cooling(facility: Facility, weather: xr.Dataset | None = None, *, allowed: int = 0,
                      at_most: float | None = None) -> dict[str, float]:
    """Raise the ratings of free-cooling units fed by in-hall units until they reject their racks' full-load
    heat in every hour of the design year but the `allowed` hottest; returns each re-rated unit's factor.

    Units sharing the same in-hall units are scaled together (they split heat by rating). Without
    `at_most`, raises PhysicsError naming the unit when no rating is enough; with it, no unit grows beyond
    `at_most` x its rating and the hours it still cannot hold are left for `twin check` to report.
    """
    import scipy.sparse as sp

    from twin.design_year import design_weather
    from twin.physics.topology import build

    year = weather if weather is not None else design_weather(facility)
    db = year["dry_bulb_c"].values.astype(float)
    wb = year["wet_bulb_c"].values.astype(float)
    topo = build(facility)
    if not topo.limited.size:
        return {}
    kw = np.nan_to_num(topo.racks["nameplate_kw"].to_numpy(dtype=float))
    to_plant = topo.unit_to_plant[topo.limited] @ sp.diags(1.0 + topo.unit_k)
    heat = to_plant @ (topo.rack_to_unit @ kw)
    feeds = topo.unit_to_plant[topo.limited].tocsr()
    sets: dict[tuple, list[int]] = {}
    for j in range(topo.limited.size):
        sets.setdefault(tuple(feeds.indices[feeds.indptr[j]:feeds.indptr[j + 1]]), []).append(j)
    nodes = facility.graph.nodes
    out: dict[str, float] = {}
    for members in sets.values():
        need = 0.0
        for j in members:
            p = topo.limited[j]
            device = topo.cool_ids[topo.n_units + p]
            per_kw = free_cooling_factor(topo.plant_models[p], topo.limited_max_water[j], db, wb, allowed)
            if not np.isfinite(per_kw) and heat[j] > 0 and at_most is None:
                raise PhysicsError(f"{device}: no rating lets this {topo.cool_kind[topo.n_units + p]} reject heat "
                                   f"for {topo.limited_max_water[j]:g} °C water in the design year's hottest hours; "
                                   "put a chiller ahead of it or allow throttle hours")
            rating = float(nodes[device]["rating_kw"])
            need = max(need, heat[j] * per_kw / rating if rating > 0 else 0.0)
        need = min(need, at_most) if at_most is not None else need
        if need > 1.0:
            for j in members:
                device = topo.cool_ids[topo.n_units + topo.limited[j]]
                nodes[device]["rating_kw"] = float(nodes[device]["rating_kw"]) * float(need)
                out[device] = need
    return out


__all__ = ["MAX_FREE_OVERSIZE", "TRIM_CHILLER", "max_water_c", "free_cooling_factor", "climate_chain",
           "size_free_cooling"]
