"""Benchmark: render a facility to PNG at 1,000 / 10,000 / 100,000 racks, against one actor per rack.

Run: python benchmarks/bench_render.py [--sizes 1000 10000 100000] [--window 1600x1000]
Each measurement runs in its own process, so its peak memory (max RSS) is its own. The facilities are
synthetic (halls of 20 x 20 racks with UPS, busways, CDUs and dry coolers; racks without GPU nodes so a
100,000-rack graph stays small) coloured by a random per-rack power state; plus the parametric 1 GW
AI factory as drawn by default. `render` is the whole twin.render call (layout, meshes, first frame,
PNG), `import` the one-off cost of importing pyvista and VTK's modules (a first Plotter), `table` the facility's own rack table build.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

WORKER = r"""
import json, resource, sys, time
task, n, window = sys.argv[1], int(sys.argv[2]), tuple(int(v) for v in sys.argv[3].split("x"))
sys.path.insert(0, sys.argv[4])
import numpy as np, xarray as xr
from bench_render import synthetic

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

out = {}
t = time.perf_counter()
import twin.views, pyvista as pv  # module loading (pyvista, VTK, matplotlib, the interactor): once per process
pv.Plotter(off_screen=True).close()
out["import"] = time.perf_counter() - t
if task == "ai_factory":
    from blueprints.parametric import ai_factory
    facility, state = ai_factory(grid_mw=n), None
else:
    facility = synthetic(n)
t = time.perf_counter()
racks = facility.table("rack")
out["table"] = time.perf_counter() - t
out["racks"] = len(racks)
if task != "ai_factory":
    rng = np.random.default_rng(0)
    state = xr.Dataset({"rack_power_kw": (("rack",), rng.uniform(20, 140, len(racks)), {"units": "kW"})},
                       coords={"rack": racks.index.to_numpy()})
base = rss()
t = time.perf_counter()
if task == "actors":  # the naive way: one pyvista actor per rack
    import matplotlib, pyvista as pv
    pl = pv.Plotter(off_screen=True, window_size=list(window))
    values = state["rack_power_kw"].values
    colors = matplotlib.colormaps["plasma"]((values - values.min()) / np.ptp(values))
    for (x, y, z, w, d, h), c in zip(racks[["x_m", "y_m", "z_m", "width_m", "depth_m", "height_m"]].to_numpy(), colors):
        pl.add_mesh(pv.Box(bounds=(x - w / 2, x + w / 2, y - d / 2, y + d / 2, z, z + h)), color=c[:3], render=False)
    pl.view_vector((-0.55, -1.0, 0.85))
    pl.screenshot(sys.argv[5])
    pl.close()
else:
    twin.render(facility, sys.argv[5], state=state, window_size=window)
out["render"] = time.perf_counter() - t
out["peak_mb"] = rss() - base
t = time.perf_counter()
if task != "actors":
    twin.render(facility, sys.argv[5], state=state, window_size=window)
    out["again"] = time.perf_counter() - t
print(json.dumps(out))
"""


def synthetic(n_racks: int, racks_per_row: int = 20, rows_per_hall: int = 20):
    """A facility of `n_racks` empty rack positions in halls of rows, with UPS, busways, CDUs and dry coolers."""
    import math

    from twin import Facility

    f = Facility(f"synthetic-{n_racks}", grid_limit_mw=n_racks * 0.15)
    f.add_device("grid", "grid", rating_kw=n_racks * 150.0)
    per_hall = racks_per_row * rows_per_hall
    halls = math.ceil(n_racks / per_hall)
    cols = math.ceil(math.sqrt(halls))
    hall_w, hall_d = racks_per_row * 0.6 + 2.4, rows_per_hall * 3.6 + 1.2
    left = n_racks
    for h in range(halls):
        hall = f"hall-{h + 1:03d}"
        x0, y0 = (h % cols) * (hall_w + 10), (h // cols) * (hall_d + 10)
        for side in "ab":
            f.add_device(f"{hall}/ups-{side}", "ups", rating_kw=per_hall * 150.0, fed_by=["grid"], group=f"{hall}/ups",
                         redundancy="2N")
        coolers = [f.add_device(f"{hall}/dc-{i}", "dry_cooler", rating_kw=2500.0, group=f"{hall}/dc", redundancy="N+1")
                   for i in range(1, 5)]
        cdus = [f.add_device(f"{hall}/cdu-{i}", "cdu", rating_kw=2000.0, rejects_to=coolers, group=f"{hall}/cdu",
                             redundancy="N+1") for i in range(1, 9)]
        f.add_hall(hall, x_m=x0, y_m=y0, width_m=hall_w, depth_m=hall_d, cooling="dlc")
        for r in range(rows_per_hall):
            if left <= 0:
                break
            n = min(racks_per_row, left)
            left -= n
            row = f.add_row(hall, f"row-{r + 1:02d}", y_m=y0 + 1.8 + r * 3.6)
            busway = f.add_device(f"{row}/busway", "busway", rating_kw=n * 150.0, fed_by=[f"{hall}/ups-a", f"{hall}/ups-b"])
            f.add_racks(row, n, x_m=x0 + 1.5, fed_by=[busway], cooled_by=cdus[:2])
    return f


def run(task: str, n: int, window: str, png: str, repeat: int = 1) -> dict:
    """The measurement in `repeat` fresh processes; the fastest one (a shared machine only ever adds time)."""
    from pathlib import Path

    here = str(Path(__file__).resolve().parent)
    runs = []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", WORKER, task, str(n), window, here, png], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{task} {n}: {proc.stderr[-2000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda r: r["render"])


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--window", default="1600x1000")
    parser.add_argument("--repeat", type=int, default=1, help="fresh processes per row; the fastest is shown")
    args = parser.parse_args()
    targets = {10000: 1.0, 100000: 3.0}
    with tempfile.TemporaryDirectory() as tmp:
        k = args.repeat
        rows = [("one actor per rack (baseline)", run("actors", args.sizes[0], args.window, f"{tmp}/a.png", k))]
        rows += [(f"twin.render, {n:,} racks", run("ours", n, args.window, f"{tmp}/o{n}.png", k)) for n in args.sizes]
        rows.append(("twin.render, ai_factory(1000 MW)", run("ai_factory", 1000, args.window, f"{tmp}/f.png", k)))
    import os

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"PNG {args.window}, one process per row; render = the whole twin.render call, cold (first in its "
          f"process), again = a second call; best of {args.repeat}; load average {load} on {os.cpu_count()} cores")
    print("anti-aliasing (4x multisampling) is on up to 2,000 racks, off above: see AA_UP_TO_RACKS in twin/views/drawing.py")
    print(f"{'case':<36}{'racks':>9}{'render s':>10}{'again s':>9}{'peak MB':>9}{'import s':>10}{'table s':>9}{'target':>8}")
    for name, r in rows:
        target = targets.get(r["racks"]) if "actors" not in name and "ai_factory" not in name else None
        verdict = "" if target is None else ("PASS" if r["render"] <= target else "MISS") + f" {target:g}s"
        again = f"{r['again']:>9.2f}" if "again" in r else f"{'':>9}"
        print(f"{name:<36}{r['racks']:>9,}{r['render']:>10.2f}{again}{r['peak_mb']:>9.0f}{r['import']:>10.2f}"
              f"{r['table']:>9.2f}{verdict:>8}")
    base, ours = rows[0][1], rows[1][1]
    print(f"one actor per rack vs one mesh at {base['racks']:,} racks: {base['render'] / ours['render']:.1f}x the time, "
          f"{base['peak_mb']:.0f} vs {ours['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
