"""Benchmark: write a facility as OpenUSD (.usdc) and read it back, against saving the same facility as JSON.

Run: python benchmarks/bench_usd.py [--blueprints ai-factory-hall ai-factory-100mw ai-factory-1gw] [--rounds 2]
     [--state-hours 24]
Each blueprint runs in its own process, so its peak memory (max RSS, whole process: the loaded facility
included) is its own. `json` is `facility.save("f.json")` (node-link, every node and edge: the project's own
exact format, the baseline); `usd` is `twin.export_usd(facility, "f.usdc")` (layout, ports, prims, write);
`import` is `twin.import_usd` back to a facility, asserted equal to the original. CPU s is the process's CPU
time for the fastest export (the first round includes importing pxr); on a machine shared with other jobs the
wall time is an upper bound. With --state-hours, `state` exports again with a per-rack simulation of that many
hours as time samples.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

WORKER = r"""
import json, os, resource, sys, tempfile, time
name, rounds, state_hours = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
import networkx as nx
import blueprints, twin

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

out = {"blueprint": name, "load": os.getloadavg()[0]}
facility = blueprints.load(name)
out["racks"] = len(facility.nodes_of("rack"))
out["gpus"] = len(facility.nodes_of("gpu"))
out["rss_facility_mb"] = rss_mb()
folder = tempfile.mkdtemp()
usd, js = os.path.join(folder, "f.usdc"), os.path.join(folder, "f.json")
for key in ("json", "usd", "usd_cpu"):
    out[key] = []
for _ in range(rounds):  # interleaved, so both see the same load
    t = time.perf_counter(); facility.save(js); out["json"].append(time.perf_counter() - t)
    t, c = time.perf_counter(), time.process_time()
    twin.export_usd(facility, usd)
    out["usd"].append(time.perf_counter() - t); out["usd_cpu"].append(time.process_time() - c)
out["usd_mb"], out["json_mb"] = os.path.getsize(usd) / 1e6, os.path.getsize(js) / 1e6
out["rss_peak_mb"] = rss_mb()
t = time.perf_counter(); again = twin.import_usd(usd); out["import"] = time.perf_counter() - t
assert nx.utils.graphs_equal(facility.graph, again.graph) and dict(facility.graph.graph) == dict(again.graph.graph)
if state_hours:
    ds = twin.simulate(facility, hours=state_hours, per_rack=True, utilization="diurnal")
    t = time.perf_counter(); twin.export_usd(facility, usd, ds); out["state"] = time.perf_counter() - t
    out["state_mb"] = os.path.getsize(usd) / 1e6
out["rss_end_mb"] = rss_mb()
out["load_end"] = os.getloadavg()[0]
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blueprints", nargs="+", default=["ai-factory-hall", "ai-factory-100mw", "ai-factory-1gw"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--state-hours", type=int, default=0)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print("| blueprint | racks | GPUs | load | JSON s | USD s (CPU s) | USD / JSON | .usdc MB | .json MB | import s | "
          "peak RSS MB (facility) | state s (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.blueprints:
        run = subprocess.run([sys.executable, "-c", WORKER, name, str(args.rounds), str(args.state_hours)],
                             capture_output=True, text=True, cwd=root)
        if run.returncode != 0:
            print(f"| {name} | failed: {run.stderr.strip().splitlines()[-1]} |")
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        j, u = min(r["json"]), min(r["usd"])
        state = f"{r['state']:.2f} ({r['state_mb']:.1f})" if "state" in r else "-"
        print(f"| {name} | {r['racks']:,} | {r['gpus']:,} | {r['load']:.1f}-{r['load_end']:.1f} | {j:.2f} | {u:.2f} ({min(r['usd_cpu']):.2f}) | "
              f"{u / j:.2f} | {r['usd_mb']:.2f} | {r['json_mb']:.1f} | {r['import']:.2f} | "
              f"{r['rss_end_mb']:,.0f} ({r['rss_facility_mb']:,.0f}) | {state} |")


if __name__ == "__main__":
    main()
