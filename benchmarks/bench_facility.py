"""Benchmark: build, validate and tabulate a 1 GW facility (every GPU a node) against a naive networkx build.

Run: python benchmarks/bench_facility.py [--grid-mw 1200]   (~7,500 NVL72 racks, ~550k GPU nodes)
Each measurement runs in its own process so peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

WORKER = r"""
import json, resource, sys, time
task, grid_mw = sys.argv[1], float(sys.argv[2])
if task == "import":
    t = time.perf_counter(); import twin; print(json.dumps({"s": time.perf_counter() - t})); raise SystemExit
import pickle, networkx as nx
if task == "naive":
    # the same nodes and edges (dumped by another process), added one at a time with networkx's plain API
    with open(sys.argv[3], "rb") as fh:
        attrs, edges = pickle.load(fh)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    g = nx.DiGraph()
    for n, d in attrs:
        g.add_node(n, **d)
    for u, v, k in edges:
        g.add_edge(u, v, kind=k)
    out = {"build": time.perf_counter() - t0, "nodes": g.number_of_nodes()}
    print(json.dumps({**out, "peak_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}))
    raise SystemExit
from blueprints.parametric import ai_factory
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
site = ai_factory(grid_mw=grid_mw)
racks = site.nodes_of("rack")
if task == "dump":
    with open(sys.argv[3], "wb") as fh:
        pickle.dump(([(n, dict(d)) for n, d in site.graph.nodes(data=True)], list(site.graph.edges(data="kind"))), fh)
    raise SystemExit
else:
    t1 = time.perf_counter()
    problems = site.validate(raise_on_error=False)
    t2 = time.perf_counter()
    tables = {k: site.table(k) for k in ("rack", "gpu", "ups", "busway", "cdu")}
    t3 = time.perf_counter()
    out = {"build": t1 - t0, "validate": t2 - t1, "tabulate": t3 - t2, "nodes": site.graph.number_of_nodes(),
           "racks": len(racks), "gpus": len(tables["gpu"]), "problems": len(problems)}
out["peak_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps(out))
"""


def run(task: str, grid_mw: float, dump: str = "") -> dict:
    proc = subprocess.run([sys.executable, "-c", WORKER, task, str(grid_mw), dump], capture_output=True, text=True, check=True)
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grid-mw", type=float, default=1200.0, help="1200 MW of grid gives ~7,500 GB200 NVL72 racks")
    args = parser.parse_args()
    ours = run("ours", args.grid_mw)
    with tempfile.TemporaryDirectory() as tmp:
        dump = f"{tmp}/graph.pickle"
        run("dump", args.grid_mw, dump)
        naive = run("naive", args.grid_mw, dump)
    imports = sorted(run("import", 0)["s"] for _ in range(5))
    total = ours["build"] + ours["validate"] + ours["tabulate"]
    print(f"1 GW-class facility: grid {args.grid_mw:g} MW, {ours['racks']:,} racks, {ours['gpus']:,} GPUs, "
          f"{ours['nodes']:,} nodes, {ours['problems']} validation problems")
    print(f"{'step':<34}{'seconds':>10}{'peak MB':>10}{'ratio':>8}")
    print(f"{'naive networkx build (baseline)':<34}{naive['build']:>10.2f}{naive['peak_mb']:>10.0f}{1.0:>8.2f}")
    print(f"{'ours: build':<34}{ours['build']:>10.2f}{'':>10}{ours['build'] / naive['build']:>8.2f}")
    print(f"{'ours: validate (all rules)':<34}{ours['validate']:>10.2f}")
    print(f"{'ours: tabulate (rack, gpu, ...)':<34}{ours['tabulate']:>10.2f}")
    print(f"{'ours: build + validate + tabulate':<34}{total:>10.2f}{ours['peak_mb']:>10.0f}{total / naive['build']:>8.2f}")
    print(f"{'import twin (median of 5)':<34}{imports[2]:>10.3f}")
    print(f"targets: total <= 6 s and <= 1024 MB; import <= 1 s -> "
          f"{'PASS' if total <= 6 and ours['peak_mb'] <= 1024 and imports[2] <= 1 else 'MISS'}")


if __name__ == "__main__":
    main()
