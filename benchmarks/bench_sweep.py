"""Benchmark: a 200-scenario design sweep (small parametric sites, optimize without the simulator check) as
direct calls in one process, then through `solvers.sweep` on a LocalCluster of 1 and of 2 worker processes.

Run: python benchmarks/bench_sweep.py [--rounds 3]
Prints the wall time of each, the 2-vs-1-worker speed-up, and the per-scenario overhead of the sweep over a
direct call (1 worker: the same work in a worker process, plus scheduling, transfer and the parts file).
'scenario compute s' sums the time each scenario took inside its worker.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import solvers
from blueprints.parametric import ai_factory
from solvers.sweep import _warm_up, expand, local_client

GRID = {
    "grid_mw": [2, 3, 4, 5, 6],
    "system": ["gb200_nvl72", "gb300_nvl72"],
    "climate": ["phoenix", "lulea", "singapore", "ashburn", "dublin"],
    "objective": ["revenue", "tokens"],
    "electricity_usd_per_kwh": [0.05, 0.10],
}
COMPARED = ("tokens_per_s", "revenue_usd_per_year", "capex_usd", "racks")


def direct(scenario: dict) -> dict:
    """The same scenario as a plain call: build the site, set the price, optimize."""
    site = ai_factory(grid_mw=scenario["grid_mw"], system=scenario["system"], climate=scenario["climate"])
    site.graph.graph["electricity_usd_per_kwh"] = scenario["electricity_usd_per_kwh"]
    return solvers.optimize(site, scenario["objective"], systems=[scenario["system"]], verify=False).kpis


def on_cluster(workers: int, folder: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    client = local_client(workers)                           # the cluster solvers.sweep starts by default
    t1 = time.perf_counter()
    client.run(_warm_up, "optimize")
    t2 = time.perf_counter()
    ds = solvers.sweep(ai_factory, GRID, client=client, out=folder / f"sweep-{workers}.nc", verify=False,
                       progress=False)
    t3 = time.perf_counter()
    client.close()
    client.cluster.close()
    return {"start": t1 - t0, "warm": t2 - t1, "sweep": t3 - t2, "ds": ds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (direct, 1 worker, 2 workers); best kept")
    args = parser.parse_args()
    scenarios, _ = expand(GRID)
    n = len(scenarios)
    direct(scenarios[0])                                     # imports and catalog, as the workers' warm-up does
    best: dict[str, dict] = {}
    print(f"{n} scenarios, {os.cpu_count()} CPUs; the machine is shared: 1-minute load average before each run")
    print("| round | run | load before | cluster start s | warm-up s | wall s | ms per scenario | scenario compute s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in range(1, args.rounds + 1):
        load = os.getloadavg()[0]
        t = time.perf_counter()
        reference = [direct(s) for s in scenarios]
        row = {"start": float("nan"), "warm": float("nan"), "sweep": time.perf_counter() - t, "ds": None}
        runs = {"direct calls": row}
        for workers in (1, 2):
            load_w = os.getloadavg()[0]
            with tempfile.TemporaryDirectory() as tmp:
                runs[f"sweep, {workers} worker{'s' * (workers > 1)}"] = {**on_cluster(workers, Path(tmp)), "load": load_w}
        row["load"] = load
        for name, res in runs.items():
            compute = float(res["ds"]["seconds"].sum()) if res["ds"] is not None else float("nan")
            print(f"| {r} | {name} | {res['load']:.1f} | {res['start']:.1f} | {res['warm']:.1f} | {res['sweep']:.1f} | "
                  f"{1000 * res['sweep'] / n:.0f} | {compute:.1f} |")
            if res["ds"] is not None:                         # the sweep gives exactly the direct results
                flat = res["ds"].stack(s=list(GRID)).transpose("s", ...)
                assert (flat["status"].values == "ok").all(), name
                for k in COMPARED:
                    assert flat[k].values.tolist() == [float(ref[k]) for ref in reference], (name, k)
            if name not in best or res["sweep"] < best[name]["sweep"]:
                best[name] = res
    one, two, plain = best["sweep, 1 worker"], best["sweep, 2 workers"], best["direct calls"]
    handling = (one["sweep"] - float(one["ds"]["seconds"].sum())) / n
    print(f"best of {args.rounds}: direct {plain['sweep']:.1f} s, 1 worker {one['sweep']:.1f} s, 2 workers "
          f"{two['sweep']:.1f} s; speed-up 2 vs 1 worker {one['sweep'] / two['sweep']:.2f}x")
    print(f"per-scenario overhead over a direct call (1 worker): {1000 * (one['sweep'] - plain['sweep']) / n:.1f} ms; "
          f"outside the scenarios' own compute (scheduling, transfer, parts file): {1000 * handling:.1f} ms")


if __name__ == "__main__":
    main()
