"""Benchmark: memory and time of building, validating and N-1 scanning parametric sites as they grow.

Run: python benchmarks/bench_scale.py [--sizes 100,1000,5000] [--scan/--no-scan] [--gpu-nodes/--no-gpu-nodes]
`--no-gpu-nodes` builds lean sites (`gpu_nodes=False`: no graph node per GPU; validation and the scan read
the rack table, so they answer the same), the baseline too. Each size runs in its own process, after a 100 MW baseline in the same process; time ratios are against
that baseline (absolute times are noisy on a shared machine). Memory is sampled from /proc every 10 ms:
`peak` is the process's high-water mark (RSS) at the end of a phase, `+phase` what the phase added to the
RSS it started with. Linear work shows time ratios near the size ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

WORKER = r"""
import gc, json, os, sys, threading, time
size = float(sys.argv[1]); do_scan = sys.argv[2] == "1"; gpu_nodes = sys.argv[3] == "1"
page = os.sysconf("SC_PAGE_SIZE")

def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * page

class Peak:
    def __enter__(self):
        self.start, self.top, self.run = rss(), rss(), True
        self.thread = threading.Thread(target=self.watch, daemon=True); self.thread.start()
        self.t0 = time.perf_counter(); return self
    def watch(self):
        while self.run:
            self.top = max(self.top, rss()); time.sleep(0.01)
    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0; self.run = False; self.thread.join()
        self.top = max(self.top, rss())

from twin import limits
limits.configure(max_nodes=50_000_000)
from blueprints.parametric import ai_factory
from twin.contingency import scan

def measure(mw):
    out = {"mw": mw}
    with Peak() as p:
        site = ai_factory(grid_mw=mw, gpu_nodes=gpu_nodes)
    out.update(nodes=len(site.graph), racks=len(site.nodes_of("rack")), build_s=p.seconds, build_add_mb=(p.top - p.start) / 1e6)
    site.table("rack")   # tables are shared by every rule and the scan: built once
    with Peak() as p:
        site.validate()
    out.update(validate_s=p.seconds, validate_add_mb=(p.top - p.start) / 1e6)
    if do_scan:
        with Peak() as p:
            result = scan(site)
        out.update(scan_s=p.seconds, scan_add_mb=(p.top - p.start) / 1e6, devices=len(result.table))
    out["peak_mb"] = p.top / 1e6
    del site
    gc.collect()
    return out

base = measure(100.0)
run = measure(size)
print(json.dumps({"base": base, "run": run}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1000,3000,5000", help="grid MW of each run (comma-separated)")
    parser.add_argument("--scan", action=argparse.BooleanOptionalAction, default=True, help="also run the N-1 scan")
    parser.add_argument("--gpu-nodes", action=argparse.BooleanOptionalAction, default=True,
                        help="build one graph node per GPU (--no-gpu-nodes: lean sites, gpu_nodes=False)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; {'full' if args.gpu_nodes else 'lean'} graphs "
          f"(gpu_nodes={args.gpu_nodes})")
    header = (f"{'MW':>6} {'nodes':>10} {'racks':>7} {'build s':>8} {'x base':>7} {'validate s':>10} {'x base':>7} "
              f"{'+MB':>6} {'scan s':>7} {'x base':>7} {'+MB':>6} {'peak MB':>8}")
    print(header)
    for size in [float(s) for s in args.sizes.split(",")]:
        done = subprocess.run([sys.executable, "-c", WORKER, str(size), "1" if args.scan else "0",
                               "1" if args.gpu_nodes else "0"],
                              capture_output=True, text=True)
        if done.returncode:
            print(f"{size:>6g} failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        data = json.loads(done.stdout.strip().splitlines()[-1])
        b, r = data["base"], data["run"]
        scan = (f"{r['scan_s']:>7.2f} {r['scan_s'] / b['scan_s']:>7.1f} {r['scan_add_mb']:>6.0f}" if args.scan
                else f"{'-':>7} {'-':>7} {'-':>6}")
        print(f"{size:>6g} {r['nodes']:>10,} {r['racks']:>7,} {r['build_s']:>8.2f} {r['build_s'] / b['build_s']:>7.1f} "
              f"{r['validate_s']:>10.2f} {r['validate_s'] / b['validate_s']:>7.1f} {r['validate_add_mb']:>6.0f} "
              f"{scan} {r['peak_mb']:>8.0f}")
    print(f"load average {os.getloadavg()[0]:.1f} (baseline: a 100 MW site in the same process)")


if __name__ == "__main__":
    main()
