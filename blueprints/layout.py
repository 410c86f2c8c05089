"""Laying out a parametric site: halls of identical rows, a power chain per hall, a cooling plant per hall.

The builders in `blueprints.parametric` choose what to lay out; this module places it. Power chains:

- `2N`: per hall two MV transformers and two double-conversion UPSs (A and B sides), two busways per row;
- `N+1`: per hall N+1 MV transformers into a switchboard, N+1 UPS modules, one busway per row fed by all
  modules (the usual colocation/enterprise topology);
- `N`: per hall one MV transformer and one UPS, one busway per row (no redundancy);
- `dc_800v`: as 2N, with 800 VDC rectifier systems (catalog `dc_800v`) in place of the AC UPSs.

The UPS stage is chosen by `ups` (UPS_MODELS): double conversion (default), eco mode, 800 VDC
rectifiers, or none (busways fed by the transformers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any
from twin.errors import BlueprintError
from twin.facility import Facility
from twin.plant import add_cooling_plant

POWER_CHAINS = ("2N", "N+1", "N", "dc_800v")
UPS_MODELS: dict[str, str | None] = {"double_conversion": "ups_double_conversion", "eco": "ups_eco",
                                     "dc_800v": "dc_800v", "none": None}
"""The `ups=` choices of the builders and the catalog equipment each stands for (None: no UPS stage)."""
MODULE_KW = {"transformer": 5000.0, "ups": 2500.0}
"""Assumption: N+1 module sizes (5 MVA MV transformers, 2.5 MW UPS frames, common catalogue sizes);
only the number of modules depends on them."""
ROW_DEPTH_RACKS_M = 2 * 1.2
"""Two rack depths per row pitch (catalog racks are 1.2 m deep), plus the aisle."""


@dataclass(frozen=True)
class Sizing:
    """How a parametric site is laid out and how much margin its equipment ratings carry."""

    racks_per_row: int = 20
    rows_per_hall: int = 20
    halls_per_substation: int = 10
    aisle_m: float = 1.2
    margin: float = 1.15


@dataclass(frozen=True)
class Cooling:
    """A hall's cooling: catalog technology, its heat-rejection chain, the chain for residual air heat."""

    tech: str
    rejection: tuple[str, ...]
    air_rejection: tuple[str, ...] = ("chiller_air_cooled",)
    options: tuple[str, ...] | None = None   # the hall's `cooling_options` (None: any catalog technology)
    supply_c: tuple[tuple[str, float], ...] = ()  # (unit kind, facility water °C) overriding the technology's
    trim: bool = False   # give free-cooling chains a trim chiller where the design year needs one (for_climate)


def for_climate(catalog, cooling: Cooling, spec, year) -> Cooling:
    """The cooling with its technology's chain given a trim chiller ahead of the free cooler where that cannot
    hold the design `year` for racks of `spec` (`twin.design_year.sizing.climate_chain`); a chain that holds
    is kept, and its free coolers get their size from `size_free_cooling` once the site is laid out."""
    from twin.design_year.sizing import climate_chain, max_water_c

    db, wb = year["dry_bulb_c"].values, year["wet_bulb_c"].values
    main, _ = climate_chain(catalog, cooling.rejection, max_water_c(catalog.cooling_tech(cooling.tech), spec), db, wb)
    return replace(cooling, rejection=main)


def check_grid(builder: str, grid_mw: Any) -> float:
    """The grid limit as a positive number of MW, or a BlueprintError naming the builder."""
    if isinstance(grid_mw, bool) or not isinstance(grid_mw, (int, float)) or not grid_mw > 0:
        raise BlueprintError(f"{builder}: grid_mw must be a positive number of MW, got {grid_mw!r}")
    return grid_mw  # kept as given (an int stays an int in the saved blueprint)


def lay_out(
    facility: Facility,
    grid_mw: float,
    total: int,
    rack_kw: float,
    cooling: Cooling,
    liquid: float,
    unit_kind: str,
    *,
    system: str | None,
    nodes: int | None,
    power_cap_w: float | None,
    power: str = "2N",
    ups: str = "double_conversion",
    sizing: Sizing = Sizing(),
) -> Facility:
    """Add grid, substations and `total` rack positions in halls of `sizing`, each hall with its power chain
    and cooling plant sized for `rack_kw` per position; racks hold `system` (None: empty positions)."""
    if power not in POWER_CHAINS:
        raise BlueprintError(f"power chain {power!r} is not one of {list(POWER_CHAINS)}")
    if ups not in UPS_MODELS:
        raise BlueprintError(f"ups={ups!r} is not one of {list(UPS_MODELS)}")
    if power == "dc_800v":
        power, ups = "2N", "dc_800v"
    if total < 1:
        raise BlueprintError(f"{facility.name}: a {grid_mw:g} MW grid limit leaves room for no {rack_kw:g} kW rack; "
                             "raise grid_mw or pick a smaller rack")
    per_hall = sizing.racks_per_row * sizing.rows_per_hall
    halls = max(1, math.ceil(total / per_hall))
    facility.add_device("grid", "grid", rating_kw=grid_mw * 1000 * sizing.margin)
    subs = math.ceil(halls / sizing.halls_per_substation)
    for s in range(subs):
        share = min(sizing.halls_per_substation, halls - s * sizing.halls_per_substation) / halls
        facility.add_device(f"sub-{s + 1}", "substation", rating_kw=grid_mw * 1000 * sizing.margin * share, fed_by=["grid"])
    row_depth = ROW_DEPTH_RACKS_M + sizing.aisle_m
    hall_width = sizing.racks_per_row * 0.6 + 2 * sizing.aisle_m
    hall_depth = sizing.rows_per_hall * row_depth + sizing.aisle_m
    extra = {} if cooling.options is None else {"cooling_options": list(cooling.options)}
    for h in range(halls):
        count = min(per_hall, total - h * per_hall)
        rows = math.ceil(count / sizing.racks_per_row)
        hall = f"hall-{h + 1:02d}"
        hall_kw = count * rack_kw * sizing.margin
        row_feeds = _hall_power(facility, hall, f"sub-{h // sizing.halls_per_substation + 1}", hall_kw, power,
                                UPS_MODELS[ups])
        x0, y0 = (h % 10) * (hall_width + 10), (h // 10) * (hall_depth + 10)
        facility.add_hall(hall, x_m=x0, y_m=y0, width_m=hall_width, depth_m=hall_depth, cooling=cooling.tech, **extra)
        hall_racks: list[str] = []
        for r in range(rows):
            row = facility.add_row(hall, f"row-{r + 1:02d}", y_m=y0 + sizing.aisle_m + 1.2 / 2 + r * row_depth)
            n = min(sizing.racks_per_row, count - r * sizing.racks_per_row)
            racks = facility.add_racks(row, n, x_m=x0 + sizing.aisle_m + 0.3, fed_by=row_feeds(row, n * rack_kw * sizing.margin))
            if system is not None:
                facility.populate(racks, system, nodes=nodes, power_cap_w=power_cap_w)
            hall_racks += racks
        add_cooling_plant(facility, hall, hall_racks, hall_kw, liquid, unit_kind, list(cooling.rejection),
                          list(cooling.air_rejection), supply_c=dict(cooling.supply_c))
    return facility


def _hall_power(facility: Facility, hall: str, sub: str, hall_kw: float, power: str, ups_model: str | None):
    """Add a hall's power chain below substation `sub`; return a function adding a row's feeds."""
    stage = "dc" if ups_model == "dc_800v" else "ups"
    if power in ("N+1", "N"):
        spare = 1 if power == "N+1" else 0
        extra = {"group": f"{hall}/tx", "redundancy": power} if spare else {}
        n_tx = math.ceil(hall_kw / MODULE_KW["transformer"]) + spare
        tx = [facility.add_device(f"{hall}/tx-{i + 1}", "transformer", model="transformer_mv",
                                  rating_kw=hall_kw / (n_tx - spare), fed_by=[sub], **extra)
              for i in range(n_tx)]
        feeds = [facility.add_device(f"{hall}/swbd", "switchboard", model="switchboard", rating_kw=hall_kw, fed_by=tx)]
        if ups_model is not None:
            n_ups = math.ceil(hall_kw / MODULE_KW["ups"]) + spare
            extra = {"group": f"{hall}/{stage}", "redundancy": power} if spare else {}
            feeds = [facility.add_device(f"{hall}/{stage}-{i + 1}", "ups", model=ups_model,
                                         rating_kw=hall_kw / (n_ups - spare), fed_by=feeds, **extra)
                     for i in range(n_ups)]
        return lambda row, kw: [facility.add_device(f"{row}/busway", "busway", rating_kw=kw, fed_by=feeds)]
    for side in "ab":
        facility.add_device(f"{hall}/tx-{side}", "transformer", model="transformer_mv", rating_kw=hall_kw,
                            fed_by=[sub], group=f"{hall}/tx", redundancy="2N")
        if ups_model is not None:
            facility.add_device(f"{hall}/{stage}-{side}", "ups", model=ups_model, rating_kw=hall_kw,
                                fed_by=[f"{hall}/tx-{side}"], group=f"{hall}/{stage}", redundancy="2N")
    top = stage if ups_model is not None else "tx"

    def two_busways(row: str, kw: float) -> list[str]:
        return [facility.add_device(f"{row}/busway-{side}", "busway", rating_kw=kw, fed_by=[f"{hall}/{top}-{side}"],
                                    group=f"{row}/busways", redundancy="2N") for side in "ab"]

    return two_busways


__all__ = ["POWER_CHAINS", "UPS_MODELS", "MODULE_KW", "Sizing", "Cooling", "check_grid", "lay_out"]
