"""The money of a comparison as a function of its prices: each site's revenue and margin per MW-year for a
mix under a market and finance (`evaluate`), a tornado of the verdict's margin gap over the prices that
move it, and the break-even value of each price at which the verdict flips.

Revenue of one year, for a workload mix (shares of the year):
- token billing, inference: each tier's capacity (x utilization) sold into the market hour by hour;
- compute-hour billing, inference: GPUs x rental price x cap factor x the market's realized GPU-hour factor
  (reserved share, on-demand premium, occupancy) x the year's mean throttle;
- training, under either billing: training-capable GPUs (NVLink domain >= TRAINING_DOMAIN_GPUS) x rental x
  cap factor x the training year's busy share (checkpoint dips, throttling) x utilization x reserved price
  x TRAINING_GOODPUT (hours lost to failures are credited).
Cost: capex per asset class x (capital recovery + O&M) + the mix-weighted grid energy of the workload years.
The designs are fixed: a break-even says where the verdict flips for these two designs (re-optimizing at
that price may move it a little).
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from solvers.comparison import BILLING_MODELS, TRAINING_GOODPUT, SiteEconomics

if TYPE_CHECKING:
    from twin.economics import Finance, Market

HOURS_PER_YEAR = 8760.0
OWN = {"tokens": "token", "gpu_hours": "compute-hour"}
TORNADO = (
    ("token_price", "token list prices", "market", "token_price_factor", (0.5, 1.5)),
    ("sell_through", "token demand (sell-through)", "market", "demand_factor", (0.5, 1.5)),
    ("gpu_hour_price", "GPU-hour prices", "market", "gpu_hour_price_factor", (0.7, 1.3)),
    ("occupancy", "on-demand occupancy", "market", "occupancy_factor", (0.7, 1.3)),
    ("capex", "capex (every asset class)", "finance", "capex_factor", (0.8, 1.2)),
    ("electricity", "electricity price", "finance", "electricity_usd_per_kwh", (0.5, 2.0)),
    ("utilization", "utilization (delivered share of capacity)", "use", "", (0.8, 1.2)),
)
"""(key, label, what it scales, field, (low, high) factors): the tornado's inputs and ranges (assumptions:
token prices +-50 % spans DeepSeek's 0.4x list to premium resellers; GPU-hour +-30 % the spread of 3-year to
1-year rental; capex +-20 %; electricity 4-16 c/kWh, the EIA range of data-centre states and beyond)."""
SEARCH = (0.02, 50.0)
"""Factors a break-even is searched over (a flip outside them is reported as none)."""


def evaluate(e: SiteEconomics, mix: dict[str, float], market: Market, finance: Finance,
             use: float = 1.0) -> dict[str, float]:
    """Revenue per billing model, yearly cost and margin per MW-year (own billing too) for a mix."""
    grid_mw = e.grid_mw
    token_inf = sum(market.revenue_usd_per_year(t, cap * use, grid_mw=grid_mw, list_usd_per_mtok=e.list_usd_per_mtok[t])
                    for t, cap in e.capacity.items())
    compute_inf = e.gpu_rate_usd_per_h * HOURS_PER_YEAR * market.gpu_hour_factor() * e.inference_throttle
    g = market.gpu_hours
    training = (e.training_gpu_rate_usd_per_h * HOURS_PER_YEAR * min(1.0, e.training_busy * use)
                * g.reserved_price_factor * market.gpu_hour_price_factor * TRAINING_GOODPUT)
    capital = sum(v * finance.yearly_cost_per_capex(k) for k, v in e.capex.items())
    energy_mwh = mix["inference"] * e.grid_mwh["inference"] + mix["training"] * e.grid_mwh["training"]
    cost = capital + energy_mwh * 1000.0 * finance.electricity_usd_per_kwh
    out = {"cost": cost, "capital": capital, "energy_mwh": energy_mwh, "training_revenue": training,
           "token_inference_revenue": token_inf, "compute_inference_revenue": compute_inf}
    for model in BILLING_MODELS:
        inf = token_inf if model == "token" else compute_inf
        revenue = mix["inference"] * inf + mix["training"] * training
        out[f"revenue[{model}]"] = revenue
        out[f"margin_per_mw[{model}]"] = (revenue - cost) / grid_mw
    out["margin_per_mw[own]"] = out[f"margin_per_mw[{OWN[e.billing]}]"]
    return out


def scaled(market: Market, finance: Finance, what: str, name: str, factor: float) -> tuple[Market, Finance, float]:
    """(market, finance, utilization) with one input multiplied by `factor`."""
    if what == "market":
        return market.scaled(**{name: factor}), finance, 1.0
    if what == "finance":
        return market, finance.scaled(**{name: factor}), 1.0
    return market, finance, factor


def gap(econ: list[SiteEconomics], mix: dict[str, float], market: Market, finance: Finance, use: float = 1.0) -> float:
    """Own-billing margin per MW-year of site A minus site B."""
    a, b = (evaluate(e, mix, market, finance, use)["margin_per_mw[own]"] for e in econ)
    return a - b


def tornado(econ: list[SiteEconomics], mix: dict[str, float], market: Market, finance: Finance) -> list[dict[str, Any]]:
    """Per input: the gap at its low and high factor and at base, largest swing first, with its break-even."""
    base = gap(econ, mix, market, finance)
    rows = []
    for key, label, what, name, (lo, hi) in TORNADO:
        at = lambda f, what=what, name=name: gap(econ, mix, *scaled(market, finance, what, name, f))  # noqa: E731
        low, high = at(lo), at(hi)
        rows.append({"input": key, "label": label, "low_factor": lo, "high_factor": hi, "low": low, "high": high,
                     "base": base, "swing": abs(high - low), "break_even": break_even(at, base)})
    return sorted(rows, key=lambda r: -r["swing"])


def break_even(at: Callable[[float], float], base: float) -> float | None:
    """The factor nearest 1 at which the gap changes sign (bisection on a log grid), or None within SEARCH."""
    if base == 0:
        return 1.0
    grid = np.exp(np.linspace(math.log(SEARCH[0]), math.log(SEARCH[1]), 49))
    values = [at(float(x)) for x in grid]
    flips = [i for i in range(len(grid) - 1) if np.sign(values[i]) != np.sign(values[i + 1])]
    if not flips:
        return None
    i = min(flips, key=lambda j: abs(math.log(grid[j])))
    lo, hi, vlo = float(grid[i]), float(grid[i + 1]), values[i]
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        vm = at(mid)
        if np.sign(vm) == np.sign(vlo):
            lo, vlo = mid, vm
        else:
            hi = mid
    return math.sqrt(lo * hi)


def with_input(market: Market, finance: Finance, key: str, factor: float) -> tuple[Market, Finance, float]:
    """(market, finance, utilization) with the tornado input `key` scaled (to re-run a comparison at a break-even)."""
    for k, _, what, name, _ in TORNADO:
        if k == key:
            return scaled(market, finance, what, name, factor)
    raise KeyError(f"{key!r} is not a tornado input; use one of {[r[0] for r in TORNADO]}")


def replace_use(e: SiteEconomics, use: float) -> SiteEconomics:
    """The same site with its deliverable capacity and training busy share scaled by `use`."""
    return dataclasses.replace(e, capacity={t: v * use for t, v in e.capacity.items()},
                               training_busy=min(1.0, e.training_busy * use))


__all__ = ["evaluate", "tornado", "break_even", "gap", "with_input", "replace_use", "TORNADO", "OWN"]
