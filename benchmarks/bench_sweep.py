"""Benchmark: a 200-scenario design sweep (small parametric sites, optimize without the simulator check) as
direct calls in one process, then through `solvers.sweep` on a LocalCluster of 1 and of 2 worker processes.

Run: python benchmarks/bench_sweep.py [--repeat 1]
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
    parser.add_argument("--repeat", type=int, default=1, help="repeat each measurement; the best is kept")
    args = parser.parse_args()
    scenarios, _ = expand(GRID)
    n = len(scenarios)
    direct(scenarios[0])                                     # imports and catalog, as the workers' warm-up does
    load0 = os.getloadavg()[0]
    best_direct, reference = float("inf"), []
    for _ in range(args.repeat):
        t = time.perf_counter()
        reference = [direct(s) for s in scenarios]
        best_direct = min(best_direct, time.perf_counter() - t)
    runs = {}
    for workers in (1, 2):
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                r = on_cluster(workers, Path(tmp))
            if workers not in runs or r["sweep"] < runs[workers]["sweep"]:
                runs[workers] = r
    load1 = os.getloadavg()[0]
    for workers, r in runs.items():                          # the sweep gives exactly the direct results
        flat = r["ds"].stack(s=list(GRID)).transpose("s", ...)
        assert (flat["status"].values == "ok").all(), workers
        for k in COMPARED:
            assert flat[k].values.tolist() == [float(ref[k]) for ref in reference], (workers, k)
    print(f"{n} scenarios; load average {load0:.2f} before, {load1:.2f} after; {os.cpu_count()} CPUs")
    print("| run | workers | cluster start s | warm-up s | wall s | ms per scenario | scenario compute s | speed-up vs 1 worker |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| direct calls, one process | - | - | - | {best_direct:.1f} | {1000 * best_direct / n:.0f} | - | - |")
    for workers, r in runs.items():
        print(f"| solvers.sweep | {workers} | {r['start']:.1f} | {r['warm']:.1f} | {r['sweep']:.1f} | "
              f"{1000 * r['sweep'] / n:.0f} | {float(r['ds']['seconds'].sum()):.1f} | {runs[1]['sweep'] / r['sweep']:.2f}x |")
    overhead = (runs[1]["sweep"] - best_direct) / n
    handling = (runs[1]["sweep"] - float(runs[1]["ds"]["seconds"].sum())) / n
    print(f"per-scenario overhead over a direct call (1 worker): {1000 * overhead:.1f} ms "
          f"({100 * overhead / (best_direct / n):.1f} % of a scenario); of which outside the scenario's own "
          f"compute (scheduling, transfer, parts file): {1000 * handling:.1f} ms")


if __name__ == "__main__":
    main()
