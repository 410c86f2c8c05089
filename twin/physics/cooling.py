"""Cooling power vs weather: in-hall units, economized or chiller heat rejection, fans, pumps and water.

Reduced-order model (DESIGN §5, reference/cooling_physics.yaml), every coefficient per kW of heat so the
result is LINEAR in heat at a given ambient (the optimizer evaluates it at 1 kW to get coefficients):

- In-hall unit (CDU pumps, CRAH fans, rear-door fans): `unit_power_kw_per_kw` of its cooling technology
  per kW absorbed. That power ends up as heat in the loop, so the plant receives heat x (1 + k).
- Free heat rejection (dry cooler, tower): delivers water at ambient (its `ambient_basis`) + `approach_c`.
  Fans slow when there is temperature headroom: speed = approach / (setpoint - ambient), at least
  MIN_FAN_SPEED, and fan power follows the cube law (pumps do not slow).
- Chiller: compressor power = heat / COP(condenser = ambient + approach, supply = setpoint). Rejecting to
  a tower or dry cooler it runs an integrated waterside economizer: the free unit pre-cools the return
  water (setpoint + LOOP_DT_C) and the chiller only takes the remaining fraction.
- Water: `water_l_per_kwh` of each evaporating unit per kWh it rejects (compressor heat included).

>>> from twin.catalog import default_catalog
>>> r = cooling_power_kw(default_catalog(), "dlc", "dry_cooler", 1000.0, 0.0, 10.0, 5.0)
>>> bool(r["chiller_on"]), round(float(r["units_kw"]), 1)
(False, 37.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

from twin.physics import PhysicsError

if TYPE_CHECKING:
    from twin.catalog import Catalog, CoolingTech, HeatRejection

#: catalog cooling id whose numbers the residual-air stream of liquid-cooled racks uses (CRAHs)
AIR_TECH = "air"
#: cooling technology a bare in-hall unit kind stands for when its racks' technology is of another kind
UNIT_TECH = {"crah": "air", "rdhx": "rdhx", "cdu": "dlc"}
#: assumption (matches the packaged blueprints): residual air heat of liquid-cooled halls goes to CRAHs
#: on an air-cooled chiller unless told otherwise
DEFAULT_AIR_REJECTION = "chiller_air_cooled"
#: facility-water temperature rise across the load, K (LBNL ChillerWSE example: fws_dT 5 K; secondary);
#: sets how much of the load a waterside economizer can pre-cool
LOOP_DT_C = 5.0
#: assumption: variable-speed fans do not turn below 30 % speed (typical VFD minimum; not sourced)
MIN_FAN_SPEED = 0.3
#: share of `fan_pump_kw_per_kw` that is fans (slows with the cube law); the rest is pumps. Derived from the
#: catalog's provenance notes: dry cooler BAC fans 4.0 % of 5.5 %; tower fans 1.33 % of 2.9 % (App. G).
FAN_SHARE = {"dry_cooler": 0.040 / 0.055, "cooling_tower": 0.0133 / 0.029, "chiller": 0.0}


class PlantCoefficients(NamedTuple):
    """Per kW absorbed by a plant unit (arrays over time): what it draws, passes on and evaporates."""

    compressor: np.ndarray     # kW of compressor work per kW absorbed
    aux: np.ndarray            # kW of the unit's own fans and pumps per kW absorbed
    out: np.ndarray            # kW passed downstream (or to ambient) per kW absorbed: 1 + compressor
    water: np.ndarray          # L per kWh absorbed evaporated by the unit itself
    free_fraction: np.ndarray  # share of the load removed without compressor work
    delivered_c: np.ndarray    # water temperature delivered at the design approach, °C
    down_aux: np.ndarray       # downstream unit's fans and pumps per kW IT receives
    down_water: np.ndarray     # downstream unit's L per kWh it receives


def ambient_c(unit: HeatRejection, dry_bulb_c: Any, wet_bulb_c: Any) -> np.ndarray:
    """The ambient temperature a heat-rejection unit works against (its `ambient_basis`)."""
    return np.asarray(dry_bulb_c if unit.ambient_basis == "dry_bulb" else wet_bulb_c, dtype=float)


def fan_speed(unit: HeatRejection, target_c: Any, ambient: Any) -> np.ndarray:
    """Fan speed fraction a free-cooling unit needs to deliver `target_c`: approach / headroom, clipped."""
    headroom = np.asarray(target_c, dtype=float) - np.asarray(ambient, dtype=float)
    approach = max(unit.approach_c, 1e-6)
    speed = np.divide(approach, headroom, out=np.ones(np.broadcast(headroom, approach).shape), where=headroom > approach)
    return np.clip(speed, MIN_FAN_SPEED, 1.0)


def aux_per_kw(unit: HeatRejection, speed: Any = 1.0) -> np.ndarray:
    """Fans and pumps per kW rejected at a fan speed (cube law on the fan share, pumps constant)."""
    share = FAN_SHARE.get(unit.kind, 1.0)
    s = np.asarray(speed, dtype=float)
    return unit.fan_pump_kw_per_kw * (share * s**3 + (1.0 - share))


def plant_coefficients(
    unit: HeatRejection,
    downstream: HeatRejection | None,
    setpoint_c: Any,
    dry_bulb_c: Any,
    wet_bulb_c: Any,
    loop_dt_c: float = LOOP_DT_C,
) -> PlantCoefficients:
    """Coefficients of one plant unit delivering water at `setpoint_c` (and of the unit it rejects to)."""
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.asarray(wet_bulb_c, dtype=float)
    setpoint = np.broadcast_to(np.asarray(setpoint_c, dtype=float), np.broadcast(db, wb, setpoint_c).shape)
    zeros = np.zeros(setpoint.shape)
    ones = np.ones(setpoint.shape)
    if unit.kind != "chiller":
        amb = ambient_c(unit, db, wb)
        delivered = np.maximum(setpoint, amb + unit.approach_c)
        aux = aux_per_kw(unit, fan_speed(unit, setpoint, amb)) * ones
        down_aux, down_water = zeros, zeros
        if downstream is not None:
            down_aux = aux_per_kw(downstream, fan_speed(downstream, setpoint, ambient_c(downstream, db, wb))) * ones
            down_water = downstream.water_l_per_kwh * ones
        return PlantCoefficients(zeros, aux, ones, unit.water_l_per_kwh * ones, ones, delivered, down_aux, down_water)
    cop = np.asarray(unit.cop(ambient_c(unit, db, wb) + unit.approach_c, setpoint), dtype=float) * ones
    if downstream is None:
        compressor = 1.0 / cop
        out = 1.0 + compressor
        water = unit.water_l_per_kwh * out
        return PlantCoefficients(compressor, unit.fan_pump_kw_per_kw * ones, out, water, zeros, setpoint.copy(), zeros, zeros)
    if loop_dt_c <= 0:
        raise PhysicsError(f"loop_dt_c {loop_dt_c!r} must be positive (facility-water rise across the load, K)")
    amb_down = ambient_c(downstream, db, wb)
    precooled = amb_down + downstream.approach_c
    free = np.clip((setpoint + loop_dt_c - precooled) / loop_dt_c, 0.0, 1.0)
    compressor = (1.0 - free) / cop
    speed = np.where(free >= 1.0, fan_speed(downstream, setpoint, amb_down), 1.0)
    own = max(unit.fan_pump_kw_per_kw - downstream.fan_pump_kw_per_kw, 0.0) * ones
    return PlantCoefficients(compressor, own, 1.0 + compressor, zeros, free, setpoint.copy(),
                             aux_per_kw(downstream, speed) * ones, downstream.water_l_per_kwh * ones)


def free_capacity_kw(unit: HeatRejection, rating_kw: Any, max_water_c: Any, dry_bulb_c: Any, wet_bulb_c: Any) -> np.ndarray:
    """Heat a free-cooling unit can reject without its water exceeding `max_water_c` (fixed-UA exchanger).

    At its rating the unit needs `approach_c` between water and ambient; the heat it moves scales with that
    difference, so capacity = rating x (max_water - ambient) / approach, never below zero.
    """
    amb = ambient_c(unit, dry_bulb_c, wet_bulb_c)
    approach = max(unit.approach_c, 1e-6)
    return np.asarray(rating_kw, dtype=float) * np.clip((np.asarray(max_water_c, dtype=float) - amb) / approach, 0.0, None)


def unit_tech(catalog: Catalog, unit_kind: str, rack_tech: str | None = None) -> CoolingTech:
    """The cooling technology whose numbers an in-hall unit uses: its racks' if of the same unit kind."""
    if rack_tech is not None:
        tech = catalog.cooling_tech(rack_tech)
        if tech.unit_kind == unit_kind:
            return tech
    return catalog.cooling_tech(UNIT_TECH[unit_kind])


def _chain(catalog: Catalog, chain: str | Sequence[str], what: str) -> tuple[HeatRejection, HeatRejection | None]:
    ids = [chain] if isinstance(chain, str) else list(chain)
    if not 1 <= len(ids) <= 2:
        raise PhysicsError(f"{what} {chain!r}: give one heat-rejection id or [chiller, tower/dry cooler]")
    first = catalog.heat_rejection(ids[0])
    down = catalog.heat_rejection(ids[1]) if len(ids) == 2 else None
    if down is not None and (first.kind != "chiller" or down.kind == "chiller"):
        raise PhysicsError(f"{what} {chain!r}: a two-unit chain is a chiller rejecting to a tower or dry cooler")
    return first, down


def stream_power(
    catalog: Catalog, tech: CoolingTech, chain: str | Sequence[str], heat_kw: Any, dry_bulb_c: Any, wet_bulb_c: Any,
    loop_dt_c: float = LOOP_DT_C, what: str = "heat_rejection",
) -> dict[str, np.ndarray]:
    """One heat stream: units of `tech` absorbing `heat_kw`, rejecting through `chain` at its setpoint."""
    first, down = _chain(catalog, chain, what)
    heat = np.asarray(heat_kw, dtype=float)
    units = heat * tech.unit_power_kw_per_kw
    q = heat + units
    c = plant_coefficients(first, down, tech.facility_supply_c, dry_bulb_c, wet_bulb_c, loop_dt_c)
    chiller = q * c.compressor
    fans = q * c.aux + q * c.out * c.down_aux
    water = q * c.water + q * c.out * c.down_water
    return {"units_kw": units, "chiller_kw": chiller, "fans_pumps_kw": fans, "water_l_per_h": water,
            "free_fraction": c.free_fraction, "supply_c": c.delivered_c}


def cooling_power_kw(
    catalog: Catalog,
    cooling_tech: str,
    heat_rejection: str | Sequence[str],
    heat_liquid_kw: Any,
    heat_air_kw: Any,
    ambient_db_c: Any,
    ambient_wb_c: Any,
    *,
    air_heat_rejection: str | Sequence[str] | None = None,
    loop_dt_c: float = LOOP_DT_C,
) -> dict[str, Any]:
    """Cooling power of a hall's heat at an ambient; vectorized over numpy arrays, linear in the heat.

    heat_liquid_kw goes to the technology's own units (CDUs, rear doors) and `heat_rejection` (an id, or
    [chiller, tower or dry cooler] for a chiller with waterside economizer); heat_air_kw goes to CRAHs and
    `air_heat_rejection` (default: the same chain for air halls, else an air-cooled chiller). For an
    air technology give all heat as heat_air_kw. Returns units_kw, plant_kw (= chiller_kw +
    fans_pumps_kw), water_l_per_h, chiller_on (compressor running), supply_c and free_fraction of the
    technology's own stream.
    """
    tech = catalog.cooling_tech(cooling_tech)
    air = catalog.cooling_tech(AIR_TECH)
    liquid = np.asarray(heat_liquid_kw, dtype=float)
    if tech.unit_kind == "crah":
        if np.any(liquid != 0):
            raise PhysicsError(f"cooling technology {cooling_tech!r} is air-only: give its heat as heat_air_kw "
                               "(heat_liquid_kw must be 0)")
        own_chain = heat_rejection if air_heat_rejection is None else air_heat_rejection
        main = stream_power(catalog, tech, own_chain, heat_air_kw, ambient_db_c, ambient_wb_c, loop_dt_c)
        streams = [main]
    else:
        air_chain = DEFAULT_AIR_REJECTION if air_heat_rejection is None else air_heat_rejection
        main = stream_power(catalog, tech, heat_rejection, liquid, ambient_db_c, ambient_wb_c, loop_dt_c)
        rest = stream_power(catalog, air, air_chain, heat_air_kw, ambient_db_c, ambient_wb_c, loop_dt_c,
                            what="air_heat_rejection")
        streams = [main, rest]
    total = {k: sum(s[k] for s in streams) for k in ("units_kw", "chiller_kw", "fans_pumps_kw", "water_l_per_h")}
    total["plant_kw"] = total["chiller_kw"] + total["fans_pumps_kw"]
    total["chiller_on"] = total["chiller_kw"] > 0
    total["supply_c"] = main["supply_c"]
    total["free_fraction"] = main["free_fraction"]
    return {k: (v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in total.items()}


__all__ = [
    "AIR_TECH", "UNIT_TECH", "DEFAULT_AIR_REJECTION", "LOOP_DT_C", "MIN_FAN_SPEED", "FAN_SHARE",
    "PlantCoefficients", "ambient_c", "fan_speed", "aux_per_kw", "plant_coefficients", "free_capacity_kw",
    "unit_tech", "stream_power", "cooling_power_kw",
]
