"""The twin against public measurements: GPU power-limit sweeps, fleet GPU power, and real request traffic.

1. Zeus power-limit sweeps (training on A40, V100, P100, RTX 6000): fit the catalog's cap-curve form,
   throughput = cap_fraction ** exponent, with the cap against the GPU's maximum limit and against the job's
   own uncapped draw, and score the catalog's curves on the same points (Guideline 14 CV(RMSE), NMBE).
2. AcmeTrace A100 fleets (Kalos, Seren): the measured GPU power distribution beside the twin's GPU power
   model under its utilization profiles.
3. Azure LLM traces: five minutes of real conversation and coding traffic as per-tier demand driving the
   packaged AI-factory hall.

Run: python examples/public_telemetry.py [output-folder]    (writes tables as Markdown and three figures)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import blueprints
import twin
from twin.atomic import atomic_write, save_figure
from twin.calibration import public
from twin.physics.tokens import Workload
from twin.telemetry import requests

out = Path(sys.argv[1] if len(sys.argv) > 1 else "public-telemetry")
out.mkdir(parents=True, exist_ok=True)
catalog = twin.catalog.default_catalog()
notes = []

# --- 1. cap curves on the power-limit sweeps -------------------------------------------------------------------
rows = []
for basis in ("tdp", "natural"):
    fit = public.fit_cap_curve(basis=basis, min_cap=0.5)
    rows.append(f"| fitted power law, cap / {'maximum limit' if basis == 'tdp' else 'uncapped draw'} | "
                f"{fit.exponent:.3f} ({fit.ci_low:.3f}-{fit.ci_high:.3f}) | {fit.points} | {fit.cv_rmse_pct:.1f} | {fit.nmbe_pct:+.1f} |")
    for curve in ("measured_default", "vendor_claim", "training_sweeps"):
        e = public.catalog_curve_error(catalog, curve, basis=basis)
        rows.append(f"| catalog `{curve}`, cap / {'maximum limit' if basis == 'tdp' else 'uncapped draw'} | - | "
                    f"{e['points']} | {e['cv_rmse_pct']:.1f} | {e['nmbe_pct']:+.1f} |")
table = "| curve | exponent (95 % interval) | points | CV(RMSE) % | NMBE % |\n|---|---|---|---|---|\n" + "\n".join(rows)
notes.append("## Throughput vs power cap, Zeus sweeps (caps >= 50 % of the maximum limit)\n\n" + table)
sweeps = public.zeus_sweeps()
fig = Figure(figsize=(11, 4.2), layout="constrained")
axes = fig.subplots(1, 2, sharey=True)
for ax, basis, col in zip(axes, ("tdp", "natural"), ("cap_fraction", "natural_fraction")):
    fit = public.fit_cap_curve(basis=basis, min_cap=0.5)
    inside = sweeps[sweeps["cap_fraction"] >= 0.5]
    for gpu, part in inside.groupby("gpu"):
        ax.scatter(np.minimum(part[col], 1.6), part["throughput_rel"], s=6, alpha=0.35, label=gpu)
    c = np.linspace(0.3, 1.6, 200)
    ax.plot(c, np.minimum(c, 1) ** fit.exponent, color="black", lw=2, label=f"fit: c^{fit.exponent:.3f}")
    ax.plot(c, catalog.power_cap_curve("measured_default").factor(np.clip(c, 0.5, 1.0)), color="#c44e52", lw=1.5,
            ls="--", label="catalog measured_default")
    ax.set_xlabel("cap / maximum limit" if basis == "tdp" else "cap / the job's uncapped draw (clipped at 1.6)")
    ax.set_ylim(0.3, 1.25)
    ax.axhline(1.0, color="grey", lw=0.5)
axes[0].set_ylabel("throughput / throughput at the maximum limit")
axes[1].legend(fontsize=7, loc="lower right")
fig.suptitle("Zeus power-limit sweeps: 1,339 measured training runs (A40, V100, P100, RTX 6000)", fontsize=9)
save_figure(fig, out / "cap_curve.png", dpi=110)

# --- 2. fleet GPU power vs the twin under its profiles ---------------------------------------------------------
fig = Figure(figsize=(11, 4), layout="constrained")
axes = fig.subplots(1, 2, sharey=True)
for ax, cluster in zip(axes, ("kalos", "seren")):
    comparison = public.fleet_comparison(cluster)
    q = public.fleet_quantiles()
    ax.plot(q[f"{cluster}_gpu_power_w"], q["quantile"], color="black", lw=2, label="measured")
    idle, full = comparison.attrs["idle_w"], comparison.attrs["full_load_w"]
    for name in ("diurnal", "training"):
        power = twin.physics.gpu.gpu_power_w(idle, full, twin.physics.profiles.resolve(
            name, np.arange("2025-01-01T00", "2026-01-01T00", dtype="datetime64[h]"), 1))
        ax.plot(np.sort(power), np.linspace(0, 1, power.size), lw=1.2, label=f"twin, {name} profile")
    ax.set_title(f"{cluster.title()} (A100): idle {idle:.0f} W, full load {full:.0f} W from the fleet", fontsize=9)
    ax.set_xlabel("GPU power, W")
    cols = ["mean_w", "p10_w", "p50_w", "p90_w", "share_near_idle", "mean_utilization", "wasserstein_w"]
    lines = ["| distribution | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{row[c]:.3g}" for c in cols) + " |" for name, row in comparison.iterrows()]
    notes.append(f"## GPU power on the {cluster.title()} cluster vs the twin\n\n" + "\n".join(lines))
axes[0].set_ylabel("share of GPU-time at or below")
axes[0].legend(fontsize=8)
fig.suptitle("AcmeTrace measured A100 power vs the twin's GPU power model under its utilization profiles", fontsize=9)
save_figure(fig, out / "fleet_power.png", dpi=110)

# --- 3. five minutes of real requests driving the packaged hall ------------------------------------------------
site = blueprints.load("ai-factory-hall")
traces = [public.data_path(name) for name in public.AZURE_FILES]
tiers = {traces[0].stem: "standard", traces[1].stem: "premium"}
demand = requests.demand(traces, site, tiers=tiers, freq="10s", peak_utilization=0.9)
work = Workload(tier_mix={"standard": 1, "premium": 1})
sim = twin.simulate(site, drive=demand, workload=work)
fig = Figure(figsize=(11, 5), layout="constrained")
ax = fig.subplots(2, 1, sharex=True)
for tier in demand["tier"].values:
    ax[0].plot(demand["time"], demand["demand_tokens_per_s"].sel(tier=tier) / 1e6, lw=1, label=f"{tier} demand")
ax[0].set_ylabel("tokens/s, millions")
ax[0].legend(fontsize=8)
ax[1].plot(sim["time"], sim["it_power_kw"] / 1000, color="#4c72b0", lw=1, label="IT power")
ax[1].plot(sim["time"], sim["grid_power_kw"] / 1000, color="black", lw=1, label="grid power")
ax[1].set_ylabel("MW")
ax[1].set_ylim(bottom=0)
ax[1].legend(fontsize=8)
fig.suptitle(f"Azure LLM traffic (x{demand.attrs['scale']:.0f}) driving ai-factory-hall, 10-second steps", fontsize=9)
save_figure(fig, out / "azure_demand.png", dpi=110)
notes.append(f"## Azure traffic on ai-factory-hall\n\nscale x{demand.attrs['scale']:.1f}; utilization mean "
             f"{float(demand['utilization'].mean()):.3f}, peak {float(demand['utilization'].max()):.3f}; IT power "
             f"{float(sim['it_power_kw'].min()) / 1000:.2f}-{float(sim['it_power_kw'].max()) / 1000:.2f} MW")

atomic_write(out / "public_telemetry.md", lambda fh: fh.write("\n\n".join(notes) + "\n"))
print("\n\n".join(notes))
