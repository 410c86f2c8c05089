"""Benchmark: uncertainty runs of a 20 MW AI factory on a 2-worker LocalCluster against the naive way (a plain
loop of full `solvers.optimize` / `twin.simulate` calls, one per sample, timed on a few samples in the
same process and scaled to the same count, divided by the workers as if it parallelized perfectly).

Run: python benchmarks/bench_uncertainty.py [--optimize 200] [--simulate 1000] [--only optimize|simulate]
Targets (issue 18): 200 optimize samples <= 60 s; 1,000 simulate samples of a year <= 300 s. The total includes
starting the cluster, the base design and, for optimize, the arrays' responses to each catalog input.
"""

from __future__ import annotations

import argparse
import os
import time

import blueprints
import solvers

SITE = "ai-factory-20mw"
NAIVE_SAMPLES = 4
TARGETS = {"optimize": 60.0, "simulate": 300.0}


def naive(run: str) -> float:
    """Seconds per sample of the plain way: one full `solvers.optimize` (verified, as the base design is) or
    `twin.simulate` (a year, hourly, diurnal load) per sample, measured on NAIVE_SAMPLES after a warm-up call."""
    import twin

    site = blueprints.load(SITE)
    call = (lambda: solvers.optimize(site)) if run == "optimize" else \
        (lambda: twin.simulate(site, hours=8760, utilization="diurnal", per_device=False))
    call()
    t = time.perf_counter()
    for _ in range(NAIVE_SAMPLES):
        call()
    return (time.perf_counter() - t) / NAIVE_SAMPLES


def ours(run: str, samples: int, workers: int) -> tuple[float, object]:
    t = time.perf_counter()
    ds = solvers.uncertainty(blueprints.load(SITE), samples=samples, run=run, workers=workers, progress=False)
    return time.perf_counter() - t, ds


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--optimize", type=int, default=200)
    p.add_argument("--simulate", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--only", choices=("optimize", "simulate"))
    args = p.parse_args()
    rows = []
    for run in ("optimize", "simulate"):
        if args.only and run != args.only:
            continue
        samples = getattr(args, run)
        load0 = os.getloadavg()[0]
        per = naive(run)
        wall, ds = ours(run, samples, args.workers)
        load1 = os.getloadavg()[0]
        base = per * samples / args.workers
        extra = f"choice changes in {ds.attrs['choice_change_share']:.0%}" if run == "optimize" else ""
        worker = float(ds["seconds"].mean())
        rows.append((run, samples, ds.sizes["input"], wall, wall / samples, worker, per, base, wall / base,
                     TARGETS[run], int((ds["status"] == "ok").sum()), f"{load0:.1f}-{load1:.1f}", extra))
    print("| run | samples | inputs | ours s | wall s/sample | worker s/sample | naive s/call | naive loop s (scaled, "
          "/ workers) | ratio | target s | ok | load avg | note |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:,} | {r[2]} | {r[3]:.1f} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.3f} | {r[7]:.1f} | "
              f"{r[8]:.2f} | {r[9]:.0f} | {r[10]:,} | {r[11]} | {r[12]} |")


if __name__ == "__main__":
    main()
