"""Benchmark: a year of a 1 GW site hourly (~6,300 NVL72 racks) and of a 100 MW site at 1-minute steps (dask).

Run: python benchmarks/bench_simulate.py            (all scenarios, a markdown table on stdout)
     python benchmarks/bench_simulate.py --only gw   (one scenario)
Each scenario runs in its own process. `imports s`: importing xarray (which imports dask) before the run;
`simulate s`: the first simulate() call (facility already built; weather synthesis, topology and the run);
`warm s`: the same call again; `peak MB`: the process's peak RSS (the 1 GW graph alone holds ~0.6 GB);
`sim +MB`: RSS the second simulation added at its peak over what was held before it (sampled every 10 ms).
`simulate CPU s`: the process CPU time of that call (less sensitive to other jobs than wall time);
`load avg`: the machine's 1-minute load average at the end of the run; `baseline s`: a fixed numpy kernel timed in the same process just before (so `simulate / baseline` compares
runs on a machine whose load changes); `heat residual`: max |heat rejected - (IT + unit power + compressor)|
over IT; `weather`: the kind of weather the run used.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, os, resource, sys, tempfile, threading, time
import psutil
scenario = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from _baseline import baseline_kernel
from blueprints.parametric import ai_factory
import twin

proc = psutil.Process()
t0 = time.perf_counter()
import xarray, dask.array
imports_s = time.perf_counter() - t0
t0 = time.perf_counter()
grid_mw = 1000.0 if scenario.startswith("gw") else 100.0
site = ai_factory(grid_mw=grid_mw, system="gb200_nvl72", cooling="dlc", climate="phoenix")
site.table("rack")
build_s = time.perf_counter() - t0
extra = {}


def scenario_run():
    if scenario == "gw-hourly":
        return twin.simulate(site, weather="phoenix", hours=8760)
    if scenario == "gw-hourly-per-rack":
        return twin.simulate(site, weather="phoenix", hours=8760, per_rack=True)
    ds = twin.simulate(site, weather="phoenix", hours=8760, freq="1min", chunks=43_200, per_rack=False)
    path = os.path.join(tempfile.mkdtemp(), "minute.nc")
    ds.twin.save(path)
    extra["file_mb"] = os.path.getsize(path) / 2**20
    return twin.state.load(path, lazy=True)


baseline_s = baseline_kernel()
t1, c1 = time.perf_counter(), time.process_time()
ds = scenario_run()          # timed alone: a sampling thread would compete for the GIL
sim_s, cpu_s = time.perf_counter() - t1, time.process_time() - c1
del ds
before = proc.memory_info().rss
peak = [before]
done = threading.Event()


def sample():
    while not done.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.01)


threading.Thread(target=sample, daemon=True).start()
t2 = time.perf_counter()
ds = scenario_run()          # the same again, for the memory it adds (and the warm time)
warm_s = time.perf_counter() - t2
done.set()
s = ds.twin.summary()
print(json.dumps({
    "scenario": scenario, "racks": int(ds.attrs["racks"]), "steps": int(ds.sizes["time"]),
    "devices": int(ds.sizes.get("device", 0)), "imports_s": imports_s, "build_s": build_s, "simulate_s": sim_s,
    "warm_s": warm_s, "cpu_s": cpu_s, "load": os.getloadavg()[0],
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "sim_mb": (peak[0] - before) / 2**20,
    "pue": s["pue"], "conservation": ds.twin.conservation_error(), "baseline_s": baseline_s,
    "heat": float((abs(ds.heat_rejected_kw - ds.it_power_kw - ds.units_power_kw - ds.chiller_power_kw)
                   / ds.it_power_kw).max()),
    "weather": ds.attrs.get("weather_kind", ""), **extra,
}))
"""

HERE = str(Path(__file__).resolve().parent)
SCENARIOS = ("gw-hourly", "gw-hourly-per-rack", "100mw-minute-dask")


def run(scenario: str) -> dict:
    out = subprocess.run([sys.executable, "-c", WORKER, scenario, HERE], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("gw", "gw-per-rack", "minute"), default=None)
    args = parser.parse_args()
    pick = {"gw": ["gw-hourly"], "gw-per-rack": ["gw-hourly-per-rack"], "minute": ["100mw-minute-dask"]}
    names = pick[args.only] if args.only else SCENARIOS
    print("| scenario | racks | steps | devices | imports s | build s | simulate s | simulate CPU s | warm s | baseline s "
          "| simulate / baseline | load avg | peak MB | sim +MB | PUE | max rel. residual | heat residual | weather |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        r = run(name)
        note = f" (NetCDF {r['file_mb']:.0f} MB)" if "file_mb" in r else ""
        warm = "" if r["warm_s"] != r["warm_s"] else f"{r['warm_s']:.2f}"
        print(f"| {r['scenario']}{note} | {r['racks']:,} | {r['steps']:,} | {r['devices']:,} | {r['imports_s']:.2f} | "
              f"{r['build_s']:.1f} | {r['simulate_s']:.2f} | {r['cpu_s']:.2f} | {warm} | {r['baseline_s']:.2f} | "
              f"{r['simulate_s'] / r['baseline_s']:.1f} | {r['load']:.1f} | {r['peak_mb']:,.0f} | {r['sim_mb']:,.0f} | "
              f"{r['pue']:.4f} | {r['conservation']:.1e} | {r['heat']:.1e} | {r['weather']} |")


if __name__ == "__main__":
    main()
