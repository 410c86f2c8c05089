"""Psychrometric conversions between dry-bulb, dew point, relative humidity and wet-bulb (numpy, vectorized).

Saturation vapour pressure over water uses the Magnus form with the coefficients recommended by
Alduchov & Eskridge (1996), "Improved Magnus form approximation of saturation vapor pressure",
J. Appl. Meteor. 35, 601-609: e_s(T) = 6.1094 hPa * exp(17.625 T / (T + 243.04 °C)).
It is used above and below 0 °C (over water, as WMO reports humidity), so dew points, not frost points.

Wet-bulb comes from Stull (2011), "Wet-bulb temperature from relative humidity and air temperature",
J. Appl. Meteor. Climatol. 50, 2267-2269 (doi:10.1175/JAMC-D-11-0143.1): an empirical fit at
101.325 kPa, valid for RH 5-99 % and -20 to 50 °C (error -1 to +0.65 °C) except cold and dry air.
Outside that domain the fit can leave the physical bracket, so the result is clipped to
dew point <= wet-bulb <= dry-bulb. The fit ignores pressure: at Denver/Golden (~830 hPa) it
overstates the wet-bulb of dry air by up to about 1 °C, i.e. it errs on the warm (conservative) side.

The inverse, dew point from a measured wet-bulb, uses the psychrometer equation of WMO-No. 8
(Guide to Instruments and Methods of Observation, Annex 4.B, ventilated psychrometer):
e = e_s(Tw) - 6.53e-4 * (1 + 0.000944 Tw) * p * (T - Tw), with p in hPa.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

MAGNUS_A_HPA = 6.1094
MAGNUS_B = 17.625
MAGNUS_C_DEGC = 243.04
STANDARD_PRESSURE_HPA = 1013.25

__all__ = [
    "saturation_vapour_pressure_hpa",
    "relative_humidity_pct",
    "dew_point_from_rh_c",
    "dew_point_from_vapour_pressure_c",
    "wet_bulb_c",
    "dew_point_from_wet_bulb_c",
    "humidity_ratio",
    "saturation_humidity_ratio",
    "enthalpy_kj_per_kg",
    "latent_heat_kj_per_kg",
    "wet_bulb_from_dew_point_c",
]

#: ratio of the molar masses of water vapour and dry air (ASHRAE Handbook Fundamentals 2017, ch. 1)
WATER_AIR_MASS_RATIO = 0.621945


def saturation_vapour_pressure_hpa(t_c: ArrayLike) -> np.ndarray:
    """Saturation vapour pressure over water in hPa (Magnus, Alduchov & Eskridge 1996)."""
    t = np.asarray(t_c, dtype=float)
    return MAGNUS_A_HPA * np.exp(MAGNUS_B * t / (MAGNUS_C_DEGC + t))


def relative_humidity_pct(dry_bulb_c: ArrayLike, dew_point_c: ArrayLike) -> np.ndarray:
    """Relative humidity in % from dry-bulb and dew point (ratio of Magnus vapour pressures)."""
    t = np.asarray(dry_bulb_c, dtype=float)
    td = np.asarray(dew_point_c, dtype=float)
    return 100.0 * np.exp(MAGNUS_B * td / (MAGNUS_C_DEGC + td) - MAGNUS_B * t / (MAGNUS_C_DEGC + t))


def dew_point_from_rh_c(dry_bulb_c: ArrayLike, rh_pct: ArrayLike) -> np.ndarray:
    """Dew point in °C from dry-bulb and relative humidity (> 0 %), the exact inverse of the Magnus ratio."""
    t = np.asarray(dry_bulb_c, dtype=float)
    rh = np.asarray(rh_pct, dtype=float)
    with np.errstate(divide="ignore"):
        g = np.log(rh / 100.0) + MAGNUS_B * t / (MAGNUS_C_DEGC + t)
    return MAGNUS_C_DEGC * g / (MAGNUS_B - g)


def dew_point_from_vapour_pressure_c(e_hpa: ArrayLike) -> np.ndarray:
    """Dew point in °C at which the Magnus saturation pressure equals `e_hpa`."""
    e = np.asarray(e_hpa, dtype=float)
    g = np.log(e / MAGNUS_A_HPA)
    return MAGNUS_C_DEGC * g / (MAGNUS_B - g)


def _stull(t: np.ndarray, rh: np.ndarray) -> np.ndarray:
    """Stull (2011) eq. 1, unclipped; t in °C, rh in %."""
    return (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )


def wet_bulb_c(dry_bulb_c: ArrayLike, rh_pct: ArrayLike, dew_point_c: ArrayLike | None = None) -> np.ndarray:
    """Wet-bulb in °C by Stull (2011), clipped to [dew point, dry-bulb] so the ordering is physical.

    >>> round(float(wet_bulb_c(20.0, 50.0)), 1)
    13.7
    """
    t = np.asarray(dry_bulb_c, dtype=float)
    rh = np.clip(np.asarray(rh_pct, dtype=float), 0.0, 100.0)
    td = dew_point_from_rh_c(t, rh) if dew_point_c is None else np.asarray(dew_point_c, dtype=float)
    tw = _stull(t, rh)
    return np.minimum(np.maximum(tw, np.minimum(td, t)), t)


def dew_point_from_wet_bulb_c(
    dry_bulb_c: ArrayLike, wet_bulb_c: ArrayLike, pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA
) -> np.ndarray:
    """Dew point in °C from dry-bulb and a measured wet-bulb (WMO-No. 8 psychrometer equation, over water)."""
    t = np.asarray(dry_bulb_c, dtype=float)
    tw = np.asarray(wet_bulb_c, dtype=float)
    p = np.asarray(pressure_hpa, dtype=float)
    e = saturation_vapour_pressure_hpa(tw) - 6.53e-4 * (1.0 + 0.000944 * tw) * p * (t - tw)
    # Air this dry is outside any weather record; keep a tiny positive vapour pressure to stay finite.
    return dew_point_from_vapour_pressure_c(np.maximum(e, 1e-3))


def saturation_humidity_ratio(t_c: ArrayLike, pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA) -> np.ndarray:
    """Humidity ratio of saturated air (kg water per kg dry air): 0.621945 e_s / (p - e_s)."""
    e = saturation_vapour_pressure_hpa(t_c)
    return WATER_AIR_MASS_RATIO * e / (np.asarray(pressure_hpa, dtype=float) - e)


def humidity_ratio(
    dry_bulb_c: ArrayLike, wet_bulb_c: ArrayLike, pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA
) -> np.ndarray:
    """Humidity ratio (kg/kg dry air) from dry-bulb and thermodynamic wet-bulb (ASHRAE Fundamentals 2017,
    ch. 1 eq. 33, over water): W = ((2501 - 2.326 Tw) Ws(Tw) - 1.006 (T - Tw)) / (2501 + 1.86 T - 4.186 Tw)."""
    t = np.asarray(dry_bulb_c, dtype=float)
    tw = np.asarray(wet_bulb_c, dtype=float)
    ws = saturation_humidity_ratio(tw, pressure_hpa)
    w = ((2501.0 - 2.326 * tw) * ws - 1.006 * (t - tw)) / (2501.0 + 1.86 * t - 4.186 * tw)
    return np.maximum(w, 0.0)


def enthalpy_kj_per_kg(t_c: ArrayLike, w: ArrayLike) -> np.ndarray:
    """Moist-air enthalpy per kg dry air (ASHRAE Fundamentals 2017, ch. 1 eq. 30): 1.006 t + W (2501 + 1.86 t)."""
    t = np.asarray(t_c, dtype=float)
    return 1.006 * t + np.asarray(w, dtype=float) * (2501.0 + 1.86 * t)


def latent_heat_kj_per_kg(t_c: ArrayLike) -> np.ndarray:
    """Latent heat of vaporization of water near ambient temperatures: 2500 - 2.42 t kJ/kg
    (reference/cooling_physics.yaml `latent_heat_of_vaporization`, secondary, within 0.1 % of the
    Engineering ToolBox table at 0-25 °C)."""
    return 2500.0 - 2.42 * np.asarray(t_c, dtype=float)


def wet_bulb_from_dew_point_c(
    dry_bulb_c: ArrayLike, dew_point_c: ArrayLike, pressure_hpa: ArrayLike = STANDARD_PRESSURE_HPA
) -> np.ndarray:
    """Thermodynamic wet-bulb in °C at a station pressure: the Tw whose humidity_ratio(T, Tw, p) equals the
    air's (from its dew point), by vectorized bisection between the dew point and the dry bulb (40 halvings,
    well below 1e-6 K). Unlike Stull's fit it accounts for pressure (high sites have warmer wet bulbs' dry air)."""
    t = np.asarray(dry_bulb_c, dtype=float)
    td = np.minimum(np.asarray(dew_point_c, dtype=float), t)
    p = np.broadcast_to(np.asarray(pressure_hpa, dtype=float), np.broadcast(t, td).shape)
    e = saturation_vapour_pressure_hpa(td)
    w = WATER_AIR_MASS_RATIO * e / (p - e)
    lo, hi = np.broadcast_arrays(td, t)
    lo, hi = lo.copy(), hi.copy()
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        too_wet = humidity_ratio(t, mid, p) > w
        hi = np.where(too_wet, mid, hi)
        lo = np.where(too_wet, lo, mid)
    return 0.5 * (lo + hi)
