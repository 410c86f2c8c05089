"""Benchmark: operating a site over time. A week at 5-min steps of a 100 MW site, a year hourly of a 1 GW site (rolling
windows), and a 10 Hz hour of a 100k-GPU training job's power with its grid checks and smoothing LP.

Run: python benchmarks/bench_dispatch.py              (all scenarios, a markdown table on stdout)
     python benchmarks/bench_dispatch.py --only week  (one scenario)
Each scenario runs in its own process. `build s`: the parametric site (not counted); `run s`: the call itself
(`solvers.dispatch`: physics, LP builds, HiGHS solves, re-simulation, Dataset; swings: `job_power` plus ramp and FFT
band checks, and `solvers.smoothing` (LP and re-simulation) separately); `baseline s`: a fixed numpy kernel timed in
the same process just before (so `run / baseline` compares runs on a machine whose load changes); `simulate s`:
`twin.simulate` of the same site and horizon in the same process, the twin without decisions; `load`: the 1-minute
load average before the run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, os, resource, sys, time
scenario = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from _baseline import baseline_kernel
load = os.getloadavg()[0]
out = {"scenario": scenario, "load": load}
import xarray  # noqa: F401  (imports are not timed)
import solvers, twin
from blueprints.parametric import ai_factory
if scenario == "swings":
    from twin.catalog import default_catalog
    from twin.dynamics import Limits, TrainingJob, check, job_power
    from solvers.smoothing import smoothing
    cat = default_catalog()
    job = TrainingJob(gpus=100_000, system="gb200_nvl72")
    limits = Limits(ramp_mw_per_s=10.0, bands_hz=((0.1, 1.0, 5.0), (1.0, 5.0, 2.0)))
    out["baseline_s"] = baseline_kernel()
    t0 = time.perf_counter()
    t, kw = job_power(job, cat, seconds=3600.0, hz=10.0)
    res = check(kw, 10.0, limits)
    out["run_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = smoothing(job, cat, limits, hz=10.0, seconds=3600.0)
    out["smoothing_s"] = time.perf_counter() - t0
    out["samples"] = int(t.size)
    out["peak_mw"] = float(kw.max()) / 1000.0
    out["swing_mw"] = float(kw.max() - kw.min()) / 1000.0
    out["meets_after"] = bool(s.after["ok"]) if "ok" in s.after else None
else:
    grid_mw, hours, freq = (100.0, 168, "5min") if scenario == "week" else (1000.0, 8760, "1h")
    t0 = time.perf_counter()
    site = ai_factory(grid_mw=grid_mw, system="gb200_nvl72", cooling="dlc", climate="phoenix")
    site.table("rack")
    out["build_s"] = time.perf_counter() - t0
    out["baseline_s"] = baseline_kernel()
    t0 = time.perf_counter()
    run = solvers.dispatch(site, hours=hours, freq=freq, training={"share": 0.3, "slowdown": 0.2, "deadline_h": 24},
                           prices=None, per_device=False)
    out["run_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    twin.simulate(site, weather="phoenix", hours=hours, freq=freq)
    out["simulate_s"] = time.perf_counter() - t0
    out["steps"] = int(run.dataset.sizes["time"])
    out["racks"] = int(run.dataset["class_racks"].sum())
    out["classes"] = int(run.dataset.sizes["rack_class"])
    out["rounds"] = run.cross_check["rounds"]
    out["grid_max_rel"] = run.cross_check["grid_max_rel"]
    out["solve_s"] = run.cross_check["solve_s"]
    out["lp_build_s"] = run.cross_check["build_s"]
    out["physics_s"] = run.cross_check["physics_s"]
    out["met"] = run.met
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print(json.dumps(out))
"""

HERE = str(Path(__file__).resolve().parent)
SCENARIOS = {"week": "100 MW, a week at 5 min", "year": "1 GW, a year hourly", "swings": "100k-GPU job, 10 Hz hour"}
TARGET_S = {"week": 10.0, "year": 60.0, "swings": 5.0}


def run(scenario: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", WORKER, scenario, HERE], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{scenario} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    args = ap.parse_args()
    rows = [run(s) for s in (args.only or SCENARIOS)]
    print("| scenario | load | size | run s | target s | baseline s | run / baseline | simulate s | run / simulate | "
          "of which solve / LP build / physics s | peak MB | check |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["scenario"]
        if s == "swings":
            size = f"{r['samples']:,} samples, {r['peak_mw']:.0f} MW peak, {r['swing_mw']:.0f} MW swing"
            sim = f"smoothing LP {r['smoothing_s']:.2f}"
            ratio, parts, check = "", "", f"smoothed meets limits: {r['meets_after']}"
        else:
            size = f"{r['racks']:,} racks ({r['classes']} classes), {r['steps']:,} steps"
            sim, ratio = f"{r['simulate_s']:.2f}", f"{r['run_s'] / r['simulate_s']:.1f}"
            parts = f"{r['solve_s']:.1f} / {r['lp_build_s']:.1f} / {r['physics_s']:.1f}"
            check = f"met {r['met']}, LP vs engine {r['grid_max_rel']:.1e}, {r['rounds']:.0f} rounds"
        print(f"| {SCENARIOS[s]} | {r['load']:.1f} | {size} | {r['run_s']:.2f} | {TARGET_S[s]:g} | {r['baseline_s']:.3f} | "
              f"{r['run_s'] / r['baseline_s']:.0f} | {sim} | {ratio} | {parts} | {r['peak_mb']:,.0f} | {check} |")


if __name__ == "__main__":
    main()
