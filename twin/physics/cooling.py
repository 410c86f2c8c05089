"""Cooling power vs weather and load: in-hall units, economized or chiller heat rejection, fans, pumps, water.

Reduced-order model (DESIGN §5, reference/cooling_physics.yaml). Every unit has a design power at its
rating; what it draws at a load fraction x (heat / rating) follows part-load physics:

- In-hall units (CDU pumps, CRAH / fan-wall and door fans): design power = `unit_power_kw_per_kw` x rating;
  flow follows the heat at a fixed supply/return ΔT, so power = design x s (h + (1 - h) s^2), s = max(x,
  `unit_min_flow`), h = `unit_fixed_head` (the share of the pressure held by a setpoint: affinity laws with a
  minimum speed and a fixed head). Unit power ends up as heat in the loop: the plant receives heat + it.
- Free heat rejection (dry cooler, tower): delivers water at ambient (its `ambient_basis`) + `approach_c`.
  Plant units of a redundancy group are staged: only as many run as the load needs (N+1 spares off).
  Fans slow with load and temperature headroom: speed = x approach / (setpoint - ambient), at least
  MIN_FAN_SPEED, fan power on the cube law; pumps keep `constant_pump_share` of their power at any load and
  follow the pump curve (PUMP_MIN_FLOW, PUMP_FIXED_HEAD) with the rest. Adiabatic dry coolers pre-cool
  their inlet air with water when the dry coil cannot reach the target (twin.physics.water).
- Chiller: compressor power = heat / COP(condenser = ambient + approach, supply = setpoint) x the DOE-2
  part-load factor EIR-fPLR(PLR) / PLR (`eir_part_load`). Rejecting to a tower or dry cooler it runs an
  integrated waterside economizer: the free unit pre-cools the return water (setpoint + LOOP_DT_C) and the
  chiller only takes the remaining fraction (which also lowers its PLR).
- Airside economizer (CRAHs with `air_economizer`): outside air replaces return air while its dew point is
  within the limit; at or below the supply air (less the supply fans' heat) it carries the whole load, between
  supply and return the coil only cools outside air down to supply (partial economizing), above return none
  (`air_economizer_fraction`). The heat outside air carries leaves the hall without reaching the plant.
- Water: towers and water-cooled chillers with `cycles_of_concentration` evaporate from an air-side energy
  balance plus blowdown (so WUE follows weather and load, twin.physics.water); other units use their
  constant `water_l_per_kwh`.

`cooling_power_kw` evaluates a plant sized for the heat it is given (load fraction 1 unless told), so it is
linear in heat at a given ambient: the optimizer evaluates it at 1 kW to get coefficients.

>>> from twin.catalog import default_catalog
>>> r = cooling_power_kw(default_catalog(), "dlc", "dry_cooler", 1000.0, 0.0, 10.0, 5.0)
>>> bool(r["chiller_on"]), round(float(r["units_kw"]), 1)
(False, 37.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

from twin.physics import PhysicsError
from twin.physics import water as water_phys
from twin.weather import psychro

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
#: assumption: variable-speed pumps keep at least 30 % flow (typical VFD minimum; not sourced)
PUMP_MIN_FLOW = 0.3
#: assumption: half the design head of variable-speed plant pumps is held by a differential-pressure
#: setpoint (power = s (h + (1 - h) s^2)); the reference gives no figure ("treat n in [2, 3]")
PUMP_FIXED_HEAD = 0.5
#: defaults when a cooling technology does not state its own unit part-load figures
UNIT_MIN_FLOW = 0.3
UNIT_FIXED_HEAD = 0.0
#: assumption: outside air is admitted while its dew point is at most 15 °C, the upper moisture limit of the
#: ASHRAE TC 9.9 recommended envelope (2011 thermal guidelines; the figure is not in the reference files)
ECONOMIZER_MAX_DEW_POINT_C = 15.0
#: a plant unit carrying less than this fraction of its rating is treated as off (no fixed power)
IDLE_FRACTION = 1e-9


class PlantCoefficients(NamedTuple):
    """Per kW absorbed by a plant unit (arrays over time, or time x unit): draws, passes on, evaporates."""

    compressor: np.ndarray     # kW of compressor work per kW absorbed
    aux: np.ndarray            # kW of the unit's own fans and pumps per kW absorbed
    out: np.ndarray            # kW passed downstream (or to ambient) per kW absorbed: 1 + compressor
    water: np.ndarray          # L per kWh absorbed evaporated by the unit itself
    free_fraction: np.ndarray  # share of the load removed without compressor work
    delivered_c: np.ndarray    # water temperature delivered at the design approach, °C
    down_aux: np.ndarray       # downstream unit's fans and pumps per kW it receives
    down_water: np.ndarray     # downstream unit's L per kWh it receives


def mover_fraction(load_fraction: Any, min_flow: float, fixed_head: float) -> np.ndarray:
    """Power of a fan or pump over its design power at a flow fraction: s (h + (1 - h) s^2), s >= min_flow.

    Affinity laws (P ~ flow x head, head ~ flow^2 on a fixed system curve) with a share `fixed_head` of the
    design head held by a pressure setpoint, and a minimum speed below which flow is bypassed.
    """
    s = np.maximum(np.asarray(load_fraction, dtype=float), min_flow)
    return s * (fixed_head + (1.0 - fixed_head) * s * s)


def per_kw(fraction: Any, load_fraction: Any) -> np.ndarray:
    """Design-normalized power per unit of load: fraction / x (x floored at IDLE_FRACTION)."""
    return np.asarray(fraction, dtype=float) / np.maximum(np.asarray(load_fraction, dtype=float), IDLE_FRACTION)


def unit_power_kw(tech: CoolingTech, heat_kw: Any, rating_kw: Any) -> np.ndarray:
    """In-hall unit power absorbing `heat_kw` on units of `rating_kw` in total (affinity laws, see module)."""
    heat = np.asarray(heat_kw, dtype=float)
    rating = np.asarray(rating_kw, dtype=float)
    x = np.divide(heat, rating, out=np.ones(np.broadcast(heat, rating).shape), where=rating > 0)
    frac = per_kw(mover_fraction(x, _or(tech.unit_min_flow, UNIT_MIN_FLOW), _or(tech.unit_fixed_head, UNIT_FIXED_HEAD)), x)
    return heat * tech.unit_power_kw_per_kw * frac


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def ambient_c(unit: HeatRejection, dry_bulb_c: Any, wet_bulb_c: Any, target_c: Any = None) -> np.ndarray:
    """The ambient a heat-rejection unit works against (its `ambient_basis`).

    An adiabatic dry cooler wets its pads when the dry coil could not deliver `target_c`: its air then
    enters at dry bulb - effectiveness x (dry bulb - wet bulb).
    """
    amb = np.asarray(dry_bulb_c if unit.ambient_basis == "dry_bulb" else wet_bulb_c, dtype=float)
    if unit.adiabatic_effectiveness is None or target_c is None:
        return amb
    wet = water_phys.adiabatic_air_c(dry_bulb_c, wet_bulb_c, unit.adiabatic_effectiveness)
    return np.where(amb + unit.approach_c > np.asarray(target_c, dtype=float), wet, amb)


def fan_speed(unit: HeatRejection, target_c: Any, ambient: Any, load_fraction: Any = 1.0) -> np.ndarray:
    """Fan speed fraction a free-cooling unit needs to deliver `target_c` at a load fraction, clipped.

    Heat moved ~ airflow x (water - ambient), so speed = x approach / headroom (1 when headroom <= approach).
    """
    headroom = np.asarray(target_c, dtype=float) - np.asarray(ambient, dtype=float)
    approach = max(unit.approach_c, 1e-6)
    speed = np.divide(approach, headroom, out=np.ones(np.broadcast(headroom, approach).shape), where=headroom > approach)
    return np.clip(speed * np.asarray(load_fraction, dtype=float), MIN_FAN_SPEED, 1.0)


def pump_fraction(unit: HeatRejection, load_fraction: Any) -> np.ndarray:
    """Pump power over design at a load fraction: the constant-flow share plus the pump curve for the rest."""
    const = _or(unit.constant_pump_share, 0.0)
    return const + (1.0 - const) * mover_fraction(load_fraction, PUMP_MIN_FLOW, PUMP_FIXED_HEAD)


def aux_per_kw(unit: HeatRejection, speed: Any = 1.0, load_fraction: Any = 1.0, staged: Any = None) -> np.ndarray:
    """Fans and pumps per kW rejected: fan share on the cube law at `speed` (all units' fans modulate
    together), pumps on their curve at the `staged` load fraction of the running units (default: unstaged)."""
    share = _or(unit.fan_share, 1.0 if unit.kind == "dry_cooler" else 0.0)
    s = np.asarray(speed, dtype=float)
    xs = load_fraction if staged is None else staged
    return unit.fan_pump_kw_per_kw * (share * per_kw(s**3, load_fraction) + (1.0 - share) * per_kw(pump_fraction(unit, xs), xs))


def water_per_kwh(unit: HeatRejection, dry_bulb_c: Any, wet_bulb_c: Any, delivered_c: Any, air_c: Any = None) -> np.ndarray:
    """Litres per kWh a unit rejects: tower evaporation + blowdown, adiabatic spray, or its constant figure."""
    if unit.cycles_of_concentration is not None:
        return water_phys.tower_litres_per_kwh(dry_bulb_c, wet_bulb_c, delivered_c, range_c=_or(unit.range_c, 5.56),
                                               cycles=unit.cycles_of_concentration)
    if unit.adiabatic_effectiveness is not None and air_c is not None:
        return water_phys.spray_litres_per_kwh(dry_bulb_c, air_c, _or(unit.air_range_c, 10.0))
    db = np.asarray(dry_bulb_c, dtype=float)
    return np.full(db.shape, unit.water_l_per_kwh)


def staged_fraction(load_fraction: Any, members: Any) -> np.ndarray:
    """Load fraction of each running unit when a group of `members` equal units shares a load of
    `load_fraction` of every unit's rating and runs only as many as it needs: x n / ceil(x n).

    Chillers, towers and dry coolers (with their constant-flow pumps) are staged on and off with the load,
    so an N+1 spare or a lightly loaded plant does not draw the fixed power of every installed unit.
    """
    x = np.asarray(load_fraction, dtype=float)
    n = np.asarray(members, dtype=float)
    running = np.clip(np.ceil(x * n - 1e-9), 1.0, np.maximum(n, 1.0))
    return np.where(n > 1, x * n / running, x)


def plant_coefficients(
    unit: HeatRejection,
    downstream: HeatRejection | None,
    setpoint_c: Any,
    dry_bulb_c: Any,
    wet_bulb_c: Any,
    loop_dt_c: float = LOOP_DT_C,
    *,
    load_fraction: Any = 1.0,
    down_load_fraction: Any = None,
    members: Any = 1,
    down_members: Any = None,
) -> PlantCoefficients:
    """Coefficients of one plant unit delivering water at `setpoint_c` (and of the unit it rejects to).

    load_fraction: heat absorbed / rating of the unit (1: plant sized for this load); down_load_fraction:
    the same for the downstream unit (default: load_fraction). members / down_members: units in the group
    sharing that load; the group stages units off (`staged_fraction`), so the running ones carry more each.
    Arrays broadcast (time, or time x unit).
    """
    down_x = load_fraction if down_load_fraction is None else down_load_fraction
    db, wb, setpoint, x, xd = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in
                                                    (dry_bulb_c, wet_bulb_c, setpoint_c, load_fraction, down_x)))
    xs = staged_fraction(x, members)                                           # running units' pumps, compressors
    xds = staged_fraction(xd, members if down_members is None else down_members)
    zeros = np.zeros(x.shape)
    ones = np.ones(x.shape)
    if unit.kind != "chiller":
        amb = ambient_c(unit, db, wb, setpoint)
        delivered = np.maximum(setpoint, amb + unit.approach_c)
        aux = aux_per_kw(unit, fan_speed(unit, setpoint, amb, x), x, xs)
        down_aux, down_water = zeros, zeros
        if downstream is not None:
            amb_d = ambient_c(downstream, db, wb, setpoint)
            down_aux = aux_per_kw(downstream, fan_speed(downstream, setpoint, amb_d, xd), xd, xds)
            down_water = water_per_kwh(downstream, db, wb, np.maximum(setpoint, amb_d + downstream.approach_c), amb_d)
        own_water = water_per_kwh(unit, db, wb, delivered, amb)
        return PlantCoefficients(zeros, aux, ones, own_water, ones, delivered, down_aux, down_water)
    cop = np.asarray(unit.cop(ambient_c(unit, db, wb) + unit.approach_c, setpoint), dtype=float) * ones
    own_pumps = unit.fan_pump_kw_per_kw if downstream is None else max(unit.fan_pump_kw_per_kw - downstream.fan_pump_kw_per_kw, 0.0)
    if downstream is None:
        compressor = unit.part_load_factor(xs) / cop
        out = 1.0 + compressor
        aux = aux_per_kw(unit, np.maximum(x, MIN_FAN_SPEED), x, xs)  # fan share: the chiller's own tower, if any
        condenser = ambient_c(unit, db, wb) + unit.approach_c
        water = water_per_kwh(unit, db, wb, condenser) * out
        return PlantCoefficients(compressor, aux, out, water, zeros, setpoint.copy(), zeros, zeros)
    if loop_dt_c <= 0:
        raise PhysicsError(f"loop_dt_c {loop_dt_c!r} must be positive (facility-water rise across the load, K)")
    amb_down = ambient_c(downstream, db, wb, setpoint)
    precooled = amb_down + downstream.approach_c
    free = np.clip((setpoint + loop_dt_c - precooled) / loop_dt_c, 0.0, 1.0)
    chiller_plr = staged_fraction((1.0 - free) * x, members)
    compressor = (1.0 - free) * unit.part_load_factor(np.maximum(chiller_plr, IDLE_FRACTION)) / cop
    speed = np.where(free >= 1.0, fan_speed(downstream, setpoint, amb_down, xd), np.maximum(xd, MIN_FAN_SPEED))
    aux = own_pumps * per_kw(pump_fraction(unit, xs), xs)
    delivered_down = np.where(free >= 1.0, np.maximum(setpoint, precooled), precooled)
    return PlantCoefficients(compressor, aux, 1.0 + compressor, zeros, free, setpoint.copy(),
                             aux_per_kw(downstream, speed, xd, xds), water_per_kwh(downstream, db, wb, delivered_down, amb_down))


def air_economizer_fraction(
    supply_air_c: Any, return_air_c: Any, dry_bulb_c: Any, wet_bulb_c: Any, fan_heat_c: Any = 0.0,
    max_dew_point_c: float = ECONOMIZER_MAX_DEW_POINT_C,
) -> np.ndarray:
    """Share of an air unit's heat that outside air removes (dry-bulb changeover, dew-point high limit).

    Outside air warmed by the supply fans (`fan_heat_c`) at or below `supply_air_c` carries all of it (mixed
    with return air to hold supply); between supply and return the coil cools outside air instead of return
    air, so outside air removes (return - outside) / (return - supply); at or above return, or moister than
    `max_dew_point_c`, none. Sensible heat only: the limit keeps humid air (and its latent load) out.
    """
    supply = np.asarray(supply_air_c, dtype=float)
    ret = np.asarray(return_air_c, dtype=float)
    if np.any(ret <= supply):
        raise PhysicsError(f"return air {return_air_c!r} °C must be above supply air {supply_air_c!r} °C "
                           "(give the unit a positive air_dt_c)")
    db = np.asarray(dry_bulb_c, dtype=float)
    outside = db + np.asarray(fan_heat_c, dtype=float)
    share = np.clip((ret - outside) / (ret - supply), 0.0, 1.0)
    dry = psychro.humidity_ratio(db, np.minimum(np.asarray(wet_bulb_c, dtype=float), db)) \
        <= psychro.saturation_humidity_ratio(max_dew_point_c)
    return np.where(dry, share, 0.0)


def free_capacity_kw(unit: HeatRejection, rating_kw: Any, max_water_c: Any, dry_bulb_c: Any, wet_bulb_c: Any) -> np.ndarray:
    """Heat a free-cooling unit can reject without its water exceeding `max_water_c` (fixed-UA exchanger).

    At its rating the unit needs `approach_c` between water and ambient; the heat it moves scales with that
    difference, so capacity = rating x (max_water - ambient) / approach, never below zero.
    """
    amb = ambient_c(unit, dry_bulb_c, wet_bulb_c, max_water_c)
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
    loop_dt_c: float = LOOP_DT_C, what: str = "heat_rejection", load_fraction: Any = 1.0,
) -> dict[str, np.ndarray]:
    """One heat stream: units of `tech` absorbing `heat_kw`, rejecting through `chain` at its setpoint; every
    unit and plant unit runs at `load_fraction` of its rating (1: sized for this heat)."""
    first, down = _chain(catalog, chain, what)
    heat = np.asarray(heat_kw, dtype=float)
    x = np.asarray(load_fraction, dtype=float)
    if np.any(x <= 0) or not np.all(np.isfinite(x)):
        raise PhysicsError(f"load_fraction {load_fraction!r} must be > 0 (heat / rating of the plant)")
    units = unit_power_kw(tech, heat, np.divide(heat, x))
    q = heat + units
    c = plant_coefficients(first, down, tech.facility_supply_c, dry_bulb_c, wet_bulb_c, loop_dt_c, load_fraction=x)
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
    load_fraction: Any = 1.0,
) -> dict[str, Any]:
    """Cooling power of a hall's heat at an ambient; vectorized over numpy arrays, linear in the heat.

    heat_liquid_kw goes to the technology's own units (CDUs, rear doors) and `heat_rejection` (an id, or
    [chiller, tower or dry cooler] for a chiller with waterside economizer); heat_air_kw goes to CRAHs and
    `air_heat_rejection` (default: the same chain for air halls, else an air-cooled chiller). For an
    air technology give all heat as heat_air_kw. load_fraction: the heat over the rating of the hall's
    units and plant (default 1: plant sized for this load; 0.5: a half-loaded hall, whose fixed fan, pump
    and chiller terms then cost more per kW). Returns units_kw, plant_kw (= chiller_kw + fans_pumps_kw),
    water_l_per_h, chiller_on (compressor running), supply_c and free_fraction of the technology's own stream.
    """
    tech = catalog.cooling_tech(cooling_tech)
    air = catalog.cooling_tech(AIR_TECH)
    liquid = np.asarray(heat_liquid_kw, dtype=float)
    if tech.unit_kind == "crah":
        if np.any(liquid != 0):
            raise PhysicsError(f"cooling technology {cooling_tech!r} is air-only: give its heat as heat_air_kw "
                               "(heat_liquid_kw must be 0)")
        own_chain = heat_rejection if air_heat_rejection is None else air_heat_rejection
        main = stream_power(catalog, tech, own_chain, heat_air_kw, ambient_db_c, ambient_wb_c, loop_dt_c,
                            load_fraction=load_fraction)
        streams = [main]
    else:
        air_chain = DEFAULT_AIR_REJECTION if air_heat_rejection is None else air_heat_rejection
        main = stream_power(catalog, tech, heat_rejection, liquid, ambient_db_c, ambient_wb_c, loop_dt_c,
                            load_fraction=load_fraction)
        rest = stream_power(catalog, air, air_chain, heat_air_kw, ambient_db_c, ambient_wb_c, loop_dt_c,
                            what="air_heat_rejection", load_fraction=load_fraction)
        streams = [main, rest]
    total = {k: sum(s[k] for s in streams) for k in ("units_kw", "chiller_kw", "fans_pumps_kw", "water_l_per_h")}
    total["plant_kw"] = total["chiller_kw"] + total["fans_pumps_kw"]
    total["chiller_on"] = total["chiller_kw"] > 0
    total["supply_c"] = main["supply_c"]
    total["free_fraction"] = main["free_fraction"]
    return {k: (v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in total.items()}


__all__ = [
    "AIR_TECH", "UNIT_TECH", "DEFAULT_AIR_REJECTION", "LOOP_DT_C", "MIN_FAN_SPEED", "PUMP_MIN_FLOW",
    "PUMP_FIXED_HEAD", "ECONOMIZER_MAX_DEW_POINT_C", "PlantCoefficients", "mover_fraction", "per_kw", "unit_power_kw", "ambient_c", "fan_speed",
    "pump_fraction", "aux_per_kw", "water_per_kwh", "staged_fraction", "plant_coefficients", "air_economizer_fraction",
    "free_capacity_kw", "unit_tech",
    "stream_power", "cooling_power_kw",
]
