"""Water of evaporative heat rejection: tower evaporation from an air-side energy balance, blowdown by
cycles of concentration, and the spray of adiabatic dry coolers.

Cooling tower (reference/cooling_physics.yaml `evaporation_per_kWh_rejected`, `makeup_blowdown_drift`):
air enters at the site's (dry bulb, wet bulb) and leaves saturated at the mean water temperature
(assumption: leaving air in equilibrium with the water halfway through the tower's range). Per kg of dry
air the tower picks up dh of enthalpy and dW of water, so the share of the heat that leaves as latent heat
is h_fg dW / dh: above 1 in hot, dry air (the air is also cooled), about 0.5-0.7 in cold weather.
Evaporation E = share x 3600 / h_fg litres per kWh rejected; makeup = E x CoC / (CoC - 1) (blowdown
E / (CoC - 1), drift neglected: 0.01-0.2 % of circulation per the reference).

Adiabatic assist (reference `adiabatic_cooler_water_use`): above the ambient where the dry coil can no longer
deliver its target, water sprayed on the inlet pads cools the air towards its wet bulb,
T_air = T_db - effectiveness x (T_db - T_wb); the water evaporated is the sensible heat removed from the air,
per kWh rejected (T_db - T_air) / (air range x h_fg) x 3600 litres.

>>> round(float(tower_litres_per_kwh(35.0, 24.0, 30.0, range_c=5.56, cycles=4.0)), 2)
2.14
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.weather import psychro

SECONDS_PER_HOUR = 3600.0


def latent_share(dry_bulb_c: Any, wet_bulb_c: Any, water_c: Any) -> np.ndarray:
    """Share of the heat a wet tower rejects as latent heat, air leaving saturated at `water_c`."""
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.minimum(np.asarray(wet_bulb_c, dtype=float), db)
    tw = np.maximum(np.asarray(water_c, dtype=float), wb + 0.5)  # the leaving air is warmer than the entering wet bulb
    w_in = psychro.humidity_ratio(db, wb)
    w_out = np.maximum(psychro.saturation_humidity_ratio(tw), w_in)
    dh = psychro.enthalpy_kj_per_kg(tw, w_out) - psychro.enthalpy_kj_per_kg(db, w_in)
    latent = psychro.latent_heat_kj_per_kg(tw) * (w_out - w_in)
    return np.clip(np.divide(latent, dh, out=np.ones(np.broadcast(latent, dh).shape), where=dh > 1e-6), 0.0, 2.0)


def evaporation_l_per_kwh(dry_bulb_c: Any, wet_bulb_c: Any, water_c: Any) -> np.ndarray:
    """Litres evaporated per kWh rejected by a wet tower whose water averages `water_c`."""
    return latent_share(dry_bulb_c, wet_bulb_c, water_c) * SECONDS_PER_HOUR / psychro.latent_heat_kj_per_kg(water_c)


def tower_litres_per_kwh(dry_bulb_c: Any, wet_bulb_c: Any, leaving_water_c: Any, *, range_c: float,
                         cycles: float) -> np.ndarray:
    """Makeup water (evaporation + blowdown) per kWh rejected: tower water leaving at `leaving_water_c`."""
    mean_water = np.asarray(leaving_water_c, dtype=float) + range_c / 2.0
    return evaporation_l_per_kwh(dry_bulb_c, wet_bulb_c, mean_water) * cycles / (cycles - 1.0)


def adiabatic_air_c(dry_bulb_c: Any, wet_bulb_c: Any, effectiveness: float) -> np.ndarray:
    """Inlet air behind wetted pads: dry bulb lowered by `effectiveness` of the wet-bulb depression."""
    db = np.asarray(dry_bulb_c, dtype=float)
    return db - effectiveness * (db - np.minimum(np.asarray(wet_bulb_c, dtype=float), db))


def spray_litres_per_kwh(dry_bulb_c: Any, air_c: Any, air_range_c: float) -> np.ndarray:
    """Water sprayed per kWh rejected to cool the coil's air from `dry_bulb_c` to `air_c`."""
    drop = np.maximum(np.asarray(dry_bulb_c, dtype=float) - np.asarray(air_c, dtype=float), 0.0)
    return drop / air_range_c * SECONDS_PER_HOUR / psychro.latent_heat_kj_per_kg(air_c)


__all__ = ["latent_share", "evaporation_l_per_kwh", "tower_litres_per_kwh", "adiabatic_air_c", "spray_litres_per_kwh"]
