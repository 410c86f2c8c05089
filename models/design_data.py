"""The arrays a design model is built from, computed once from a facility with the twin's own physics.

Every coefficient comes from `twin.physics` (one source of truth with the simulator): rack kW at a cap,
tokens/s per tier from measured curves x the cap factor, cooling kW per kW of IT at every hour of the
design weather year (`models.design_year`), power-chain losses per kW at the design load fraction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from models.design_year import DesignYear, design_year
from models.evidence import admits, check_policy, option_evidence
from twin.errors import BlueprintError, InfeasibleDesign, InputError
from twin.graph import DEVICE_KINDS

if TYPE_CHECKING:
    from twin.facility import Facility

CAP_LEVELS = (1.0, 0.9, 0.8, 0.7, 0.6)
"""Default power-cap levels, fractions of TDP (the measured cap curve starts at 0.5)."""
LIQUID_REJECTION = ("chiller_water_cooled", "dry_cooler")
AIR_REJECTION = ("chiller_water_cooled", "cooling_tower")
"""Default heat rejection per cooling family: a trim chiller with waterside economizer (assumption; a
blueprint overrides it with site `heat_rejection: {dlc: [dry_cooler], ...}`)."""
ELECTRICITY_USD_PER_KWH = 0.08
"""Assumption: US industrial average, 5-10 c/kWh (EIA Electric Power Annual 2023, official_statistics)."""
COOLING_SPARE = 1.25
"""Assumption: N+1 cooling with four duty units installs 5/4 of the load."""
HOURS_PER_YEAR = 8760.0


@dataclass
class HallClass:
    """Halls that are interchangeable for the design: same rack positions, floor and cooling choices."""

    name: str
    halls: list[str]
    positions: int
    coolings: list[str]
    chain: list[tuple[str | None, int, int]]  # (equipment model, members, usable members) from rack to grid
    chain_rate: float                          # chain losses per kW delivered to racks at design load
    max_floor_kg_m2: float = float("inf")      # the halls' floor loading limit (hall attribute max_floor_kg_m2)


@dataclass
class DesignData:
    """Everything the design model needs, as plain arrays indexed by options, coolings, tiers."""

    site: str
    grid_limit_kw: float
    aux_kw: float
    halls: list[HallClass]
    coolings: list[str]
    tiers: list[str]
    options: list[tuple[str, int, float]]        # (system, nodes per rack, cap W)
    rack_kw: np.ndarray                          # (option,)
    floor_kg_m2: np.ndarray                      # (option,) rack weight over its footprint
    gpus: np.ndarray                             # (option,)
    capex_rack: np.ndarray                       # (option,) USD
    tokens: np.ndarray                           # (option, tier) tokens/s per rack
    usd_per_hour: np.ndarray                     # (option, tier) revenue per rack-hour
    compatible: np.ndarray                       # (option, cooling) bool
    cooling_kw: np.ndarray                       # (option, cooling) cooling kW per kW IT, design-year mean
    liquid: np.ndarray                           # (option, cooling) liquid share of the heat
    water_l_per_kwh: np.ndarray                  # (option, cooling) L per kWh IT, design-year mean
    cooling_capex_per_kw: np.ndarray             # (cooling,) USD per kW of heat, units + rejection, with spares
    power_capex_per_kw: float                    # USD per kW IT of power chain with its redundancy
    demand: np.ndarray                           # (tier,) tokens/s cap (inf = none)
    commitment: np.ndarray                       # (tier,) tokens/s minimum (0 = none)
    capex_budget: float = float("inf")
    electricity_usd_per_kwh: float = ELECTRICITY_USD_PER_KWH
    rejection: dict[str, tuple[str, ...]] = field(default_factory=dict)
    workload: Any = None
    market: Any = None                           # twin.economics.Market the site sells into
    finance: Any = None                          # twin.economics.Finance: WACC, lives, O&M, electricity
    billing: str = "tokens"                      # `tokens` or `gpu_hours`
    evidence: list[str] = field(default_factory=list)     # (option,) measured | derived | vendor_claim
    evidence_policy: str = "measured"
    idle_fraction: np.ndarray | None = None      # (option,) rack power at idle / at full load
    list_usd_per_mtok: np.ndarray | None = None  # (tier,) list price of the workload's input/output blend
    tier_mix: dict[str, float] | None = None     # share of GPUs per tier the design must keep (None: free)
    cap_curve: str = "measured_default"          # catalog power-cap curve the options' throughput follows
    keep_plant: bool = False                     # brownfield: existing power/cooling devices and ratings stay
    units: dict[str, list[str]] | None = None    # keep_plant: hall class (unit) -> its rack positions
    device_rows: list = field(default_factory=list)   # keep_plant: models.brownfield.DeviceRow per device group
    year: DesignYear | None = None  # the design weather year: hourly coefficients, rows that can bind

    def overhead(self) -> np.ndarray:
        """(hall class, option, cooling) grid kW per rack over the design year on average: IT x (1 + chain) + cooling."""
        chain = np.array([h.chain_rate for h in self.halls])
        return self.rack_kw[None, :, None] * (1.0 + chain[:, None, None] + self.cooling_kw[None, :, :])

    def overhead_at(self, hours: Any) -> np.ndarray:
        """(hour, hall class, option, cooling) grid kW per rack at hours of the design year."""
        chain = np.array([h.chain_rate for h in self.halls])
        cooling = self.year.cooling_at(hours)
        return self.rack_kw[None, None, :, None] * (1.0 + chain[None, :, None, None] + cooling[:, None, :, :])


def design_data(
    facility: Facility,
    *,
    grid_mw: float | None = None,
    power_caps: bool = True,
    cap_levels: Sequence[float] | None = None,
    systems: Sequence[str] | None = None,
    workload: Any = None,
    evidence: str | None = None,
    cap_curve: str | None = None,
    market: Any = None,
    finance: Any = None,
    keep_plant: bool | None = None,
    exceedance_hours: int | str | None = None,
    throttle_hours: int | str | None = None,
) -> DesignData:
    """Collect options and coefficients for a facility; domain errors say what is missing and how to fix it.

    exceedance_hours / throttle_hours: design-year hours the grid limit may be exceeded / racks may throttle
    (default: the site's `design_exceedance_hours` / `design_throttle_hours`, else 0).
    """
    from twin.design_year import exceedance_hours as allowed_hours
    from twin.physics import ThroughputRangeError, gpu, tokens
    from twin.simulation import aux_power_kw
    from twin.tables import liquid_fraction

    cat = facility.catalog
    site = facility.graph.graph
    if grid_mw is not None and (isinstance(grid_mw, bool) or not isinstance(grid_mw, (int, float))
                                or not math.isfinite(grid_mw) or grid_mw <= 0):
        raise InputError(f"grid_mw={grid_mw!r}: the grid limit must be a finite number of MW above 0")
    limit_mw = grid_mw if grid_mw is not None else facility.grid_limit_mw
    if limit_mw is None or not limit_mw > 0:
        raise InfeasibleDesign("the site has no grid limit: set site.grid_limit_mw (or pass --mw)")
    if workload is None:
        own = site.get("workload")
        try:
            workload = tokens.Workload(**own) if isinstance(own, dict) else tokens.Workload()
        except TypeError as exc:
            raise BlueprintError(f"site.workload: {exc}; use the fields of twin.physics.tokens.Workload "
                                 "(llm, precision, isl, osl, kind, tier_mix, params_b, mfu)") from None

    keep = bool(site.get("keep_plant") if keep_plant is None else keep_plant)
    if keep:
        from models.brownfield import unit_classes

        halls, units, rows = unit_classes(facility)
    else:
        halls, units, rows = _hall_classes(facility), None, []
    coolings = sorted({c for h in halls for c in h.coolings})
    tiers = list(cat.tiers)
    system_ids = list(systems or named_systems(facility) or cat.systems)
    for s in system_ids:
        cat.system(s)
    policy = check_policy(evidence if evidence is not None else site.get("evidence"))
    labels = {s: option_evidence(cat, s, workload) for s in system_ids}
    if not any(admits(policy, lab) for lab in labels.values()):
        raise InfeasibleDesign(f"every system the site names ({', '.join(f'{s}: {lab}' for s, lab in labels.items())}) rests "
                               "on derived or vendor-claim throughput; pass evidence='claims' (--evidence claims) to use "
                               "them, or name systems with measured curves (systems=, --systems)")
    levels = tuple(cap_levels or site.get("cap_levels") or CAP_LEVELS) if power_caps else (1.0,)
    curve_id = cap_curve or site.get("cap_curve") or gpu.DEFAULT_CAP_CURVE
    curve = cat.power_cap_curve(curve_id)
    options, rack_kw, gpus, capex, tok, usd, floor, idle = [], [], [], [], [], [], [], []
    for s in (s for s in system_ids if admits(policy, labels[s])):
        spec = cat.system(s)
        rates = []
        for t in tiers:
            try:
                p = tokens.tier_point(cat, s, t, workload)
                rates.append((p.tokens_per_s_per_gpu, tokens.revenue_usd_per_mtok(cat, t, p.output_share)))
            except ThroughputRangeError:
                rates.append((0.0, 0.0))
        if not any(r for r, _ in rates):
            continue
        for n in spec.nodes_per_rack:
            for level in levels:
                if level < curve.min_cap_fraction - 1e-12 or level > 1.0:
                    continue
                cap = spec.gpu_tdp_w * level
                g = int(spec.gpus_per_rack(n))
                factor = float(curve.factor(level))
                options.append((s, int(n), float(cap)))
                rack_kw.append(float(gpu.rack_power_kw(spec, n, cap, 1.0)))
                idle.append(float(gpu.rack_power_kw(spec, n, cap, 0.0)) / rack_kw[-1])
                gpus.append(g)
                capex.append(g * spec.capex_usd_per_gpu)
                floor.append(spec.rack_weight_kg / (spec.rack_width_m * spec.rack_depth_m))
                tok.append([g * factor * r for r, _ in rates])
                usd.append([g * factor * r * price * 3600 / 1e6 for r, price in rates])
    if not options:
        raise InfeasibleDesign(f"none of the systems {system_ids} has measured throughput for {workload.describe()}; "
                               "choose other systems or another workload")
    rack_kw_a = np.array(rack_kw)
    rejection = {c: tuple(_rejection(site, cat.cooling_tech(c))) for c in coolings}
    compatible = np.zeros((len(options), len(coolings)), dtype=bool)
    liquid = np.zeros_like(compatible, dtype=float)
    for j, c in enumerate(coolings):
        tech = cat.cooling_tech(c)
        for i, (s, _, _) in enumerate(options):
            spec = cat.system(s)
            compatible[i, j] = c in spec.cooling and rack_kw_a[i] <= tech.max_rack_kw + 1e-9
            liquid[i, j] = liquid_fraction(tech, spec)
    if not compatible.any():
        raise InfeasibleDesign(f"no system among {sorted({o[0] for o in options})} can be cooled by the halls' cooling "
                               f"choices {coolings}; allow another cooling technology (hall cooling_options)")
    year = design_year(facility, cat, options, coolings, compatible, liquid, rejection, site.get("air_heat_rejection"),
                       allowed_hours(_given(throttle_hours, site.get("design_throttle_hours")), "design_throttle_hours"),
                       allowed_hours(_given(exceedance_hours, site.get("design_exceedance_hours")),
                                     "design_exceedance_hours"))
    compatible &= np.isfinite(year.free_factor)
    cool_kw = year.annual_cooling()
    water = np.where(year.heat_class >= 0, year.class_water[np.maximum(year.heat_class, 0)], 0.0)
    cool_capex = np.array([_cooling_capex(cat, c, rejection[c]) for c in coolings])
    from models.billing import billed_usd_per_hour, check_billing
    from twin.economics import finance_for, market_for

    usd = billed_usd_per_hour(cat, site, options, tok, usd, curve_id)   # site `billing`: tokens (default) or gpu_hours
    market = market if market is not None else market_for(site, cat.tiers)
    finance = finance if finance is not None else finance_for(site)
    billing = check_billing(site.get("billing"))
    demand = np.array([_saturation(market, t, float(limit_mw)) if billing == "tokens" else float("inf") for t in tiers])
    commit = np.array([market.tier(t).commit_tokens_per_s for t in tiers])
    served = np.array(tok).max(axis=0)
    for j, t in enumerate(tiers):
        if commit[j] > 0 and served[j] <= 0:
            tier = cat.tier(t)
            raise InfeasibleDesign(f"tier {t!r} needs {tier.min_interactivity_tok_s_user:g} tokens/s per user and no "
                                   f"system among {system_ids} reaches it on measured points; drop its commitment "
                                   "or allow faster systems")
    return DesignData(
        site=facility.name, grid_limit_kw=float(limit_mw) * 1000.0, aux_kw=float(aux_power_kw(facility)), halls=halls, coolings=coolings, tiers=tiers, options=options,
        rack_kw=rack_kw_a, floor_kg_m2=np.array(floor), gpus=np.array(gpus, dtype=float), capex_rack=np.array(capex, dtype=float),
        tokens=np.array(tok), usd_per_hour=np.array(usd), compatible=compatible, cooling_kw=cool_kw, liquid=liquid,
        water_l_per_kwh=water, cooling_capex_per_kw=cool_capex, power_capex_per_kw=_power_capex(cat, halls),
        demand=demand, commitment=commit, capex_budget=float(site.get("capex_budget_usd") or float("inf")),
        electricity_usd_per_kwh=finance.electricity_usd_per_kwh, rejection=rejection, workload=workload,
        market=market, finance=finance, billing=billing,
        evidence=[labels[o[0]] for o in options], evidence_policy=policy, idle_fraction=np.array(idle),
        list_usd_per_mtok=np.array([tokens.revenue_usd_per_mtok(cat, t, workload.osl / (workload.isl + workload.osl))
                                    for t in tiers]),
        tier_mix=dict(workload.tier_mix) if workload.tier_mix is not None else None, cap_curve=curve_id,
        keep_plant=keep, units=units, device_rows=rows, year=year,
    )


def _hall_classes(facility: Facility) -> list[HallClass]:
    """Group halls by rack positions, cooling choices, power chain and floor limit (no binary per hall).

    Floor loading is rack weight over footprint (the catalog's full-rack weight at every density: a
    conservative assumption) against the hall's `max_floor_kg_m2`, when it has one.
    """
    from twin.physics.power_chain import Stage, chain_losses

    racks = facility.table("rack")
    halls = facility.table("hall")
    if racks.empty:
        raise InfeasibleDesign("the facility has no rack positions: add rows of racks (empty positions are fine)")
    cat = facility.catalog
    members_of = device_groups(facility)
    groups: dict[tuple, list[str]] = {}
    chains: dict[tuple, list] = {}
    for hall, positions in racks.groupby("hall").size().items():
        own = halls.at[hall, "cooling_options"] if "cooling_options" in halls and isinstance(
            halls.at[hall, "cooling_options"], list) else list(cat.cooling)
        for c in own:
            cat.cooling_tech(c)
        chain = hall_chain(facility, racks.index[racks["hall"] == hall][0], members_of)
        floor = halls.at[hall, "max_floor_kg_m2"] if "max_floor_kg_m2" in halls else None
        floor = float(floor) if isinstance(floor, (int, float)) and floor == floor else float("inf")
        key = (int(positions), tuple(sorted(own)), tuple(chain), floor)
        groups.setdefault(key, []).append(hall)
        chains[key] = chain
    out = []
    for i, (key, members) in enumerate(groups.items()):
        positions, own, _, floor = key
        chain = chains[key]
        stages = [Stage(model, 1.0 / usable, members_) for model, members_, usable in chain]
        rate = float(chain_losses(cat, stages, 1.0)["losses_kw"]) if stages else 0.0
        out.append(HallClass(f"class-{i + 1}", members, positions, list(own), chain, rate, floor))
    return out


def device_groups(facility: Facility) -> dict[str, list[str]]:
    """Redundancy group name -> its member devices."""
    members_of: dict[str, list[str]] = {}
    for kind, pairs in facility.graph.by_kind().items():
        if kind in DEVICE_KINDS:
            for node, attrs in pairs:
                if isinstance(attrs.get("group"), str):
                    members_of.setdefault(attrs["group"], []).append(node)
    return members_of


def hall_chain(facility: Facility, rack: str, members_of: dict[str, list[str]]) -> list[tuple[str | None, int, int]]:
    """The serial power chain above a rack: (model, group members, usable members) per level up to the grid."""
    from twin.physics.power_chain import equipment_for
    from twin.validation import parse_redundancy

    graph = facility.graph
    out = []
    node, seen = rack, {rack}
    while True:
        feeds = [u for u, d in graph.pred[node].items() if d.get("kind") == "power"]
        if not feeds or feeds[0] in seen:
            return out
        node = feeds[0]
        seen.add(node)
        attrs = graph.nodes[node]
        eq = equipment_for(facility.catalog, attrs.get("kind"), attrs.get("model"))
        group = attrs.get("group")
        members = members_of.get(group, [node]) if isinstance(group, str) else [node]
        spares = parse_redundancy(attrs.get("redundancy") if isinstance(attrs.get("redundancy"), str) else None)
        usable = max(1, len(members) - (spares(len(members)) if spares else 0))
        if eq is not None:
            out.append((eq.id, len(members), usable))


def _rejection(site: dict, tech) -> list[str]:
    # a mapping `heat_rejection: {dlc: [...]}` (Python), or flat `heat_rejection_dlc: [...]` (saved blueprints)
    own = (site.get("heat_rejection") or {}).get(tech.id) or site.get(f"heat_rejection_{tech.id}")
    if own:
        return [own] if isinstance(own, str) else list(own)
    return list(AIR_REJECTION if tech.unit_kind in ("crah", "rdhx") else LIQUID_REJECTION)


def _cooling_capex(cat, cooling: str, chain: Sequence[str]) -> float:
    tech = cat.cooling_tech(cooling)
    plant = sum(cat.heat_rejection(u).capex_usd_per_kw for u in chain)
    return (tech.capex_usd_per_kw + plant) * COOLING_SPARE


def _power_capex(cat, halls: list[HallClass]) -> float:
    """USD per kW IT of the power chain (the first hall class's chain; redundancy = members / usable)."""
    chain = halls[0].chain if halls else []
    return sum(cat.equipment(model).capex_usd_per_kw * members / usable for model, members, usable in chain if model)


def _saturation(market: Any, tier: str, grid_mw: float) -> float:
    """Tokens/s beyond which a tier sells nothing more: peak demand x the demand curve's last point."""
    m = market.tier(tier)
    if m.sell_through is not None:
        return float("inf")
    return market.peak_demand(tier, grid_mw) * max(d for _, d in m.price_response)


def named_systems(facility: Facility) -> list[str]:
    """The systems a blueprint names: `site.systems` first, then its racks' systems (in order, no repeats)."""
    racks = facility.table("rack")
    own = list(facility.graph.graph.get("systems") or [])
    built = [s for s in racks["system"].dropna()] if "system" in racks else []
    return list(dict.fromkeys([*own, *built]))


def _given(value: Any, site_value: Any) -> Any:
    return site_value if value is None else value
