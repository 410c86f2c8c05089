"""Parametric facility builders: a whole site from a few numbers, sized from the catalog's rack power.

- `ai_factory`: inference-first, liquid-cooled racks, 2N power, token-tier billing;
- `ai_datacenter`: mixed workloads on HGX-class servers, air/rear-door/hybrid cooling on chilled water,
  N+1 power, GPU-hour billing;
- `rubin_factory`: Vera Rubin / Rubin Ultra racks on warm water and 800 VDC distribution;
- `retrofit`: an air-cooled datacenter hall converted to direct-to-chip liquid cooling, keeping its rack
  positions, power chain and grid connection.

>>> from blueprints.parametric import ai_factory
>>> site = ai_factory(grid_mw=5, system="gb200_nvl72")
>>> site.validate() == []
True
"""

from __future__ import annotations

import math
from typing import Sequence

from blueprints.fit import binding_weather, racks_within, trim_to_grid
from blueprints.layout import UPS_MODELS, Cooling, Sizing, check_grid, for_climate, lay_out
from twin import limits
from twin.errors import BlueprintError
from twin.design_year import design_weather
from twin.design_year.sizing import MAX_FREE_OVERSIZE, size_free_cooling
from twin.facility import Facility
from twin.graph import HEAT_KINDS, bulk
from twin.plant import add_cooling_plant
from twin.tables import liquid_fraction

ASSUMED_PUE = {"air": 1.45, "rdhx": 1.35, "dlc": 1.2, "dlc_2p": 1.15, "immersion": 1.1}
"""Assumption: design PUE used only to size how many racks to lay out under the grid limit; the physics
computes the real one. Values follow the ranges in reference/cooling_physics.yaml (label: assumption)."""
CHILLED_WATER = ("chiller_water_cooled", "cooling_tower")
"""An AI datacenter's plant: water-cooled chillers with cooling towers (chilled water for every loop)."""
FREE_LOOP = ("dry_cooler",)
"""An AI factory's liquid loop by default: dry coolers (given a trim chiller where the climate needs one)."""
LIQUID_LOOP = ("chiller_water_cooled", "dry_cooler")
"""A retrofit's new liquid loop: dry coolers with a trim chiller for hot hours (the optimizer's default)."""
DATACENTER_SYSTEMS = ("h200_hgx8", "b200_hgx8", "b300_hgx8", "mi300x_8gpu", "mi355x_8gpu")
"""What an AI datacenter buys: 8-GPU servers that rent by the GPU-hour and run any workload."""
FACTORY_SYSTEMS = ("gb200_nvl72", "gb300_nvl72")
RUBIN_SYSTEMS = ("vera_rubin_nvl72", "rubin_ultra_nvl576")
AIR_REJECTIONS: dict[str, tuple[str, ...]] = {
    "chiller": ("chiller_air_cooled",),
    "dry_cooler": ("dry_cooler",),
    "adiabatic": ("dry_cooler_adiabatic",),
    "tower": ("cooling_tower",),
    "chiller_tower": ("chiller_water_cooled", "cooling_tower"),
}
"""`air_rejection=` choices for the residual air heat of liquid-cooled halls (CRAHs / fan walls): an
air-cooled chiller (default), chiller-less dry coolers (dry or with adiabatic assist) or cooling towers, or
water-cooled chillers on towers."""


def _air_chain(builder: str, air_rejection: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(air_rejection, str):
        if air_rejection not in AIR_REJECTIONS:
            raise BlueprintError(f"{builder}: air_rejection={air_rejection!r} is not one of {list(AIR_REJECTIONS)} "
                                 "(or a list of catalog heat-rejection ids)")
        return AIR_REJECTIONS[air_rejection]
    return tuple(air_rejection)


def _supply(facility_water_c: float | None, air_water_c: float | None, unit_kind: str) -> tuple[tuple[str, float], ...]:
    """Facility water temperatures the units ask for, where the caller sets them."""
    out = []
    if facility_water_c is not None:
        out.append((unit_kind, float(facility_water_c)))
    if air_water_c is not None:
        out.append(("crah", float(air_water_c)))
    return tuple(out)


def ai_factory(
    grid_mw: float = 100.0,
    *,
    system: str = "gb200_nvl72",
    cooling: str = "dlc",
    climate: str = "phoenix",
    nodes: int | None = None,
    power_cap_w: float | None = None,
    heat_rejection: str | Sequence[str] | None = None,
    power: str = "2N",
    ups: str = "double_conversion",
    air_rejection: str | Sequence[str] = "chiller",
    facility_water_c: float | None = None,
    air_water_c: float | None = None,
    air_economizer: bool = False,
    cooling_options: Sequence[str] | None = None,
    name: str | None = None,
    sizing: Sizing = Sizing(),
    gpu_nodes: bool = True,
) -> Facility:
    """A site filled with identical racks up to the grid limit: 2N power to every row, N+1 cooling per hall.

    heat_rejection: catalog heat-rejection id (or chain) for the technology's own stream, built as given;
    None (default): dry coolers, with a trim chiller ahead of them where the climate's design year has hours
    they cannot hold (FREE_LOOP, `blueprints.layout.for_climate`). power: redundancy
    '2N', 'N+1' or 'N' ('dc_800v' = 2N with ups='dc_800v'). ups: 'double_conversion', 'eco', 'dc_800v'
    (800 VDC rectifiers; vendor-claim figures) or 'none'. air_rejection: where residual air heat goes,
    'chiller' (air-cooled), 'dry_cooler', 'adiabatic', 'tower' or 'chiller_tower' (see AIR_REJECTIONS). facility_water_c /
    air_water_c: facility water the liquid units / CRAHs ask of their plant (default: the technology's).
    air_economizer: CRAHs take outside air when it is cool and dry enough (twin.physics.cooling). cooling_options: the halls' allowed cooling technologies for the optimizer (None: any).
    gpu_nodes: False builds a lean graph without one node per GPU (`Facility.gpu_nodes`; every builder takes it).

    A chiller-less warm-water site with low-loss power:
    `ai_factory(20, system="gb300_nvl72", ups="eco", air_rejection="dry_cooler", climate="lulea")`.
    """
    grid_mw = check_grid("ai_factory", grid_mw)
    air = _air_chain("ai_factory", air_rejection)
    chain = FREE_LOOP if heat_rejection is None else \
        (heat_rejection,) if isinstance(heat_rejection, str) else tuple(heat_rejection)
    tech = cooling
    with bulk():
        facility = Facility(name or f"ai-factory-{grid_mw:g}mw", grid_limit_mw=grid_mw, climate=climate,
                            gpu_nodes=_flag("ai_factory", gpu_nodes))
        unit_kind = facility.catalog.cooling_tech(tech).unit_kind
        _fill(facility, grid_mw, system, nodes, power_cap_w, sizing, power,
              Cooling(tech, chain, air, options=None if cooling_options is None else tuple(cooling_options),
                      supply_c=_supply(facility_water_c, air_water_c, unit_kind), trim=heat_rejection is None), ups=ups)
    if air != AIR_REJECTIONS["chiller"]:
        facility.graph.graph["air_heat_rejection"] = list(air)
    return _economize(facility) if air_economizer else facility


def ai_datacenter(
    grid_mw: float = 100.0,
    *,
    system: str = "b200_hgx8",
    nodes: int | None = 4,
    cooling: str = "rdhx",
    cooling_options: Sequence[str] = ("air", "rdhx", "dlc"),
    climate: str = "ashburn",
    power_cap_w: float | None = None,
    power: str = "N+1",
    ups: str = "double_conversion",
    chilled_water_c: float | None = None,
    heat_rejection: Sequence[str] = CHILLED_WATER,
    air_economizer: bool = False,
    systems: Sequence[str] = DATACENTER_SYSTEMS,
    name: str | None = None,
    sizing: Sizing = Sizing(),
    gpu_nodes: bool = True,
) -> Facility:
    """An AI datacenter: 8-GPU servers in 40-120 kW racks, rear doors (or hybrid direct-to-chip) on chilled
    water from water-cooled chillers and towers, N+1 transformers and UPS modules, billed per GPU-hour.

    power / ups: redundancy and UPS stage as for `ai_factory`. chilled_water_c: chilled-water supply the
    CRAHs ask for (default the catalog `air` technology's 14 °C). heat_rejection: the chilled-water plant
    (default chillers with towers and a waterside economizer; ("chiller_water_cooled",) for chillers alone on
    their own towers, no economizer). air_economizer: CRAHs take outside air when it is cool and dry
    enough (an airside economizer, twin.physics.cooling). Sets the site attributes the optimizer and
    `solvers.compare` read: `billing: gpu_hours`, `framing: ai-datacenter`, `systems`, and
    `heat_rejection_<tech>` (chilled water for every technology).
    """
    grid_mw = check_grid("ai_datacenter", grid_mw)
    with bulk():
        facility = Facility(name or f"ai-datacenter-{grid_mw:g}mw", grid_limit_mw=grid_mw, climate=climate,
                            gpu_nodes=_flag("ai_datacenter", gpu_nodes))
        _fill(facility, grid_mw, system, nodes, power_cap_w, sizing, power,
              Cooling(cooling, tuple(heat_rejection), tuple(heat_rejection), tuple(cooling_options),
                      supply_c=_supply(None, chilled_water_c, "crah")), ups=ups)
    facility.graph.graph.update(framing="ai-datacenter", billing="gpu_hours", systems=list(systems),
                                **{f"heat_rejection_{c}": list(heat_rejection) for c in cooling_options})
    return _economize(facility) if air_economizer else facility


def _economize(facility: Facility) -> Facility:
    """Give every CRAH an airside economizer (outside air instead of return air when cool and dry enough)."""
    for unit in facility.nodes_of("crah"):
        facility.graph.nodes[unit]["air_economizer"] = True
    return facility


def rubin_factory(
    grid_mw: float = 1000.0,
    *,
    system: str = "vera_rubin_nvl72",
    climate: str = "abilene",
    power_cap_w: float | None = None,
    systems: Sequence[str] = RUBIN_SYSTEMS,
    name: str | None = None,
    sizing: Sizing = Sizing(),
    gpu_nodes: bool = True,
) -> Facility:
    """A Vera Rubin / Rubin Ultra AI factory: warm-water direct-to-chip racks with dry coolers (and a trim
    chiller stage, as the optimizer models liquid loops), 800 VDC distribution (catalog `dc_800v`) instead
    of AC UPSs, token-tier billing."""
    grid_mw = check_grid("rubin_factory", grid_mw)
    facility = ai_factory(grid_mw, system=system, climate=climate, power_cap_w=power_cap_w, power="dc_800v",
                          cooling_options=("dlc",), name=name or f"rubin-factory-{grid_mw:g}mw", sizing=sizing,
                          gpu_nodes=_flag("rubin_factory", gpu_nodes))
    facility.graph.graph.update(framing="ai-factory", billing="tokens", systems=list(systems))
    return facility


def retrofit(
    grid_mw: float = 6.0,
    *,
    system: str = "gb200_nvl72",
    legacy_system: str = "h200_hgx8",
    legacy_nodes: int = 4,
    climate: str = "ashburn",
    systems: Sequence[str] = FACTORY_SYSTEMS,
    name: str | None = None,
    sizing: Sizing = Sizing(),
    gpu_nodes: bool = True,
) -> Facility:
    """An air-cooled AI datacenter (rear doors on chilled water, N+1 power) converted to direct-to-chip.

    The legacy site is laid out for `legacy_system` racks up to the grid limit; the conversion keeps every
    rack position, the power chain with its ratings and the grid connection, replaces the in-hall cooling
    with CDUs on dry coolers and a trim chiller (the existing chilled-water plant takes the residual air heat), allows only
    `dlc` in the halls, and fills positions with `system` racks row by row as far as each row's busway
    rating (less the design margin) and the grid limit (at the assumed DLC design PUE) allow; the rest stay
    empty.
    """
    grid_mw = check_grid("retrofit", grid_mw)
    with bulk():
        facility = Facility(name or f"retrofit-{grid_mw:g}mw", grid_limit_mw=grid_mw, climate=climate,
                            gpu_nodes=_flag("retrofit", gpu_nodes))
        _fill(facility, grid_mw, legacy_system, legacy_nodes, None, sizing, "N+1",
              Cooling("rdhx", CHILLED_WATER, CHILLED_WATER, ("air", "rdhx")))
        _convert_to_dlc(facility, grid_mw, system, sizing.margin)
    facility.graph.graph.update(framing="retrofit", billing="tokens", systems=list(systems), legacy_system=legacy_system)
    return facility


def _fill(facility: Facility, grid_mw: float, system: str, nodes: int | None, power_cap_w: float | None,
          sizing: Sizing, power: str, cooling: Cooling, ups: str = "double_conversion") -> Facility:
    """Lay out identical `system` racks up to the grid limit at every hour of the design year that can bind:
    heat rejection for the climate (with `cooling.trim`, a trim chiller where free cooling cannot hold it; free
    coolers sized for the year up to MAX_FREE_OVERSIZE, beyond which `twin check` reports the hours they
    cannot hold), the rack count from a one-hall probe simulated at full load, the last racks emptied if the
    whole site still draws more (blueprints.fit)."""
    spec = facility.catalog.system(system)
    tech = facility.catalog.cooling_tech(cooling.tech)
    nodes = spec.nodes_per_rack[0] if nodes is None else nodes
    cap = spec.gpu_tdp_w if power_cap_w is None else power_cap_w
    rack_kw = float(spec.rack_power_kw(nodes, cap))
    guess = int(grid_mw * 1000 / ASSUMED_PUE.get(cooling.tech, 1.3) // rack_kw)
    gpus = guess * spec.gpus_per_rack(nodes) if facility.gpu_nodes else 0
    limits.check_nodes(len(facility.graph) + guess + gpus, gpus=gpus,
                       what=f"a {grid_mw:g} MW site of {guess:,} {system} racks")
    _servable_workload(facility, system)
    year = design_weather(facility)
    hours = binding_weather(year)
    if cooling.trim:
        cooling = for_climate(facility.catalog, cooling, spec, year)

    def build(into: Facility, count: int, mw: float) -> Facility:
        lay_out(into, mw, count, rack_kw, cooling, liquid_fraction(tech, spec), tech.unit_kind, system=system,
                nodes=nodes, power_cap_w=power_cap_w, power=power, ups=ups, sizing=sizing)
        size_free_cooling(into, year, at_most=MAX_FREE_OVERSIZE)
        return into

    per_hall = sizing.racks_per_row * sizing.rows_per_hall
    if guess >= 1:
        probe = lambda n: build(Facility("probe", grid_limit_mw=grid_mw * n / guess, climate=facility.climate,  # noqa: E731
                                         gpu_nodes=False), n, grid_mw * n / guess)  # only simulated: no GPU nodes
        guess = racks_within(grid_mw * 1000.0, rack_kw, probe, min(per_hall, guess), hours)
    build(facility, guess, grid_mw)
    trim_to_grid(facility, hours)
    return facility


def _flag(builder: str, gpu_nodes: object) -> bool:
    """`gpu_nodes=` as a bool, or a BlueprintError naming the builder (a blueprint's `maybe` is not a mode)."""
    if not isinstance(gpu_nodes, bool):
        raise BlueprintError(f"{builder}: gpu_nodes must be true or false, got {gpu_nodes!r}")
    return gpu_nodes


def _servable_workload(facility: Facility, system: str) -> None:
    """Declare a site workload `system` can serve when the default one is out of its reach (H100s have curves
    for gpt-oss only; MI300X reaches no premium-tier interactivity): the default LLM if it has a curve, else
    the system's first 1k/1k curve, over the tiers it reaches in equal shares. Labelled an assumption in
    `site.workload_note`; a site that declares its own workload keeps it."""
    from twin.physics import ThroughputRangeError, tokens

    cat, site = facility.catalog, facility.graph.graph
    if site.get("workload") is not None:
        return

    def reached(w: tokens.Workload) -> list[str]:
        out = []
        for tier in cat.tiers:
            try:
                tokens.tier_point(cat, system, tier, w)
                out.append(tier)
            except ThroughputRangeError:
                pass
        return out

    default = tokens.Workload()
    curves = cat.throughput_for(system)[["llm", "precision", "isl", "osl"]].drop_duplicates()
    curves = curves.sort_values(["isl", "osl"], key=lambda c: (c - 1024).abs(), kind="stable")
    options = [default] + [tokens.Workload(llm=r.llm, precision=r.precision, isl=int(r.isl), osl=int(r.osl))
                           for r in curves.itertuples()]
    for w in options:
        tiers = reached(w)
        if len(tiers) == len(cat.tiers) and w == default:
            return
        if tiers:
            site["workload"] = {"llm": w.llm, "precision": w.precision, "isl": w.isl, "osl": w.osl,
                                "tier_mix": {t: 1 / len(tiers) for t in tiers}}
            site["workload_note"] = (f"assumption: {system} cannot serve every tier of the default workload; "
                                     f"serving {w.describe()} on tiers {', '.join(tiers)} in equal shares")
            return


def _convert_to_dlc(facility: Facility, grid_mw: float, system: str, margin: float) -> None:
    """Swap every hall's cooling for direct-to-chip and repopulate within the grid and each row's busway
    rating less the design margin (so the legacy chain keeps the headroom it was built with)."""
    cat = facility.catalog
    spec = cat.system(system)
    tech = cat.cooling_tech("dlc")
    rack_kw = float(spec.rack_power_kw(spec.nodes_per_rack[0], spec.gpu_tdp_w))
    left = int(grid_mw * 1000 / ASSUMED_PUE["dlc"] // rack_kw)
    facility.graph.remove_nodes_from([n for kind in HEAT_KINDS for n in facility.nodes_of(kind)])
    racks = facility.table("rack")
    busways = facility.table("busway") if facility.nodes_of("busway") else None
    for hall, members in racks.groupby("hall", sort=True):
        facility.graph.nodes[hall].update(cooling="dlc", cooling_options=["dlc"])
        facility.populate(list(members.index), None)
        filled: list[str] = []
        for row, in_row in members.groupby("row", sort=True):
            rating = float(busways.at[f"{row}/busway", "rating_kw"]) if busways is not None else math.inf
            take = min(left, len(in_row), int(rating / margin // rack_kw))
            chosen = list(in_row.index[:take])
            if chosen:
                facility.populate(chosen, system)
            filled += chosen
            left -= take
        heat = len(filled) * rack_kw * margin
        add_cooling_plant(facility, hall, list(members.index), max(heat, rack_kw), liquid_fraction(tech, spec),
                          tech.unit_kind, LIQUID_LOOP, CHILLED_WATER)


BUILDERS = {"ai_factory": ai_factory, "ai_datacenter": ai_datacenter, "rubin_factory": rubin_factory,
            "retrofit": retrofit}
"""Builders a blueprint file may name in its `builder:` section."""

__all__ = ["AIR_REJECTIONS", "ASSUMED_PUE", "BUILDERS", "UPS_MODELS", "Sizing", "ai_factory", "ai_datacenter", "rubin_factory", "retrofit"]
