"""Benchmark: `twin.check` of every packaged blueprint in its own climate (the design year at full load), with
the time to build each blueprint and to check it, wall and process CPU, and the load average.

Run: python benchmarks/bench_check.py [--only ai-factory-hall,...]
Every row should read 0 h over the grid limit, 0 h throttled, 0 h over temperature, 0 h with a device above its
rating. `twin check ai-factory-hall` also runs as a hook with a 30 s budget: its row shows how far below it is.
"""

from __future__ import annotations

import argparse
import os
import time

import blueprints
import twin


def row(name: str) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    facility = blueprints.load(name)
    t1, c1 = time.perf_counter(), time.process_time()
    result = twin.check(facility)
    t2, c2 = time.perf_counter(), time.process_time()
    return {"name": name, "ok": result.ok, "over": result.over_grid_hours, "throttled": result.throttled_hours,
            "hot": result.over_temperature_hours, "overload": result.overload_hours, "peak": result.peak_grid_mw,
            "limit": result.grid_limit_mw, "weather": result.weather, "load_s": t1 - t0, "load_cpu": c1 - c0,
            "check_s": t2 - t1, "check_cpu": c2 - c1, "load_avg": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated blueprint names (default: every packaged one)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or blueprints.names()
    row("ai-factory-hall")                                  # warm imports (xarray, dask, scipy) once
    print(f"{'blueprint':<22}{'passes':>7}{'h over':>7}{'h thr':>6}{'h hot':>6}{'h ovl':>6}{'peak / limit MW':>19}"
          f"{'build s (cpu)':>15}{'check s (cpu)':>15}{'load':>6}  weather")
    for name in names:
        r = row(name)
        print(f"{r['name']:<22}{str(r['ok']):>7}{r['over']:>7}{r['throttled']:>6}{r['hot']:>6}{r['overload']:>6}"
              f"{r['peak']:>11.3f} / {r['limit']:<6g}{r['load_s']:>8.1f} ({r['load_cpu']:.1f}){r['check_s']:>8.1f} "
              f"({r['check_cpu']:.1f}){r['load_avg']:>6.1f}  {r['weather']}")


if __name__ == "__main__":
    main()
