"""The money side of the design model: revenue from the market, yearly cost of capital, energy and O&M,
as coefficient arrays and row families for `models.design.build`, and the economic KPIs of a design.

Profit (USD/year) = revenue - sum over asset classes of capex x (capital recovery + O&M) - energy.
- Revenue, token billing: per tier, the hourly sales of the tier's capacity into the market (each hour at
  its best price on the demand curve; `twin.economics.market`); unlimited tiers sell at list price, a
  sell-through tier sells its share of capacity x the daily shape at list price.
- Revenue, GPU-hour billing: GPUs x 3-year rental price x cap factor x the market's realized factor
  (reserved share, on-demand premium and occupancy).
- Capex classes: GPU systems (per rack), power chain and building (per kW of IT built), cooling (per kW of
  heat built). Energy: each rack's grid kW at the design ambient x 8,760 h x price x its load factor
  (idle share + busy share x mean use: the daily shape's mean for tokens, occupancy for GPU-hours).
  The design ambient is the year's worst hour, so energy is conservative (assumption).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from twin.economics.market import DAYS_PER_YEAR, HOURS_PER_DAY

if TYPE_CHECKING:
    from models.design_data import DesignData
    from models.linear import LinearProblem

HOURS_PER_YEAR = 8760.0


def mean_use(data: DesignData) -> float:
    """Mean share of a built rack's capacity that works: occupancy (GPU-hours) or the daily shape's mean."""
    if data.billing == "gpu_hours":
        return min(1.0, data.market.gpu_hours.occupancy)
    return float(data.market.shape(data.tiers[0]).mean()) if data.tiers else 1.0


def load_factor(data: DesignData) -> np.ndarray:
    """(option,) mean power / full power of a rack over the year."""
    u = mean_use(data)
    return data.idle_fraction + (1.0 - data.idle_fraction) * u


def rack_yearly_cost(data: DesignData, o_of: np.ndarray, grid_kw: np.ndarray) -> np.ndarray:
    """USD/year per rack of option o_of drawing grid_kw at full load: its systems' capital and O&M, and energy."""
    f = data.finance
    capital = data.capex_rack[o_of] * f.yearly_cost_per_capex("gpus")
    energy = grid_kw * load_factor(data)[o_of] * HOURS_PER_YEAR * f.electricity_usd_per_kwh
    return capital + energy


def plant_it_capex(data: DesignData) -> float:
    """USD of capex per kW of IT built: power chain plus building (classes a brownfield design keeps cost 0)."""
    building = data.finance.classes["building"].capex_usd_per_kw_it if data_builds(data, "building") else 0.0
    return (data.power_capex_per_kw if data_builds(data, "power") else 0.0) + building


def plant_it_yearly_cost(data: DesignData) -> float:
    """USD/year per kW of IT the power chain and building are built for."""
    f = data.finance
    building = f.classes["building"].capex_usd_per_kw_it if data_builds(data, "building") else 0.0
    power = data.power_capex_per_kw if data_builds(data, "power") else 0.0
    return power * f.yearly_cost_per_capex("power") + building * f.yearly_cost_per_capex("building")


def plant_heat_yearly_cost(data: DesignData) -> np.ndarray:
    """(cooling,) USD/year per kW of heat the cooling plant of each technology is built for."""
    cost = data.cooling_capex_per_kw if data_builds(data, "cooling") else np.zeros(len(data.coolings))
    return cost * data.finance.yearly_cost_per_capex("cooling")


def data_builds(data: DesignData, asset_class: str) -> bool:
    """False for classes the design keeps as they stand (brownfield `keep_plant`: power, cooling, building)."""
    return not (getattr(data, "keep_plant", False) and asset_class in ("power", "cooling", "building"))


def usd_per_token_year(data: DesignData) -> np.ndarray:
    """(tier,) USD/year per token/s sold in one hour of every day, at list price (knob applied)."""
    return data.list_usd_per_mtok * data.market.token_price_factor / 1e6 * 3600.0 * DAYS_PER_YEAR


def serve_revenue(data: DesignData, ot_o: np.ndarray, ot_t: np.ndarray, tok: np.ndarray) -> np.ndarray:
    """USD/year per rack serving (option, tier) where revenue is linear in racks: GPU-hour billing, tiers
    without a demand limit (every token at list price) and sell-through tiers; 0 for demand-curve tiers."""
    if data.billing == "gpu_hours":
        return data.usd_per_hour[ot_o, ot_t] * HOURS_PER_YEAR * data.market.gpu_hour_factor()
    share = np.zeros(len(data.tiers))
    for j, t in enumerate(data.tiers):
        m = data.market.tier(t)
        if m.sell_through is not None:
            share[j] = min(1.0, m.sell_through * data.market.demand_factor) * data.market.shape(t).mean()
        elif not data.market.limited(t):
            share[j] = 1.0
    return tok * share[ot_t] * usd_per_token_year(data)[ot_t] * HOURS_PER_DAY


def curve_tiers(data: DesignData) -> list[int]:
    """Tiers sold along a demand curve (token billing, finite demand, no sell-through)."""
    if data.billing == "gpu_hours":
        return []
    return [j for j, t in enumerate(data.tiers)
            if data.market.limited(t) and data.market.tier(t).sell_through is None]


def add_sales(lp: LinearProblem, data: DesignData, sv: np.ndarray, ot_o: np.ndarray, ot_t: np.ndarray,
              tok: np.ndarray, weight: float) -> None:
    """Families `sold[tier, hour, segment]` (tokens/s, bounded by the demand curve's segments x the hour's
    demand), `capacity[tier]` (tokens/s the racks serving the tier make, rows `capacity_of`) and rows
    `sales[tier, hour]` (sold <= capacity); sold earns `weight` x the segment's marginal price. Segments
    with no extra revenue (past the curve's best point) are left out."""
    index, ub, cost, seg_tier, seg_hour = [], [], [], [], []
    usd = usd_per_token_year(data)
    tiers = curve_tiers(data)
    for j in tiers:
        t = data.tiers[j]
        m = data.market.tier(t)
        width, slope = m.segments()
        demand = data.market.hourly_demand(t, data.grid_limit_kw / 1000.0)
        for h in range(HOURS_PER_DAY):
            for k in np.flatnonzero(slope > 0):
                index.append((t, h, int(k)))
                ub.append(demand[h] * width[k])
                cost.append(weight * slope[k] * usd[j])
                seg_tier.append(j)
                seg_hour.append(h)
    if not index:
        return
    sold = lp.add_vars("sold", index, lb=0, ub=np.array(ub), cost=np.array(cost))
    cap = lp.add_vars("capacity", [(data.tiers[j],) for j in tiers], lb=0)
    slot = {j: i for i, j in enumerate(tiers)}
    keep = np.isin(ot_t, tiers)
    serve_rows = np.array([slot[j] for j in ot_t[keep]], dtype=np.int64)
    lp.add_rows("capacity_of", [(data.tiers[j],) for j in tiers], rows=np.concatenate([serve_rows, np.arange(len(tiers))]),
                cols=np.concatenate([sv[keep], cap]), vals=np.concatenate([tok[keep], -np.ones(len(tiers))]), lb=0.0, ub=0.0)
    pair = {(j, h): i for i, (j, h) in enumerate((j, h) for j in tiers for h in range(HOURS_PER_DAY))}
    seg_row = np.array([pair[(j, h)] for j, h in zip(seg_tier, seg_hour)], dtype=np.int64)
    cap_row = np.array([pair[(j, h)] for j in tiers for h in range(HOURS_PER_DAY)], dtype=np.int64)
    cap_col = np.repeat(cap, HOURS_PER_DAY)
    lp.add_rows("sales", [(data.tiers[j], h) for j in tiers for h in range(HOURS_PER_DAY)],
                rows=np.concatenate([seg_row, cap_row]), cols=np.concatenate([sold, cap_col]),
                vals=np.concatenate([np.ones(len(sold)), -np.ones(len(cap_col))]), ub=0.0)


# ------------------------------------------------------------------------------------------------- KPIs
def tier_revenue(data: DesignData, capacity: dict[str, float], gpu_hour_usd: float) -> dict[str, float]:
    """USD/year per tier from serving capacities (tokens/s), evaluated on the market hour by hour (not
    from the model's sales variables); GPU-hour billing earns `gpu_hour_usd` (list) x the realized factor."""
    if data.billing == "gpu_hours":
        return {"gpu_hours": gpu_hour_usd * HOURS_PER_YEAR * data.market.gpu_hour_factor()}
    grid_mw = data.grid_limit_kw / 1000.0
    return {t: data.market.revenue_usd_per_year(t, capacity.get(t, 0.0), grid_mw=grid_mw,
                                                list_usd_per_mtok=float(data.list_usd_per_mtok[j]))
            for j, t in enumerate(data.tiers)}


def tokens_sold(data: DesignData, capacity: dict[str, float]) -> float:
    """Tokens sold per year (inference tiers; free tokens count as served, not sold: price 0 still 'sells')."""
    grid_mw = data.grid_limit_kw / 1000.0
    total = 0.0
    for j, t in enumerate(data.tiers):
        sold, _ = data.market.hourly_sales(t, capacity.get(t, 0.0), grid_mw=grid_mw,
                                           list_usd_per_mtok=float(data.list_usd_per_mtok[j]))
        total += float(sold.sum()) * 3600.0 * DAYS_PER_YEAR
    return total


def economic_kpis(data: DesignData, racks: list[tuple[int, float, float]], capacity: dict[str, float],
                  plant_it_kw: float, plant_heat_kw: dict[str, float], tokens_by_evidence: dict[str, float],
                  usd_by_evidence: dict[str, float]) -> dict[str, Any]:
    """Profit, its parts, NPV, payback, cost per Mtok, margin per MW-year and the evidence shares.

    racks: (option index, count, grid kW per rack at full load). capacity: tokens/s per tier.
    """
    f = data.finance
    gpu_usd_hour = sum(n * data.usd_per_hour[i, 0] for i, n, _ in racks) if data.billing == "gpu_hours" else 0.0
    revenue_by_tier = tier_revenue(data, capacity, gpu_usd_hour)
    revenue = float(sum(revenue_by_tier.values()))
    lf = load_factor(data)
    capex = {"gpus": sum(n * data.capex_rack[i] for i, n, _ in racks) * f.capex_factor,
             "power": plant_it_kw * data.power_capex_per_kw * data_builds(data, "power") * f.capex_factor,
             "building": plant_it_kw * f.classes["building"].capex_usd_per_kw_it * data_builds(data, "building")
             * f.capex_factor,
             "cooling": sum(v * data.cooling_capex_per_kw[data.coolings.index(c)] for c, v in plant_heat_kw.items())
             * data_builds(data, "cooling") * f.capex_factor}
    capital = {k: v * f.crf(k) for k, v in capex.items()}
    om = {k: v * f.classes[k].om_fraction for k, v in capex.items()}
    energy_kwh = (sum(n * kw * lf[i] for i, n, kw in racks) + data.aux_kw) * HOURS_PER_YEAR
    energy = energy_kwh * f.electricity_usd_per_kwh
    cost = sum(capital.values()) + sum(om.values()) + energy
    profit = revenue - cost
    cash = revenue - sum(om.values()) - energy
    total_capex = sum(capex.values())
    sold = tokens_sold(data, capacity) if data.billing == "tokens" else 0.0
    gpus = sum(n * data.gpus[i] for i, n, _ in racks)
    grid_mw = data.grid_limit_kw / 1000.0
    tok_total, usd_total = sum(tokens_by_evidence.values()), sum(usd_by_evidence.values())
    out = {
        "profit_usd_per_year": profit,
        "market_revenue_usd_per_year": revenue,
        "capital_cost_usd_per_year": sum(capital.values()),
        "om_usd_per_year": sum(om.values()),
        "energy_usd_per_year": energy,
        "total_capex_usd": total_capex,
        "npv_usd": cash * f.annuity() - total_capex + _salvage(data, capex),
        "payback_years": total_capex / cash if cash > 0 else float("inf"),
        "usd_per_mtok_sold": cost / (sold / 1e6) if sold > 0 else float("nan"),
        "margin_usd_per_mw_year": profit / grid_mw,
        "revenue_usd_per_gpu_hour": revenue / (gpus * HOURS_PER_YEAR) if gpus else float("nan"),
        "tokens_sold_per_year": sold,
        **{f"capex_usd[{k}]": v for k, v in capex.items()},
        **{f"revenue_usd_per_year[{t}]": v for t, v in revenue_by_tier.items()},
        **{f"evidence_tokens_share[{k}]": (v / tok_total if tok_total else 0.0) for k, v in tokens_by_evidence.items()},
        **{f"evidence_revenue_share[{k}]": (v / usd_total if usd_total else 0.0) for k, v in usd_by_evidence.items()},
    }
    return out


def _salvage(data: DesignData, capex: dict[str, float]) -> float:
    """Present value at the horizon of what is left of each class (straight-line over its life)."""
    f = data.finance
    n = f.horizon_years
    left = sum(v * max(0.0, 1.0 - n / f.classes[k].life_years) for k, v in capex.items())
    return left / (1.0 + f.wacc) ** n


__all__ = ["rack_yearly_cost", "plant_it_capex", "plant_it_yearly_cost", "plant_heat_yearly_cost", "serve_revenue", "add_sales",
           "curve_tiers", "economic_kpis", "tier_revenue", "tokens_sold", "load_factor", "mean_use", "HOURS_PER_YEAR"]
