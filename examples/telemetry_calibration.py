"""Telemetry in, calibrated parameters out: import an operator's exports, replay, calibrate, and read the fit back.

The exports here are made by the twin itself from a fleet whose GPUs idle at 190 W and draw 1,000 W at full
load (instead of the catalog's 145 W and the 1,200 W TDP) plus measurement noise, so the answer is known:
- a Prometheus export of the DCGM exporter (per-GPU power and utilization, one scrape every 15 minutes);
- a building-management point list (rack PDU power, the main meter, outdoor air in °F) in local time across
  the 9 March 2025 daylight-saving change in Ashburn, with a thousands separator, a faulted reading and a
  duplicated row, as such exports come.

Run: python examples/telemetry_calibration.py [output-folder]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import blueprints
import twin
from twin.calibration import metrics
from twin.physics import gpu
from twin.telemetry.plots import replay_figure

out = Path(sys.argv[1] if len(sys.argv) > 1 else "telemetry-example")
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)

# --- the "real" fleet: the packaged hall, with GPUs that idle higher and peak lower than the catalog says ----
site = blueprints.load("ai-factory-hall", climate="ashburn")
truth = {"gpu_idle_w": 190.0, "gpu_full_load_w": 1000.0}
real = site.catalog.extend({"systems": [{"id": "gb200_nvl72", **truth, "source": "example fleet",
                                         "evidence": "assumption", "note": "the answer the example recovers"}]})
racks = site.table("rack")
hours = 48
start = pd.Timestamp("2025-03-08 00:00")                      # standard time (EST) throughout the twin
steps = pd.date_range(start, periods=hours * 4, freq="15min")
hour = steps.hour.to_numpy() + steps.minute.to_numpy() / 60
daily = 0.55 + 0.35 * np.cos(2 * np.pi * (hour - 15) / 24)
u = np.clip(daily[:, None] + rng.normal(0, 0.08, (steps.size, len(racks))), 0.02, 1.0)
sim = twin.simulate(twin.Facility(graph=site.graph, catalog=real), hours=hours, freq="15min",
                    start=str(start), utilization=u, per_rack=True)

# --- export 1: DCGM exporter metrics (Prometheus text, millisecond timestamps in UTC) -------------------------
spec = real.system("gb200_nvl72")
fixed, dyn = gpu.gpu_power_terms_kw(spec, 1 / spec.gpus_per_node, 1200.0)   # one GPU's board power, kW
stamps_ms = ((steps + pd.Timedelta(hours=5)).asi8 // 1_000_000).astype(np.int64)   # EST -> UTC
lines = ["# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).", "# TYPE DCGM_FI_DEV_POWER_USAGE gauge"]
hosts = {}
for j, rack in enumerate(racks.index):
    host = f"gb-{j + 1:02d}"
    hosts[host] = rack
    for g in range(4):   # four of the rack's 72 GPUs stand for it here (the file stays small)
        gu = np.clip(u[:, j] * sim.rack_throttle.values[:, j] + rng.normal(0, 0.03, steps.size), 0, 1)
        watts = (fixed + dyn * gu) * 1000 + rng.normal(0, 8, steps.size)
        labels = f'gpu="{g}",UUID="GPU-{j:02d}{g}",Hostname="{host}",modelName="NVIDIA GB200"'
        lines += [f"DCGM_FI_DEV_POWER_USAGE{{{labels}}} {w:.1f} {t}" for w, t in zip(watts, stamps_ms)]
        lines += [f"DCGM_FI_DEV_GPU_UTIL{{{labels}}} {100 * x:.0f} {t}" for x, t in zip(gu, stamps_ms)]
(out / "dcgm.prom").write_text("\n".join(lines) + "\n")

# --- export 2: the BMS point list, in local wall-clock time (EST, then EDT from 9 March 03:00) --------------
local = steps.tz_localize("Etc/GMT+5").tz_convert("America/New_York").tz_localize(None)
rows = ["Trend export,Ashburn DC1", "", "Point Name,Units,Date/Time,Present Value,Status"]
meter = sim.grid_power_kw.values * (1 + rng.normal(0, 0.005, steps.size))
for t, kw, oat in zip(local, meter, sim.dry_bulb_c.values * 9 / 5 + 32):
    rows.append(f'MAIN-SWBD.KW,kW,{t:%m/%d/%Y %H:%M:%S},"{kw:,.1f}",{{ok}}')
    rows.append(f"OAT,°F,{t:%m/%d/%Y %H:%M:%S},{oat:.1f},ok")
for j, rack in enumerate(racks.index):
    kw = sim.rack_power_kw.values[:, j] * (1 + rng.normal(0, 0.01, steps.size))
    rows += [f"{rack.split('/')[1].upper()}.{rack.split('/')[2].upper()}.PDU.KW,kW,{t:%m/%d/%Y %H:%M:%S},{v:.2f},ok"
             for t, v in zip(local, kw)]
rows.append(rows[-1])                                                               # a duplicated row
rows.append(f"MAIN-SWBD.KW,kW,{local[-1]:%m/%d/%Y %H:%M:%S},99999,{{fault}}")         # a faulted reading
(out / "bms.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

mapping = {
    "timezone": "America/New_York",
    "hosts": hosts,
    "points": {"MAIN-SWBD.KW": "grid_power_kw", "OAT": "dry_bulb_c"},
    "patterns": [{"match": r"^ROW-(?P<row>\d\d)\.RACK-(?P<rack>\d\d)\.PDU\.KW$", "variable": "rack_power_kw",
                  "node": "hall-a/row-{row}/rack-{rack}"}],
}

# --- import: one Dataset on the twin's coordinates, and what the import found -------------------------------
measured = twin.telemetry.read([out / "dcgm.prom", out / "bms.csv"], mapping, facility=site)
twin.telemetry.save(measured, out / "measured.nc")
print(twin.telemetry.report(measured)[["kind", "count", "detail"]].to_string(index=False, max_colwidth=100))

# --- replay with the packaged catalog, then calibrate GPU idle and full-load power ---------------------------
before = twin.simulate(site, drive=measured)
print("\npackaged catalog vs measured:\n", metrics.compare(before)[["variable", "cv_rmse_pct", "nmbe_pct", "passes"]])
fit = twin.calibrate(site, measured, parameters=["gpu.idle_w", "gpu.full_load_w"])
print("\n", fit.table()[["parameter", "value", "ci_low (95%)", "ci_high (95%)"]].to_string(index=False))
print("truth:", truth)
print("\ncalibrated vs measured:\n", fit.after[["variable", "cv_rmse_pct", "nmbe_pct", "passes"]])
overlay = fit.save(out / "fitted.yaml")

# --- the overlay is an ordinary catalog extension: load the site with it and replay again --------------------
calibrated = blueprints.load("ai-factory-hall", climate="ashburn", catalog=overlay)
after = twin.simulate(calibrated, drive=measured)
replay_figure(after, out / "replay.png")
assert fit.passes and metrics.compare(after)["cv_rmse_pct"].max() < metrics.compare(before)["cv_rmse_pct"].max()
print(f"\nwrote {out / 'measured.nc'}, {overlay} and {out / 'replay.png'}")
