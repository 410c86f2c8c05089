"""Compare samples: two designed and simulated facilities (`solvers.compare`, once, at the inputs' medians)
valued in each sampled world (`solvers.sensitivity.evaluate`): prices, demand, utilization, electricity, capex
and each site's throughput move; the designs and their simulated years stay. Which framing wins, how often.

Per site, throughput scales its token capacity by the GPU-weighted mean of its systems' factors, and system
capex scales its GPU capex by the capex-weighted mean (exact for a single-system site); `capex_plant` scales the
power, cooling and building classes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from solvers.uncertainty_runs import values_by_name
from twin.uncertainty import Input

if TYPE_CHECKING:
    from solvers.comparison import ComparisonData

SITES = ("a", "b")
COMPARE_KPIS = {"margin_per_mw[a]": "USD MW-1 year-1", "margin_per_mw[b]": "USD MW-1 year-1",
                "margin_gap_per_mw": "USD MW-1 year-1", "revenue_per_mw[a]": "USD MW-1 year-1",
                "revenue_per_mw[b]": "USD MW-1 year-1", "cost_per_mw[a]": "USD MW-1 year-1",
                "cost_per_mw[b]": "USD MW-1 year-1"}
MARKET_FACTORS = {"token_price": "token_price_factor", "demand": "demand_factor", "gpu_hour_price": "gpu_hour_price_factor"}


@dataclass
class CompareJob:
    """The comparison at the medians and each site's system shares (GPUs and GPU capex per system)."""

    comparison: ComparisonData
    inputs: list[Input]
    gpu_share: list[dict[str, float]]
    capex_share: list[dict[str, float]]
    key: str = ""


def make_job(comparison: ComparisonData, inputs: list[Input]) -> CompareJob:
    shares, capex = [], []
    for site in comparison.sites:
        racks = site.plan.facility.table("rack")
        racks = racks[racks["gpus"] > 0]
        gpus = racks.groupby("system")["gpus"].sum()
        cat = site.plan.facility.catalog
        usd = {s: float(n) * cat.system(s).capex_usd_per_gpu for s, n in gpus.items()}
        shares.append({s: float(n) / float(gpus.sum()) for s, n in gpus.items()})
        capex.append({s: u / sum(usd.values()) for s, u in usd.items()})
    return CompareJob(comparison, inputs, shares, capex)


def systems(comparison: ComparisonData) -> list[str]:
    """Systems either design built."""
    found = []
    for site in comparison.sites:
        racks = site.plan.facility.table("rack")
        found += list(racks.loc[racks["gpus"] > 0, "system"].astype(str))
    return sorted(set(found))


def compare_sample(job: CompareJob, values: np.ndarray) -> dict[str, Any]:
    """Both sites' margin, revenue and cost per MW-year in one sampled world, and the winner."""
    from solvers.sensitivity import OWN, evaluate

    v = values_by_name(job.inputs, values)
    c = job.comparison
    market = c.market.scaled(**{MARKET_FACTORS[k]: v[k] for k in MARKET_FACTORS if k in v})
    finance = c.finance.scaled(electricity_usd_per_kwh=v["electricity_price"]) if "electricity_price" in v else c.finance
    out: dict[str, Any] = {}
    for key, site, gpu_share, capex_share in zip(SITES, c.sites, job.gpu_share, job.capex_share):
        e = site.economics
        thr = sum(share * v.get(f"throughput[{s}]", 1.0) for s, share in gpu_share.items())
        gpu_capex = sum(share * v.get(f"capex[{s}]", 1.0) for s, share in capex_share.items())
        plant = v.get("capex_plant", 1.0)
        capex = {k: x * (gpu_capex if k == "gpus" else plant) for k, x in e.capex.items()}
        e = dataclasses.replace(e, capacity={t: x * thr for t, x in e.capacity.items()}, capex=capex)
        r = evaluate(e, c.mix, market, finance, v.get("utilization", 1.0))
        out[f"margin_per_mw[{key}]"] = r["margin_per_mw[own]"]
        out[f"revenue_per_mw[{key}]"] = r[f"revenue[{OWN[e.billing]}]"] / e.grid_mw
        out[f"cost_per_mw[{key}]"] = r["cost"] / e.grid_mw
    out["margin_gap_per_mw"] = out["margin_per_mw[a]"] - out["margin_per_mw[b]"]
    out["winner"] = "a" if out["margin_gap_per_mw"] > 0 else "b" if out["margin_gap_per_mw"] < 0 else "tie"
    return out


__all__ = ["CompareJob", "make_job", "compare_sample", "systems", "COMPARE_KPIS", "SITES"]
