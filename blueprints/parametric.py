"""Parametric facility builders: a whole site from a few numbers, sized from the catalog's rack power.

>>> from blueprints.parametric import ai_factory
>>> site = ai_factory(grid_mw=5, system="gb200_nvl72")
>>> site.validate() == []
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twin.errors import BlueprintError
from twin.facility import Facility
from twin.graph import bulk
from twin.plant import add_cooling_plant
from twin.tables import liquid_fraction

ASSUMED_PUE = {"air": 1.45, "rdhx": 1.35, "dlc": 1.2, "dlc_2p": 1.15, "immersion": 1.1}
"""Assumption: design PUE used only to size how many racks to lay out under the grid limit; the physics
computes the real one. Values follow the ranges in reference/cooling_physics.yaml (label: assumption)."""


@dataclass(frozen=True)
class Sizing:
    """How a parametric site is laid out and how much margin its equipment ratings carry."""

    racks_per_row: int = 20
    rows_per_hall: int = 20
    halls_per_substation: int = 10
    aisle_m: float = 1.2
    margin: float = 1.15


def ai_factory(
    grid_mw: float = 100.0,
    *,
    system: str = "gb200_nvl72",
    cooling: str = "dlc",
    climate: str = "phoenix",
    nodes: int | None = None,
    power_cap_w: float | None = None,
    heat_rejection: str = "dry_cooler",
    name: str | None = None,
    sizing: Sizing = Sizing(),
) -> Facility:
    """A site filled with identical racks up to the grid limit: 2N power to every row, N+1 cooling per hall.

    heat_rejection: catalog heat-rejection id for the technology's own stream (residual air goes to
    air-cooled chillers).
    """
    if isinstance(grid_mw, bool) or not isinstance(grid_mw, (int, float)) or not grid_mw > 0:
        raise BlueprintError(f"ai_factory: grid_mw must be a positive number of MW, got {grid_mw!r}")
    with bulk():
        return _ai_factory(grid_mw, system, cooling, climate, nodes, power_cap_w, heat_rejection, name, sizing)


def _ai_factory(grid_mw, system, cooling, climate, nodes, power_cap_w, heat_rejection, name, sizing) -> Facility:
    facility = Facility(name or f"ai-factory-{grid_mw:g}mw", grid_limit_mw=grid_mw, climate=climate)
    spec = facility.catalog.system(system)
    tech = facility.catalog.cooling_tech(cooling)
    nodes = spec.nodes_per_rack[0] if nodes is None else nodes
    cap = spec.gpu_tdp_w if power_cap_w is None else power_cap_w
    rack_kw = float(spec.rack_power_kw(nodes, cap))
    liquid = liquid_fraction(tech, spec)
    total = int(grid_mw * 1000 / ASSUMED_PUE.get(cooling, 1.3) // rack_kw)
    per_hall = sizing.racks_per_row * sizing.rows_per_hall
    halls = max(1, math.ceil(total / per_hall))
    facility.add_device("grid", "grid", rating_kw=grid_mw * 1000 * sizing.margin)
    subs = math.ceil(halls / sizing.halls_per_substation)
    for s in range(subs):
        share = min(sizing.halls_per_substation, halls - s * sizing.halls_per_substation) / halls
        facility.add_device(f"sub-{s + 1}", "substation", rating_kw=grid_mw * 1000 * sizing.margin * share, fed_by=["grid"])
    row_depth = 2 * 1.2 + sizing.aisle_m
    hall_width = sizing.racks_per_row * 0.6 + 2 * sizing.aisle_m
    hall_depth = sizing.rows_per_hall * row_depth + sizing.aisle_m
    for h in range(halls):
        count = min(per_hall, total - h * per_hall)
        rows = math.ceil(count / sizing.racks_per_row)
        hall = f"hall-{h + 1:02d}"
        hall_kw = count * rack_kw * sizing.margin
        sub = f"sub-{h // sizing.halls_per_substation + 1}"
        for side in "ab":
            facility.add_device(f"{hall}/tx-{side}", "transformer", model="transformer_mv", rating_kw=hall_kw,
                                fed_by=[sub], group=f"{hall}/tx", redundancy="2N")
            facility.add_device(f"{hall}/ups-{side}", "ups", model="ups_double_conversion", rating_kw=hall_kw,
                                fed_by=[f"{hall}/tx-{side}"], group=f"{hall}/ups", redundancy="2N")
        facility.add_hall(hall, x_m=(h % 10) * (hall_width + 10), y_m=(h // 10) * (hall_depth + 10),
                          width_m=hall_width, depth_m=hall_depth, cooling=cooling)
        hall_racks: list[str] = []
        for r in range(rows):
            row = facility.add_row(hall, f"row-{r + 1:02d}", y_m=(h // 10) * (hall_depth + 10) + sizing.aisle_m + 1.2 / 2 + r * row_depth)
            n = min(sizing.racks_per_row, count - r * sizing.racks_per_row)
            feeds = []
            for side in "ab":
                feeds.append(facility.add_device(f"{row}/busway-{side}", "busway", rating_kw=n * rack_kw * sizing.margin,
                                                 fed_by=[f"{hall}/ups-{side}"], group=f"{row}/busways", redundancy="2N"))
            racks = facility.add_racks(row, n, x_m=(h % 10) * (hall_width + 10) + sizing.aisle_m + 0.3, fed_by=feeds)
            facility.populate(racks, system, nodes=nodes, power_cap_w=power_cap_w)
            hall_racks += racks
        add_cooling_plant(facility, hall, hall_racks, count * rack_kw * sizing.margin, liquid, tech.unit_kind,
                          [heat_rejection])
    return facility


BUILDERS = {"ai_factory": ai_factory}
"""Builders a blueprint file may name in its `builder:` section."""
