"""Design a 100 MW AI factory in Phoenix for profit: let the optimizer choose systems, densities, power caps,
cooling and token tiers inside the grid limit, compare with running every GPU at TDP, and save the solved design.

Run: python examples/design_factory.py [out_dir]   (writes plan.json and factory.yaml; ~30 s)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import solvers
from blueprints.parametric import ai_factory
from solvers.check import check_plan


def main(out_dir: Path) -> dict:
    site = ai_factory(grid_mw=140, system="gb300_nvl72", climate="phoenix")   # floor and power chain, room to spare
    site.graph.graph["systems"] = ["gb200_nvl72", "gb300_nvl72", "b200_hgx8", "h200_hgx8"]   # what we can buy
    site.graph.graph["market"] = {"tiers": {"premium": {"demand_tokens_per_s": 2.0e6}}}  # premium demand at list price
    plans = solvers.cap_comparison(site, grid_mw=100)                      # ... but a 100 MW grid connection
    for name, plan in plans.items():
        assert check_plan(plan) == [], name                       # an independent check of every constraint
        k = plan.kpis
        print(f"{name:>8}: {k['racks']:,} racks, {k['gpus']:,} GPUs, {k['tokens_per_s'] / 1e6:,.1f} M tokens/s, "
              f"revenue ${k['revenue_usd_per_year'] / 1e9:,.2f} B/year, profit ${k['profit_usd_per_year'] / 1e9:,.2f} B/year, "
              f"{k['revenue_usd_per_gpu_hour']:.2f} USD/GPU-h, payback {k['payback_years']:.1f} y, "
              f"{k['simulated_grid_mw']:.2f} of {k['grid_limit_mw']:g} MW")
    assert plans["caps"].kpis["profit_usd_per_year"] >= plans["no caps"].kpis["profit_usd_per_year"] * (1 - 1e-3)
    best = plans["caps"]
    best.save(out_dir / "plan.json")
    best.facility.save(out_dir / "factory.yaml")
    return best.kpis


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="twin-design-"))
    out.mkdir(parents=True, exist_ok=True)
    main(out)
    print(f"wrote {out / 'plan.json'} and {out / 'factory.yaml'}")
