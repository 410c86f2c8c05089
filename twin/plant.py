"""Building a hall's cooling plant: N+1 in-hall units per heat stream and N+1 heat-rejection units behind them.

A liquid technology sends its liquid share to CDUs (or rear doors) and the residual air to CRAHs; an air
technology sends everything to CRAHs. Each stream rejects through a chain of catalog heat-rejection ids,
e.g. ("chiller_water_cooled", "dry_cooler"): chillers rejecting to dry coolers (a trim chiller with a
waterside economizer, as the physics models it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from twin.facility import Facility

UNIT_KW = {"cdu": 2000.0, "crah": 600.0, "rdhx": 600.0}
PLANT_KW = {"dry_cooler": 2500.0, "cooling_tower": 3000.0, "chiller": 2000.0}
"""Assumption: typical unit sizes (CDUs of 1-2.5 MW per reference cooling_types.yaml `cdu`; CRAHs and
plant units at common catalogue sizes). Only the count of units depends on them."""
COMPRESSOR_HEAT = 1.3
"""Assumption: a plant unit downstream of a chiller is sized for the load plus compressor heat (COP ~3.3)."""


def add_cooling_plant(
    facility: Facility,
    hall: str,
    racks: Sequence[str],
    heat_kw: float,
    liquid: float,
    unit_kind: str,
    rejection: Sequence[str],
    air_rejection: Sequence[str] = ("chiller_air_cooled",),
    *,
    supply_c: dict[str, float] | None = None,
) -> list[str]:
    """Add units and plant for `heat_kw` of rack heat in a hall and connect `racks` to every unit; returns units.

    A hall with no heat yet (empty positions) still gets one unit and one plant unit per stage, so its racks
    are cooled when they are filled. supply_c: facility water temperature (°C) per unit kind ({"cdu": 32,
    "crah": 18}) the units ask of their plant, instead of their technology's `facility_supply_c`.
    """
    if unit_kind == "crah":
        streams = [("crah", 1.0, tuple(rejection))]
    else:
        streams = [(unit_kind, liquid, tuple(rejection))]
        if liquid < 1.0:
            streams.append(("crah", 1.0 - liquid, tuple(air_rejection)))
    units: list[str] = []
    for index, (kind, share, chain) in enumerate(streams):
        load = heat_kw * share
        if load <= 0 and index > 0:
            continue
        sinks = _chain(facility, hall, kind, chain, load)
        own = {"facility_supply_c": float(supply_c[kind])} if supply_c and kind in supply_c else {}
        rating = unit_rating(UNIT_KW[kind], load)
        units += [
            facility.add_device(f"{hall}/{kind}-{i + 1}", kind, rating_kw=rating, rejects_to=sinks,
                                group=f"{hall}/{kind}", redundancy="N+1", **own)
            for i in range(max(1, math.ceil(load / rating)) + 1)
        ]
    facility.connect_many([(rack, unit) for unit in units for rack in racks], "heat")
    return units


def unit_rating(catalogue_kw: float, load_kw: float) -> float:
    """A unit's rating: the catalogue size, or the load itself when one unit would carry less than its
    size (a small hall gets units sized for it, not 2 MW units running at a few percent with their fixed
    pumps and minimum fan speeds; assumption: units come in any size below the catalogue one)."""
    return catalogue_kw if load_kw >= catalogue_kw or load_kw <= 0 else float(load_kw)


def _chain(facility: Facility, hall: str, unit_kind: str, chain: Sequence[str], load: float) -> list[str]:
    """Create the plant stages of one stream from the last (to ambient) to the first; returns the first's ids."""
    downstream: list[str] = []
    for depth, model in reversed(list(enumerate(chain))):
        kind = facility.catalog.heat_rejection(model).kind
        sized = load * (COMPRESSOR_HEAT if depth > 0 else 1.0)
        rating = unit_rating(PLANT_KW[kind], sized)
        downstream = [
            facility.add_device(f"{hall}/{unit_kind}-{kind}-{i + 1}", kind, model=model, rating_kw=rating,
                                rejects_to=downstream, group=f"{hall}/{unit_kind}-{kind}", redundancy="N+1")
            for i in range(max(1, math.ceil(sized / rating)) + 1)
        ]
    return downstream
