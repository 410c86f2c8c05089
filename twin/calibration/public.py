"""The twin against public measurements: GPU power-limit sweeps and fleet GPU power distributions.

Packaged subsets (twin/data/telemetry/, each with its source and licence in the README there):

- Zeus power-limit sweeps (ml-energy/zeus, Apache-2.0): training time per epoch and average GPU power at a
  sweep of power limits on A40, V100, P100 and RTX 6000 for six workloads and many batch sizes.
  `fit_cap_curve` fits the catalog's curve form, throughput = cap_fraction ** exponent, by the same bounded
  least squares and Guideline 14 metrics users run on their own telemetry, with the cap taken against the
  GPU's maximum limit (the catalog's basis, cap / TDP) or against the power the job draws uncapped (its
  natural draw). `catalog_curve_error` scores a catalog curve on the same points.
- AcmeTrace (InternLM/AcmeTrace, CC-BY-4.0): distributions of measured A100 power on two LLM-development
  clusters (Kalos, Seren). `fleet_comparison` sets the twin's GPU power model under its utilization profiles
  beside them, with the idle and full-load draw read off the fleet itself.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from twin.calibration import fitting, metrics

if TYPE_CHECKING:
    from twin.catalog import Catalog

FOLDER = "telemetry"
ZEUS_FILE = "zeus_power_limit_sweeps.csv"
ACME_FILE = "acmetrace_a100_quantiles.csv"
AZURE_FILES = ("azure_llm_2023_conv_5min.csv", "azure_llm_2023_code_5min.csv")
ZEUS_GPUS = ("a40", "v100", "p100", "rtx6000")
#: share of quantile levels used for the fleet's idle (low end) and full-load (high end) draw
IDLE_QUANTILE, FULL_QUANTILE = 0.05, 0.99


def data_path(name: str) -> Path:
    """A packaged public subset's path."""
    try:
        return Path(str(resources.files("twin") / "data" / FOLDER / name))
    except (ModuleNotFoundError, TypeError):
        return Path(__file__).resolve().parent.parent / "data" / FOLDER / name


@lru_cache(maxsize=1)
def zeus_sweeps() -> pd.DataFrame:
    """Each measured point with its throughput relative to the same job at the GPU's maximum limit, and the
    cap as a fraction of that limit and of the job's natural (uncapped) draw."""
    d = pd.read_csv(data_path(ZEUS_FILE))
    key = ["gpu", "dataset", "network", "optimizer", "batch_size"]
    top = d[d["power_limit_w"] == d["max_power_limit_w"]].set_index(key)
    d = d.join(top["time_per_epoch_s"].rename("time_at_max_s"), on=key)
    d = d.join(top["average_power_w"].rename("natural_w"), on=key)
    d = d.dropna(subset=["time_at_max_s"])
    d["throughput_rel"] = d["time_at_max_s"] / d["time_per_epoch_s"]
    d["cap_fraction"] = d["power_limit_w"] / d["max_power_limit_w"]
    d["natural_fraction"] = d["power_limit_w"] / d["natural_w"]
    return d.reset_index(drop=True)


class CapCurveFit(NamedTuple):
    """A power-law cap curve fitted on sweeps: exponent, its interval, Guideline 14 scores, per-GPU exponents."""

    basis: str
    exponent: float
    ci_low: float
    ci_high: float
    points: int
    cv_rmse_pct: float
    nmbe_pct: float
    per_gpu: pd.DataFrame

    def catalog_points(self, caps: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)) -> list[list[float]]:
        return [[c, round(c ** self.exponent, 4)] for c in caps]


def _power_law(x: np.ndarray, y: np.ndarray, level: float) -> fitting.LeastSquares:
    return fitting.fit(lambda a: np.minimum(x, 1.0) ** a[0] - y, [0.6], [0.01], [3.0], ["exponent"], level=level)


def fit_cap_curve(sweeps: pd.DataFrame | None = None, *, basis: str = "tdp", min_cap: float = 0.0,
                  level: float = 0.95) -> CapCurveFit:
    """Fit throughput = min(1, c) ** exponent, c the cap over the maximum limit (`basis="tdp"`) or over the
    job's natural draw (`"natural"`); points below `min_cap` of the maximum limit are left out."""
    d = zeus_sweeps() if sweeps is None else sweeps
    d = d[d["cap_fraction"] >= min_cap - 1e-9]
    col = {"tdp": "cap_fraction", "natural": "natural_fraction"}[basis]
    res = _power_law(d[col].to_numpy(float), d["throughput_rel"].to_numpy(float), level)
    pred = np.minimum(d[col].to_numpy(float), 1.0) ** res.x[0]
    y = d["throughput_rel"].to_numpy(float)
    rows = []
    for g, part in d.groupby("gpu"):
        r = _power_law(part[col].to_numpy(float), part["throughput_rel"].to_numpy(float), level)
        rows.append({"gpu": g, "exponent": r.x[0], "ci_low": r.ci_low[0], "ci_high": r.ci_high[0], "points": len(part)})
    return CapCurveFit(basis, float(res.x[0]), float(res.ci_low[0]), float(res.ci_high[0]), len(d),
                       metrics.cv_rmse(y, pred, 1), metrics.nmbe(y, pred, 1), pd.DataFrame(rows))


def catalog_curve_error(catalog: Catalog, curve: str, sweeps: pd.DataFrame | None = None, *,
                        basis: str = "tdp", min_cap: float = 0.5) -> dict[str, Any]:
    """Guideline 14 scores of a catalog cap curve on the sweeps' points with caps >= `min_cap` of the maximum
    limit (as `fit_cap_curve`), within the curve's evidence (c >= its minimum)."""
    d = zeus_sweeps() if sweeps is None else sweeps
    d = d[d["cap_fraction"] >= min_cap - 1e-9]
    entry = catalog.power_cap_curve(curve)
    col = {"tdp": "cap_fraction", "natural": "natural_fraction"}[basis]
    c = np.minimum(d[col].to_numpy(float), 1.0)
    inside = c >= entry.min_cap_fraction - 1e-9
    y = d["throughput_rel"].to_numpy(float)[inside]
    pred = np.asarray(entry.factor(c[inside]), dtype=float)
    return {"curve": curve, "basis": basis, "points": int(inside.sum()), "cv_rmse_pct": metrics.cv_rmse(y, pred),
            "nmbe_pct": metrics.nmbe(y, pred)}


@lru_cache(maxsize=1)
def fleet_quantiles() -> pd.DataFrame:
    """Measured A100 power (W) and GPU-utilization (%) quantiles of the Kalos and Seren clusters."""
    return pd.read_csv(data_path(ACME_FILE))


def fleet_comparison(cluster: str = "kalos", profiles: tuple[str, ...] = ("constant", "diurnal", "training"),
                     hours: int = 8760) -> pd.DataFrame:
    """The fleet's measured GPU power distribution beside the twin's GPU power model under utilization profiles.

    The model is the twin's: P = idle + (full - idle) x utilization (twin.physics.gpu), with idle and full the
    fleet's own IDLE_QUANTILE and FULL_QUANTILE of measured power (no catalog A100 entry exists). Rows: the
    measurement, the utilization the measured power implies through that model, and each profile.
    `wasserstein_w` is the mean absolute difference between quantile functions (W).
    """
    from twin.physics import gpu, profiles as prof

    q = fleet_quantiles()
    levels = q["quantile"].to_numpy(float)
    measured = q[f"{cluster}_gpu_power_w"].to_numpy(float)
    idle = float(np.interp(IDLE_QUANTILE, levels, measured))
    full = float(np.interp(FULL_QUANTILE, levels, measured))
    rows = [_row("measured", measured, measured, levels, idle, full)]
    implied = np.clip((measured - idle) / (full - idle), 0.0, 1.0)
    rows[0]["mean_utilization"] = float(np.trapezoid(implied, levels))
    time = np.arange("2025-01-01T00", np.datetime64("2025-01-01T00") + np.timedelta64(hours, "h"), dtype="datetime64[h]")
    for name in profiles:
        u = prof.resolve(name, time, 1)
        power = np.quantile(gpu.gpu_power_w(idle, full, u), levels)
        row = _row(f"twin, {name} profile", power, measured, levels, idle, full)
        row["mean_utilization"] = float(np.mean(u))
        rows.append(row)
    out = pd.DataFrame(rows).set_index("distribution")
    out.attrs.update({"cluster": cluster, "idle_w": idle, "full_load_w": full})
    return out


def _row(name: str, power: np.ndarray, measured: np.ndarray, levels: np.ndarray, idle: float, full: float) -> dict:
    at = lambda p: float(np.interp(p, levels, power))  # noqa: E731
    return {"distribution": name, "mean_w": float(np.trapezoid(power, levels)), "p10_w": at(0.1), "p50_w": at(0.5),
            "p90_w": at(0.9), "share_near_idle": float(np.interp(idle + 0.1 * (full - idle), np.sort(power), levels)),
            "wasserstein_w": float(np.trapezoid(np.abs(power - measured), levels)), "mean_utilization": np.nan}


# --------------------------------------------------------------------------- making the packaged subsets
def derive_zeus(folder: str | Path) -> pd.DataFrame:
    """The packaged sweep table from the Zeus trace folder: all power-summary rows, one GPU column, units named."""
    parts = []
    for g in ZEUS_GPUS:
        d = pd.read_csv(Path(folder) / f"summary_power_{g}.csv")
        d.insert(0, "gpu", g)
        d["max_power_limit_w"] = d["power_limit"].max()
        parts.append(d)
    d = pd.concat(parts, ignore_index=True)
    d["time_per_epoch"] = d["time_per_epoch"].round(4)
    d["average_power"] = d["average_power"].round(3)
    return d.rename(columns={"power_limit": "power_limit_w", "time_per_epoch": "time_per_epoch_s",
                             "average_power": "average_power_w"})[
        ["gpu", "dataset", "network", "batch_size", "optimizer", "power_limit_w", "max_power_limit_w",
         "time_per_epoch_s", "average_power_w"]]


def derive_acmetrace(folder: str | Path, levels: int = 101) -> pd.DataFrame:
    """Quantiles (0..1 in `levels` steps) of the AcmeTrace CDFs: GPU power per cluster and `var0` utilization."""
    q = np.linspace(0.0, 1.0, levels)
    out = {"quantile": q}
    for cluster in ("kalos", "seren"):
        power = pd.read_csv(Path(folder) / f"gpu_power_{cluster}_cdf.csv")
        out[f"{cluster}_gpu_power_w"] = np.interp(q, power["cdf_pct_0"] / 100.0, power["gpu_power_W"]).round(2)
        util_file = "util_gpu_kalos_full_cdf.csv" if cluster == "kalos" else "util_gpu_seren_cdf.csv"
        util = pd.read_csv(Path(folder) / util_file)
        out[f"{cluster}_gpu_util_pct"] = np.interp(q, util["cdf_pct_0"] / 100.0, util["var0"]).round(3)
    return pd.DataFrame(out)


def derive_azure(folder: str | Path, minutes: int = 5) -> dict[str, pd.DataFrame]:
    """The same `minutes` of both Azure LLM inference traces (from the later of their first requests), rows unchanged."""
    traces = {}
    for name, service in zip(AZURE_FILES, ("conv", "code")):
        d = pd.read_csv(Path(folder) / f"AzureLLMInferenceTrace_{service}.csv", dtype=str)
        traces[name] = (d, pd.to_datetime(d["TIMESTAMP"], format="%Y-%m-%d %H:%M:%S.%f"))
    start = max(t.iloc[0] for _, t in traces.values())
    end = start + pd.Timedelta(minutes=minutes)
    return {name: d[(t >= start) & (t < end)] for name, (d, t) in traces.items()}


__all__ = ["zeus_sweeps", "fit_cap_curve", "catalog_curve_error", "CapCurveFit", "fleet_quantiles", "fleet_comparison",
           "derive_zeus", "derive_acmetrace", "derive_azure", "data_path", "AZURE_FILES"]
