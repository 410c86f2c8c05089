"""Prediction against measurement over time: one panel per compared variable, its Guideline 14 scores in the legend.

Per-rack and per-device variables are shown as their sum over the measured racks or devices (the same ones
on both sides); runs longer than 2,000 steps as daily means. Written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

MAX_PANELS = 6
DAILY_ABOVE = 2000


def replay_figure(ds: xr.Dataset, path: str | Path | None = None, *, title: str | None = None) -> Figure:
    """Twin vs measured for every variable a replay Dataset has both of; saved to `path` (PNG, SVG, PDF) if given."""
    import pandas as pd
    from matplotlib.figure import Figure

    from twin.calibration import metrics

    scores = metrics.compare(ds)
    names = list(dict.fromkeys(scores["variable"]))[:MAX_PANELS]
    if not names:
        names = [n[: -len("_measured")] for n in ds.data_vars if str(n).endswith("_measured")
                 and n[: -len("_measured")] in ds][:1]
    fig = Figure(figsize=(11, 2.6 * max(len(names), 1) + 0.8), layout="constrained")
    axes = fig.subplots(max(len(names), 1), 1, sharex=True, squeeze=False)[:, 0]
    time = pd.DatetimeIndex(ds["time"].values)
    daily = time.size > DAILY_ABOVE
    for ax, name in zip(axes, names):
        y, yhat = metrics.frames(ds, name)
        count = y.shape[1]
        y_all = y.sum(axis=1, min_count=count) if count > 1 else y.iloc[:, 0]
        p_all = yhat.where(y.notna()).sum(axis=1, min_count=count) if count > 1 else yhat.iloc[:, 0]
        if daily:
            y_all, p_all = y_all.resample("1D").mean(), p_all.resample("1D").mean()
        row = scores[(scores["variable"] == name) & (scores["resolution"] == "hourly")]
        score = (f": CV(RMSE) {row['cv_rmse_pct'].iloc[0]:.1f} %, NMBE {row['nmbe_pct'].iloc[0]:+.1f} %"
                 if len(row) else "")
        ax.plot(y_all.index, y_all.values, color="black", lw=1.0, label="measured")
        ax.plot(p_all.index, p_all.values, color="#c44e52", lw=1.0, alpha=0.85, label=f"twin{score}")
        unit = ds[name].attrs.get("units", "")
        what = f"sum of {count} {ds[f'{name}_measured'].dims[-1]}s" if count > 1 else name
        if name == "rack_gpu_power_kw":
            what += " (reporting GPUs)"
        ax.set_ylabel(f"{name}\n{what}, {unit}" if count > 1 else f"{name}, {unit}", fontsize=8)
        lo = np.nanmin([np.nanmin(y_all.values), np.nanmin(p_all.values)])
        ax.set_ylim(bottom=min(0.0, lo))
        ax.legend(loc="best", fontsize=8, ncols=2)
    axes[-1].set_xlabel("time (" + ("daily mean" if daily else ds.attrs.get("freq", "steps")) + ")")
    fig.suptitle(title or f"{ds.attrs.get('facility', 'facility')}: twin driven by {ds.attrs.get('drive', 'measurement')}",
                 fontsize=9)
    if path is not None:
        save(fig, path)
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Write a figure through the project's atomic writer (format from the suffix)."""
    from twin.atomic import save_figure

    return save_figure(fig, path, dpi=110)


__all__ = ["replay_figure", "save", "MAX_PANELS"]
