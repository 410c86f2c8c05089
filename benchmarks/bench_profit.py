"""Benchmark: what the profit objective costs over the tokens objective, end to end on a 1 GW site, in one process.

Each run loads the blueprint and calls `solvers.optimize` as a user does (design data, model, HiGHS solve,
simulator verification); `tokens` (no market rows) is the baseline, `profit` (market sales per tier x hour x
demand segment, capital recovery per asset class) the measured case; the two alternate so machine load hits both.

Run: python benchmarks/bench_profit.py [--blueprint ai-factory-1gw] [--repeat 2] [--all-systems]
--all-systems offers every catalog system (evidence='claims'), the largest model the catalog makes.
"""

from __future__ import annotations

import argparse
import os
import time

import blueprints
import solvers

OBJECTIVES = ("tokens", "profit")
"""Baseline first, then the measured objective."""


def run(blueprint: str, objective: str, all_systems: bool) -> dict[str, float]:
    """Seconds to load and optimize, with the plan's size and headline numbers."""
    t0 = time.perf_counter()
    site = blueprints.load(blueprint)
    t1 = time.perf_counter()
    extra = {"systems": list(site.catalog.systems), "evidence": "claims"} if all_systems else {}
    plan = solvers.optimize(site, objective, **extra)
    t2 = time.perf_counter()
    return {"load": t1 - t0, "optimize": t2 - t1, "total": t2 - t0, "racks": plan.kpis["racks"],
            "gap": plan.solution.gap, "tokens_per_s": plan.kpis["tokens_per_s"], "profit": plan.kpis["profit_usd_per_year"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blueprint", default="ai-factory-1gw")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--all-systems", action="store_true")
    args = parser.parse_args()
    solvers.optimize(blueprints.load("ai-factory-hall"), verify=False)          # warm imports and caches
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeat):
        for objective in OBJECTIVES:
            r = run(args.blueprint, objective, args.all_systems)
            if objective not in best or r["total"] < best[objective]["total"]:
                best[objective] = r
    load = os.getloadavg()[0]
    print(f"{args.blueprint}{' (all systems)' if args.all_systems else ''}: best of {args.repeat}, "
          f"load average {load:.1f}")
    print(f"{'objective':<10}{'load s':>9}{'optimize s':>12}{'total s':>10}{'racks':>9}{'gap':>10}"
          f"{'tokens/s':>12}{'profit USD/y':>15}")
    for objective in OBJECTIVES:
        r = best[objective]
        print(f"{objective:<10}{r['load']:>9.2f}{r['optimize']:>12.2f}{r['total']:>10.2f}{r['racks']:>9,.0f}"
              f"{r['gap']:>10.1e}{r['tokens_per_s']:>12.4g}{r['profit']:>15.4g}")
    base, prof = best["tokens"], best["profit"]
    print(f"ratio profit/tokens: optimize {prof['optimize'] / base['optimize']:.2f}, "
          f"end to end {prof['total'] / base['total']:.2f}")


if __name__ == "__main__":
    main()
