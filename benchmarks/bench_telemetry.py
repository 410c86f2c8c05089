"""Benchmark: import and calibrate a year of hourly telemetry of ~1,000 racks, against the raw CSV parse and one replay.

Run: python benchmarks/bench_telemetry.py [--grid-mw 168] [--hours 8760]
The telemetry is made by the twin itself (not timed): a parametric GB200 NVL72 site (168 MW: ~1,000 racks)
whose GPUs idle at 190 W and peak at 1,000 W (the catalog says 145 W and the 1,200 W TDP), driven a year by a
diurnal utilization with per-rack noise, its rack power plus 1 % noise written as two building-management
exports of one column per rack (`Timestamp, hall-01.row-01.rack-01.PDU.KW (kW), ...` and the same with
`.UTIL (%)`), the outdoor air in the first, mapped to racks by two patterns. Timed, in this process:
`read_csv` (pandas parsing both files, the baseline), `import` (`twin.telemetry.read` with the facility:
parse, units, cleaning, grid, checks), `calibrate` (`twin.calibrate` of gpu.idle_w and gpu.full_load_w
against rack_power_kw, with intervals, Guideline 14 metrics before and after and the calibrated replay),
`replay` (one `twin.simulate(site, drive=measured)`, the second baseline). The exports are written by a child
process, so the peak MB are this process's: its max RSS after the import, and at the end. CPU s is this
process's CPU time (on a machine shared with other jobs, wall time is an upper bound).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TRUTH = {"gpu_idle_w": 190.0, "gpu_full_load_w": 1000.0}
PARAMETERS = {"gpu.idle_w": "gpu_idle_w", "gpu.full_load_w": "gpu_full_load_w"}


def point(rack: str) -> str:
    """The BMS point name of a rack id (hall-01/row-01/rack-01 -> hall-01.row-01.rack-01)."""
    return rack.replace("/", ".")


def make_exports(site, folder: Path, hours: int, seed: int = 0) -> dict:
    """Write the two exports of the site's year with the TRUTH catalog; return the mapping."""
    import twin

    rng = np.random.default_rng(seed)
    racks = site.table("rack")
    racks = racks[racks["system"].notna() & (racks["gpus"] > 0)]
    real = site.catalog.extend({"systems": [{"id": "gb200_nvl72", **TRUTH, "source": "benchmark fleet",
                                             "evidence": "assumption", "note": "the answer the benchmark recovers"}]})
    steps = pd.date_range("2025-01-01", periods=hours, freq="1h")
    hour = steps.hour.to_numpy()
    daily = 0.55 + 0.3 * np.cos(2 * np.pi * (hour - 15) / 24)
    u = np.clip(daily[:, None] + rng.normal(0, 0.1, (hours, len(racks))), 0.05, 1.0).astype(np.float32)
    sim = twin.simulate(twin.Facility(graph=site.graph, catalog=real), hours=hours, start="2025-01-01",
                        utilization=u, per_rack=True)
    kw = sim.rack_power_kw.transpose("time", "rack").values.astype(float)
    kw *= 1 + rng.normal(0, 0.01, kw.shape)
    names = [point(r) for r in racks.index]
    stamp = steps.strftime("%Y-%m-%d %H:%M:%S")
    power = pd.DataFrame(np.round(kw, 2), columns=[f"{n}.PDU.KW (kW)" for n in names])
    power.insert(0, "OAT (degC)", np.round(sim.dry_bulb_c.values, 1))
    power.insert(0, "Timestamp", stamp)
    power.to_csv(folder / "rack_power.csv", index=False)
    util = pd.DataFrame(np.round(100 * u, 1), columns=[f"{n}.UTIL (%)" for n in names])
    util.insert(0, "Timestamp", stamp)
    util.to_csv(folder / "rack_util.csv", index=False)
    node = "{hall}/{row}/{rack}"
    rack = r"^(?P<hall>hall-\d+)\.(?P<row>row-\d+)\.(?P<rack>rack-\d+)"
    return {"points": {"OAT": "dry_bulb_c"},
            "patterns": [{"match": rack + r"\.PDU\.KW$", "variable": "rack_power_kw", "node": node},
                         {"match": rack + r"\.UTIL$", "variable": "rack_utilization", "node": node}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid-mw", type=float, default=168.0)
    parser.add_argument("--hours", type=int, default=8760)
    args = parser.parse_args()
    from blueprints.parametric import ai_factory

    import twin

    site = ai_factory(grid_mw=args.grid_mw, system="gb200_nvl72", cooling="dlc", climate="phoenix")
    folder = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    mapping = _in_child(make_exports, site, folder, args.hours)
    made = time.perf_counter() - t
    files = [folder / "rack_power.csv", folder / "rack_util.csv"]
    mb = sum(f.stat().st_size for f in files) / 1e6
    load0 = os.getloadavg()[0]

    timings = {}

    def timed(key, work):
        wall, cpu = time.perf_counter(), time.process_time()
        out = work()
        timings[key] = (time.perf_counter() - wall, time.process_time() - cpu)
        return out

    timed("read_csv", lambda: [pd.read_csv(f) for f in files])
    measured = timed("import", lambda: twin.telemetry.read(files, mapping, facility=site))
    import_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fit = timed("calibrate", lambda: twin.calibrate(site, measured, parameters=list(PARAMETERS), targets=["rack_power_kw"]))
    timed("replay", lambda: twin.simulate(site, drive=measured))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load1 = os.getloadavg()[0]

    table = fit.table().set_index("parameter")
    level = [c for c in table.columns if c.startswith("ci_low")][0].split(" ")[1]
    recovered = []
    for name, field in PARAMETERS.items():
        row = table.loc[f"systems.gb200_nvl72.{field}"]
        lo, hi = row[f"ci_low {level}"], row[f"ci_high {level}"]
        recovered.append(f"{field} {row['value']:.1f} ({lo:.1f}-{hi:.1f}; truth {TRUTH[field]:g}"
                         f"{'' if lo <= TRUTH[field] <= hi else ', OUTSIDE'})")
    after = fit.after[(fit.after["variable"] == "rack_power_kw") & (fit.after["resolution"] == "hourly")].iloc[0]
    racks, steps = int(measured.sizes["rack"]), int(measured.sizes["time"])
    print(f"{racks:,} racks x {steps:,} hourly steps; exports {mb:.0f} MB made in {made:.1f} s (not timed); "
          f"load average {load0:.1f}-{load1:.1f}")
    w = {k: v[0] for k, v in timings.items()}
    c = {k: v[1] for k, v in timings.items()}
    print("| racks | steps | read_csv s | import s (CPU s) | import / read_csv | calibrate s (CPU s) | replay s "
          "| calibrate / replay | import + calibrate s (CPU s) | import peak MB | peak MB "
          "| rack_power_kw CV(RMSE) % / NMBE % after |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {racks:,} | {steps:,} | {w['read_csv']:.2f} | {w['import']:.2f} ({c['import']:.2f}) | "
          f"{w['import'] / w['read_csv']:.1f} | {w['calibrate']:.2f} ({c['calibrate']:.2f}) | {w['replay']:.2f} | "
          f"{w['calibrate'] / w['replay']:.2f} | {w['import'] + w['calibrate']:.1f} ({c['import'] + c['calibrate']:.1f}) | "
          f"{import_peak:,.0f} | {peak:,.0f} | {after['cv_rmse_pct']:.2f} / {after['nmbe_pct']:+.3f} |")
    print("recovered:", "; ".join(recovered))


def _in_child(work, *args):
    """work(*args) in a forked child (its memory is not this process's peak); its result comes back pickled."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=lambda: queue.put(work(*args)))
    child.start()
    out = queue.get()
    child.join()
    if child.exitcode:
        raise RuntimeError(f"making the exports failed (exit code {child.exitcode})")
    return out


if __name__ == "__main__":
    main()
