"""`compare`: two facilities (an AI datacenter and an AI factory, or any two designs) side by side for a
workload mix, with a verdict whose numbers come from the optimizer, a year of simulation, the catalog and
one market and finance for both (`twin.economics`), and the verdict's sensitivity to its prices.

Each facility is designed by `solvers.optimize` for profit under its own billing (site attribute
`billing`: `tokens`, the default, or `gpu_hours`) and the shared market, then simulated through a year
three times with the same weather: serving inference all year (diurnal demand), training all year (the
training profile, checkpoint dips), and the given mix (the physical year: energy, PUE, WUE). Revenue and
cost per year follow `solvers.sensitivity.evaluate`: token billing sells each tier's capacity into the
market hour by hour; compute-hour billing sells GPU-hours at the rental price x the market's realized
factor (reserved share, on-demand premium, occupancy); training GPU-hours sell at the reserved price x
goodput under either billing, and only on racks whose NVLink domain fits a training job. The verdict ranks
margin per MW-year (the scarce resource) under each site's own billing and under each billing model; the
tornado and break-even prices say how far the verdict is from flipping.

>>> from solvers.compare import parse_mix
>>> parse_mix("inference=0.8,training=0.2")
{'inference': 0.8, 'training': 0.2}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from models.billing import check_billing, gpu_hour_price
from solvers.comparison import (
    BILLING_MODELS, INFERENCE, LIQUID, PROFILES, TRAINING, TRAINING_DOMAIN_GPUS, TRAINING_GOODPUT, WORKLOADS,
    CompareError, ComparisonData, Number, SiteEconomics, SiteResult, WorkloadYear,
)
from solvers.plan import Plan
from solvers.report import markdown, write_report
from solvers.sensitivity import OWN, evaluate, tornado
from solvers.verdict import claims, verdict
from twin.physics.tokens import Workload
from twin.progress import Progress, Stages

if TYPE_CHECKING:
    import xarray as xr

    from twin.economics import Finance, Market
    from twin.facility import Facility


@dataclass
class Comparison(ComparisonData):
    """Two `SiteResult`s for a mix, the verdict, the claims and the verdict's sensitivity; writes reports."""

    def save(self, out_dir: str | Path, *, stem: str = "report") -> dict[str, Path]:
        """Write `<stem>.md` (figures as PNG files beside it) and a standalone `<stem>.html`."""
        return write_report(self, Path(out_dir), stem=stem)

    def markdown(self) -> str:
        return markdown(self, figures={})


MIX_TOLERANCE = 0.005
"""Shares may miss 1 by this much (rounded percentages); more is refused, never silently rescaled."""


def parse_mix(text: str | Mapping[str, float] | None) -> dict[str, float]:
    """`inference=0.8,training=0.2` (or a mapping) as shares summing to 1; fine-tuning counts as training."""
    if text is None:
        return {"inference": 0.8, "training": 0.2}
    items: dict[str, float] = {}
    pairs = text.items() if isinstance(text, Mapping) else (p.split("=", 1) for p in str(text).split(",") if p.strip())
    for pair in pairs:
        if len(pair) != 2:
            raise CompareError(f"workload mix {text!r}: write it as inference=0.8,training=0.2")
        key, value = str(pair[0]).strip().lower().replace("_", "-"), pair[1]
        key = "training" if key in ("fine-tuning", "finetuning") else key
        if key not in WORKLOADS:
            raise CompareError(f"workload mix: unknown workload {key!r}; use {' and '.join(WORKLOADS)} "
                               "(fine-tuning is simulated as training)")
        try:
            share = float(value)
        except ValueError:
            raise CompareError(f"workload mix: {key}={value!r} is not a number") from None
        if not np.isfinite(share) or share < 0:
            raise CompareError(f"workload mix: {key}={share!r} must be a share >= 0")
        items[key] = items.get(key, 0.0) + share
    total = sum(items.values())
    if abs(total - 1.0) > MIX_TOLERANCE:
        raise CompareError(f"workload mix {text!r}: the shares add up to {total:g}, not 1; give every share so that "
                           "they add up to 1, e.g. inference=0.8,training=0.2")
    return {w: items.get(w, 0.0) / total for w in WORKLOADS}


def compare(
    a: Facility | Plan | str,
    b: Facility | Plan | str,
    *,
    workload_mix: str | Mapping[str, float] | None = None,
    climate: str | None = None,
    hours: int = 8760,
    render: bool = True,
    views_dir: str | Path | None = None,
    time_limit: float = 60.0,
    market: Market | None = None,
    finance: Finance | None = None,
    utilization: float = 1.0,
    progress: Progress | None = None,
) -> Comparison:
    """Design (unless given a Plan), simulate and compare two facilities for a workload mix.

    a, b: a blueprint name or path, a `twin.Facility`, or a solved `Plan` (used as designed). climate: a
    climate name for both (design ambient of the designs made here, and the weather of every simulation);
    None keeps each facility's own. hours: simulated hours per workload year (per-year numbers are scaled
    to 8,760 h). render: draw a 3D view of each solved facility (PNG, into `views_dir` or a temporary folder).
    market, finance: one `twin.economics.Market` and `Finance` for both (default: the packaged ones), so
    both framings are designed for profit and valued under the same demand realism. utilization scales
    the capacity each site delivers (the tornado's utilization input).
    progress: `progress(done, total, stage)` as each site's design and simulation, and the rendering, start.

    >>> r = compare("ai-datacenter-20mw", "ai-factory-20mw", workload_mix="inference=0.8,training=0.2")  # doctest: +SKIP
    >>> r.verdict["text"]  # doctest: +SKIP
    """
    from twin.economics import default_finance, default_market

    mix = parse_mix(workload_mix)
    market = market if market is not None else default_market()
    finance = finance if finance is not None else default_finance()
    stages = Stages(progress, ["designing and simulating A", "designing and simulating B"] + (["rendering"] if render else []))
    sites = []
    for x, label in ((a, "A"), (b, "B")):
        sites.append(_assess(x, label, mix, climate, hours, time_limit, market, finance, utilization))
        stages.next()
    if render:
        import tempfile

        import twin

        folder = Path(views_dir) if views_dir is not None else Path(tempfile.mkdtemp(prefix="twin-compare-"))
        folder.mkdir(parents=True, exist_ok=True)
        for s in sites:
            s.view = twin.render(s.plan.facility, folder / f"view-{s.label}.png", color_by="rack_power_kw",
                                 window_size=(1000, 640), title=f"{s.label}: {s.name} (rack kW)")
        stages.next()
    econ = [s.economics for s in sites]
    return Comparison(mix, climate, hours, sites, verdict(sites, mix), claims(sites), market, finance,
                      {"tornado": tornado(econ, mix, market, finance) if utilization == 1.0 else [],
                       "utilization": utilization})


def _assess(x: Facility | Plan | str, label: str, mix: dict[str, float], climate: str | None, hours: int,
            time_limit: float, market: Market, finance: Finance, use: float) -> SiteResult:
    """Design one facility for profit (if needed), simulate its workload years and the mixed year, collect the numbers."""
    import solvers

    if isinstance(x, Plan):
        plan = x
    else:
        site = _facility(x, climate)
        plan = solvers.optimize(site, "profit", workload=INFERENCE, time_limit=time_limit, market=market, finance=finance)
    built = plan.facility
    attrs = built.graph.graph
    billing = check_billing(attrs.get("billing"))
    weather = climate or built.climate
    util = _utilization_profiles(hours)
    served = built if billing == "tokens" else with_best_tiers(built, INFERENCE, market)
    (inf, inf_ds), (train, train_ds) = (_year(served, "inference", INFERENCE, weather, hours),
                                        _year(built, "training", TRAINING, weather, hours))
    years = {"inference": inf, "training": train}
    blended = sum(mix[w] * util[w] for w in WORKLOADS)
    ds = _simulate(built, weather, hours, INFERENCE, blended)
    mixed = {**ds.twin.summary(), "utilization": _mean(ds, "utilization")}
    monthly = _monthly(ds)
    framing = str(attrs.get("framing") or ("ai-datacenter" if billing == "gpu_hours" else "ai-factory"))
    econ = _economics(plan, billing, years, inf_ds, train_ds, hours)
    metrics = _metrics(plan, years, mixed, mix, weather, hours, econ, market, finance, use)
    return SiteResult(label, built.name, framing, billing, str(weather), plan, years, mixed, metrics, monthly, econ)


def _economics(plan: Plan, billing: str, years: dict[str, WorkloadYear], inf: xr.Dataset, train: xr.Dataset,
               hours: int) -> SiteEconomics:
    """What the site's money depends on, from its plan and its two workload years."""
    step = inf["step_hours"].values
    used = float((inf["utilization"].values * step).sum())
    by_tier = (inf["tokens_per_s"] * inf["step_hours"]).sum("time")
    capacity = {str(t): float(v) / used if used else 0.0 for t, v in zip(inf["tier"].values, by_tier.values)}
    tstep = train["step_hours"].values
    busy = float((train["utilization"].values * train["throttle"].values * tstep).sum() / tstep.sum())
    data = plan.data
    return SiteEconomics(
        grid_mw=float(plan.kpis["grid_limit_mw"]), billing=billing,
        capacity={t: v for t, v in capacity.items() if t in data.tiers},
        gpu_rate_usd_per_h=gpu_hour_rate(plan.facility)[1],
        training_gpu_rate_usd_per_h=gpu_hour_rate(plan.facility, min_domain=TRAINING_DOMAIN_GPUS)[1],
        inference_throttle=_mean(inf, "throttle"), training_busy=busy,
        grid_mwh={w: years[w].grid_mwh * 8760.0 / hours for w in WORKLOADS},
        capex={k: float(plan.kpis.get(f"capex_usd[{k}]", 0.0)) / data.finance.capex_factor
               for k in ("gpus", "power", "cooling", "building")},
        list_usd_per_mtok={t: float(p) for t, p in zip(data.tiers, data.list_usd_per_mtok)})


def _facility(x: Facility | str, climate: str | None) -> Facility:
    if isinstance(x, (str, Path)):
        import blueprints

        return blueprints.load(str(x), **({"climate": climate} if climate else {}))
    if climate:
        x = x.copy()
        x.graph.graph["climate"] = climate
    return x


def _utilization_profiles(hours: int) -> dict[str, np.ndarray]:
    """The workload profiles on the simulator's default clock (hourly from 2025-01-01, as `_simulate` runs)."""
    from twin.physics import profiles

    time = np.arange(np.datetime64("2025-01-01T00"), np.datetime64("2025-01-01T00") + np.timedelta64(hours, "h"),
                     np.timedelta64(1, "h"))
    return {w: getattr(profiles, PROFILES[w])(time) for w in WORKLOADS}


def _simulate(facility: Facility, weather: str, hours: int, workload: Workload, utilization: Any) -> xr.Dataset:
    import twin

    return twin.simulate(facility, weather=weather, hours=hours, utilization=utilization, workload=workload,
                         per_rack=False, per_device=False)


def _year(facility: Facility, name: str, workload: Workload, weather: str, hours: int) -> tuple[WorkloadYear, xr.Dataset]:
    """One simulated year of a single workload: busy GPU-hours, their list revenue, tokens and token list revenue."""
    ds = _simulate(facility, weather, hours, workload, PROFILES[name])
    step = ds["step_hours"].values
    busy = float((ds["utilization"].values * ds["throttle"].values * step).sum())      # hours at full use
    gpus, usd_per_hour = gpu_hour_rate(facility)
    token_usd = float((ds["revenue_usd_per_h"].sum("tier").values * step).sum()) if name == "inference" else 0.0
    tokens = float((ds["tokens_per_s"].sum("tier").values * 3600.0 * step).sum())
    return WorkloadYear(name, gpus * busy, usd_per_hour * busy, token_usd, tokens, ds.twin.energy_mwh(),
                        _mean(ds, "utilization"), _tier_shares(facility) if name == "inference" else {}), ds


def _tier_shares(facility: Facility) -> dict[str, float]:
    """Share of GPUs per served tier (racks without a tier serve every tier equally: 'mixed')."""
    racks = facility.table("rack")
    racks = racks[racks["system"].notna()]
    tier = racks["tier"].fillna("mixed") if "tier" in racks else np.full(len(racks), "mixed")
    shares = racks["gpus"].groupby(np.asarray(tier, dtype=object)).sum()
    return {str(t): float(v / shares.sum()) for t, v in shares.sort_values(ascending=False).items()}


def gpu_hour_rate(facility: Facility, min_domain: int = 0) -> tuple[float, float]:
    """(GPUs, USD per hour at full use) of the populated racks under GPU-hour billing: each rack's GPUs x
    its system's GPU-hour list price x the throughput factor of its power cap (only systems whose NVLink
    domain has at least `min_domain` GPUs)."""
    from twin.physics import gpu

    cat = facility.catalog
    racks = facility.table("rack")
    racks = racks[racks["system"].notna()]
    racks = racks[[cat.system(s).nvlink_domain_gpus >= min_domain for s in racks["system"]]]
    gpus = racks["gpus"].to_numpy(float)
    price = np.array([gpu_hour_price(cat, s).usd for s in racks["system"]])
    factor = np.array([float(gpu.cap_factor(cat, c, t)) for c, t in zip(racks["cap_w"], racks["gpu_tdp_w"])])
    return float(gpus.sum()), float((gpus * price * factor).sum())


def with_best_tiers(facility: Facility, workload: Workload, market: Market | None = None) -> Facility:
    """A copy whose racks each serve the best-paying token tier their system reaches (how a GPU-hour site
    would sell tokens), filling each tier up to what its market can ever buy (peak demand x the demand
    curve's last point) greedily, best list revenue first."""
    from twin.economics import market_for
    from twin.physics import ThroughputRangeError, gpu, tokens

    out = facility.copy()
    cat = out.catalog
    racks = out.table("rack")
    racks = racks[racks["system"].notna()]
    market = market if market is not None else market_for(out.graph.graph, cat.tiers)
    grid_mw = float(out.grid_limit_mw or 0.0)
    left = {t: market.peak_demand(t, grid_mw) * max(d for _, d in market.tier(t).price_response)
            if market.tier(t).sell_through is None else np.inf for t in cat.tiers}
    offers: dict[tuple, list[tuple[float, float, str]]] = {}
    for key in {(s, g, c, tdp) for s, g, c, tdp in zip(racks["system"], racks["gpus"], racks["cap_w"], racks["gpu_tdp_w"])}:
        s, g, c, tdp = key
        factor = float(gpu.cap_factor(cat, c, tdp))
        rows = []
        for t in cat.tiers:
            try:
                p = tokens.tier_point(cat, s, t, workload)
            except ThroughputRangeError:
                continue
            rate = g * factor * p.tokens_per_s_per_gpu
            rows.append((rate * tokens.revenue_usd_per_mtok(cat, t, p.output_share) * 3600 / 1e6, rate, t))
        offers[key] = sorted(rows, reverse=True)
    order = sorted(racks.index, key=lambda r: -max((o[0] for o in offers[_key(racks, r)]), default=0.0))
    for rack in order:
        choice = next((t for usd, rate, t in offers[_key(racks, rack)] if rate <= left[t]), None)
        if choice is not None:
            left[choice] -= next(rate for _, rate, t in offers[_key(racks, rack)] if t == choice)
        out.graph.nodes[rack]["tier"] = choice
    return out


def _key(racks, rack: str) -> tuple:
    row = racks.loc[rack]
    return (row["system"], row["gpus"], row["cap_w"], row["gpu_tdp_w"])


def _mean(ds: xr.Dataset, name: str) -> float:
    step = ds["step_hours"].values
    return float((ds[name].values * step).sum() / step.sum())


def _monthly(ds: xr.Dataset) -> dict[str, list[float]]:
    """Monthly PUE and WUE (energy- and water-weighted) of a simulated year."""
    step = ds["step_hours"]
    grid = (ds["grid_power_kw"] * step).groupby("time.month").sum()
    it = (ds["it_power_kw"] * step).groupby("time.month").sum()
    water = (ds["water_l_per_h"] * step).groupby("time.month").sum()
    return {"month": [int(m) for m in grid["month"].values], "pue": (grid / it).values.tolist(),
            "wue": (water / it).values.tolist()}


def _metrics(plan: Plan, years: dict[str, WorkloadYear], mixed: dict, mix: dict[str, float], weather: str,
             hours: int, econ: SiteEconomics, market: Market, finance: Finance, use: float) -> dict[str, Number]:
    """The report's numbers for one facility, each with its source."""
    k = plan.kpis
    built = plan.facility
    cat = built.catalog
    racks = built.table("rack")
    used = racks[racks["system"].notna()]
    per_year = 8760.0 / hours
    grid_mw = float(k["grid_limit_mw"])
    own = "compute-hour" if check_billing(built.graph.graph.get("billing")) == "gpu_hours" else "token"
    sim = f"simulation: {hours:,} h of {weather} weather"
    opt = f"optimization: solvers.optimize(objective='{plan.objective}', {own} billing) at {k['design_ambient_c']:g} °C design ambient"
    inf, train = years["inference"], years["training"]
    m: dict[str, Number] = {}

    def put(key: str, value: Any, unit: str, source: str) -> None:
        m[key] = Number(value, unit, source)

    put("primary_output", "GPU-hours" if own == "compute-hour" else "tokens", "", "site attribute `billing`")
    put("gpu_hours_per_year", sum(mix[w] * years[w].gpu_hours for w in WORKLOADS) * per_year, "GPU-h/year",
        f"{sim}: GPUs x utilization x throttle, share-weighted inference and training years")
    put("tokens_per_year", mix["inference"] * inf.tokens * per_year, "tokens/year",
        f"{sim}: tokens_per_s of the inference year x inference share")
    put("training_tokens_per_year", mix["training"] * train.tokens * per_year, "tokens/year",
        f"{sim}: training tokens (dense FLOPS x MFU / 6 N) x training share")
    put("tiers", ", ".join(f"{t} {v:.0%}" for t, v in inf.tiers.items()), "",
        "optimizer's tier per rack (token billing) or the best-paying tier each rack reaches (GPU-hour billing)")
    put("tokens_per_joule", inf.tokens / (inf.grid_mwh * 3.6e9) if inf.grid_mwh else float("nan"), "tokens/J",
        f"{sim}: inference year, tokens / grid energy")
    put("training_tokens_per_joule", train.tokens / (train.grid_mwh * 3.6e9) if train.grid_mwh else float("nan"),
        "tokens/J", f"{sim}: training year, tokens / grid energy")
    put("utilization", mixed["utilization"], "1", f"{sim}: mixed year, mean utilization of serving capacity")
    put("racks", int(k["racks"]), "racks", opt)
    put("positions", int(len(racks)), "positions", "blueprint: rack positions of the facility")
    put("gpus", int(k["gpus"]), "GPUs", opt)
    put("rack_kw_mean", float(used["nameplate_kw"].mean()) if len(used) else 0.0, "kW",
        f"{opt}; catalog rack power at the chosen node count and cap")
    put("rack_kw_max", float(used["nameplate_kw"].max()) if len(used) else 0.0, "kW", m["rack_kw_mean"].source)
    put("power_per_rack_kw", mixed["it_energy_mwh"] * 1000.0 / mixed["hours"] / max(len(used), 1), "kW",
        f"{sim}: mixed year, mean IT power per populated rack")
    put("systems", _systems_text(used), "", opt)
    put("cooling", _cooling_text(built, used), "", f"{opt}; plant rebuilt per hall by the optimizer")
    put("power_chain", _power_text(built), "", "blueprint: power devices (catalog power_equipment models)")
    put("binds", _binds_text(plan, len(racks)), "", opt)
    put("pue", mixed["pue"], "1", f"{sim}: mixed year, grid energy / IT energy")
    put("wue", mixed["wue_l_per_kwh"], "L/kWh", f"{sim}: mixed year, water / IT energy")
    put("grid_mwh_per_year", mixed["grid_energy_mwh"] * per_year, "MWh/year", f"{sim}: mixed year, grid energy")
    put("capex_usd", float(k["capex_usd"]), "USD", f"{opt}; catalog capex per GPU and per kW of power and cooling")
    put("capex_per_mw", float(k["capex_usd"]) / grid_mw, "USD/MW", f"{opt}; capex / {grid_mw:g} MW grid limit")
    money = evaluate(econ, mix, market, finance, use)
    cost = money["cost"]
    put("annual_cost_usd", cost, "USD/year",
        f"capex per asset class x (capital recovery at WACC {finance.wacc:g} over its life + O&M) + mix-weighted grid "
        f"energy x {finance.electricity_usd_per_kwh:g} USD/kWh (twin/data/market.yaml finance)")
    sources = {"compute-hour": f"{sim}: GPUs x GPU-hour price x cap factor x the market's realized factor "
                               f"{market.gpu_hour_factor():.3f} (reserved share, on-demand premium, occupancy) x throttle; "
                               f"training at the reserved price x goodput {TRAINING_GOODPUT:g}",
               "token": f"{sim}: each tier's capacity sold into the market hour by hour (daily shape, price response); "
                        f"training GPU-hours at the reserved price x goodput {TRAINING_GOODPUT:g}"}
    for model in BILLING_MODELS:
        r = money[f"revenue[{model}]"]
        put(f"revenue[{model}]", r, "USD/year", sources[model])
        put(f"revenue_per_mw[{model}]", r / grid_mw, "USD/MW/year", f"revenue / {grid_mw:g} MW grid limit")
        put(f"margin_per_mw[{model}]", money[f"margin_per_mw[{model}]"], "USD/MW/year",
            "(revenue - annual cost) / grid limit")
        for w in WORKLOADS:
            pure = evaluate(econ, {x: float(x == w) for x in WORKLOADS}, market, finance, use)
            put(f"margin_per_mw[{model}|{w}]", pure[f"margin_per_mw[{model}]"], "USD/MW/year",
                f"{sim}: the {w} year alone, (revenue - annual cost) / grid limit")
    put("margin_per_mw[own]", money["margin_per_mw[own]"], "USD/MW/year",
        f"margin per MW-year under the site's own billing ({own})")
    single = [evaluate(econ, {x: float(x == w) for x in WORKLOADS}, market, finance, use)[f"revenue[{own}]"]
              for w in WORKLOADS]
    put("fit", money[f"revenue[{own}]"] / max(single) if max(single) > 0 else float("nan"), "1",
        f"{own} revenue of this mix / revenue of the facility's best single workload ({sim})")
    mtok = inf.tokens * per_year / 1e6
    inference_only = evaluate(econ, {"inference": 1.0, "training": 0.0}, market, finance, use)
    put("usd_per_mtok", inference_only["cost"] / mtok if mtok else float("nan"), "USD/Mtok",
        f"{sim}: inference year, annual cost (capital recovery, O&M, electricity) / million tokens served")
    put("revenue_per_gpu_hour", money[f"revenue[{own}]"] / (k["gpus"] * 8760.0) if k["gpus"] else float("nan"),
        "USD/GPU-h", f"{own} revenue of the mix / installed GPU-hours")
    gpus, rate = gpu_hour_rate(built)
    put("gpu_hour_usd_per_mw", rate / grid_mw, "USD/MW/h",
        "catalog GPUs x GPU-hour price (models.billing, SemiAnalysis rental) x cap factor, per MW of grid, at full use")
    put("gpu_hour_prices", "; ".join(f"{s} {gpu_hour_price(cat, s).usd:.2f} USD/GPU-h ({gpu_hour_price(cat, s).evidence})"
                                     for s in sorted(set(used["system"]))), "", "models.billing (reference/economics.yaml)")
    put("evidence", "; ".join(f"{kind}: " + ", ".join(f"{lab} {k.get(f'evidence_{kind}_share[{lab}]', 0.0):.0%}"
                                                       for lab in ("measured", "derived", "vendor_claim")
                                                       if k.get(f"evidence_{kind}_share[{lab}]"))
                              for kind in ("tokens", "revenue")), "",
        f"{opt}: evidence of the throughput curves the built racks rest on (models.evidence)")
    put("nvlink_domain_gpus", max((cat.system(s).nvlink_domain_gpus for s in set(used["system"])), default=0), "GPUs",
        "catalog systems nvlink_domain_gpus (largest domain built)")
    return m


def _systems_text(used) -> str:
    groups = used.groupby(["system", "nodes", "cap_w"]).size().sort_values(ascending=False)
    return ", ".join(f"{n} x {s} ({int(nodes)} nodes, {cap:.0f} W cap)" for (s, nodes, cap), n in groups.items())


def _cooling_text(facility: Facility, used) -> str:
    """Cooling technology per hall family and the heat-rejection plant kinds behind it."""
    graph = facility.graph
    techs = sorted(set(used["cooling"])) if len(used) else []
    plant = sorted({graph.nodes[n].get("model") or graph.nodes[n]["kind"] for kind in ("chiller", "dry_cooler", "cooling_tower")
                    for n in facility.nodes_of(kind)})
    return f"{' + '.join(techs) or 'none'} -> {' + '.join(plant) or 'no plant'}"


def _power_text(facility: Facility) -> str:
    graph = facility.graph
    parts = sorted({f"{graph.nodes[n].get('model') or 'ups'} ({graph.nodes[n].get('redundancy') or 'N'})"
                    for n in facility.nodes_of("ups")})
    return ", ".join(parts) or "no UPS stage"


def _binds_text(plan: Plan, positions: int) -> str:
    """Which limits bind: MW (no room for one more rack's grid power), floor (no free position), budget."""
    k, data = plan.kpis, plan.data
    racks = max(int(k["racks"]), 1)
    per_rack_kw = k["facility_mw"] * 1000.0 / racks
    headroom_kw = data.grid_limit_kw - k["facility_mw"] * 1000.0
    parts = [f"MW {k['facility_mw']:.2f} of {k['grid_limit_mw']:g}" + (" (binds)" if headroom_kw < per_rack_kw else ""),
             f"floor {int(k['racks'])} of {positions} positions" + (" (binds)" if positions - k["racks"] < 1 else "")]
    if np.isfinite(data.capex_budget):
        short = data.capex_budget - k["capex_usd"] < k["capex_usd"] / racks
        parts.append(f"budget {k['capex_usd'] / 1e6:,.0f} of {data.capex_budget / 1e6:,.0f} MUSD" + (" (binds)" if short else ""))
    else:
        parts.append("budget none set")
    return "; ".join(parts)


__all__ = ["compare", "parse_mix", "Comparison", "SiteResult", "WorkloadYear", "Number", "CompareError",
           "gpu_hour_rate", "with_best_tiers", "INFERENCE", "TRAINING", "BILLING_MODELS", "LIQUID", "OWN"]
