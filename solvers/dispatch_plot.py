"""A picture of a dispatch: import against its limit with events shaded, the facility's power by part, tokens
by tier, battery state of charge and the classes' caps; honest scales (kW axes from zero, shared time axis)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from solvers.dispatch import Dispatch

PARTS = (("it_power_kw", "IT", "#4c72b0"), ("losses_kw", "power-chain losses", "#dd8452"),
         ("cooling_power_kw", "cooling", "#55a868"), ("aux_power_kw", "auxiliary", "#8172b3"))


def plot(run: Dispatch, path: str | os.PathLike | None = None, *, title: str | None = None):
    """Four panels over the horizon; written atomically as PNG to `path` if given. Returns the Figure."""
    from matplotlib.figure import Figure

    ds = run.dataset
    t = ds["time"].values
    fig = Figure(figsize=(11, 10), layout="constrained")
    ax = fig.subplots(4, 1, sharex=True)
    ax[0].stackplot(t, *[ds[k].values / 1000 for k, _, _ in PARTS], labels=[x for _, x, _ in PARTS],
                    colors=[c for _, _, c in PARTS], alpha=0.85)
    ax[0].plot(t, ds["grid_import_kw"].values / 1000, color="black", lw=1.2, label="grid import")
    ax[0].step(t, ds["grid_limit_kw"].values / 1000, where="post", color="#c44e52", lw=1.2, ls="--", label="limit")
    if run.baseline is not None:
        ax[0].plot(t, run.baseline.dataset["grid_import_kw"].values / 1000, color="grey", lw=1, ls=":",
                   label="import without events")
    for a in ax:
        _shade(a, t, ds["event"].values)
    ax[0].set_ylabel("MW")
    ax[0].set_ylim(bottom=0)
    ax[0].legend(loc="lower left", ncols=4, fontsize=8)
    for tier in ds["tier"].values:
        if tier == "training":
            continue
        ax[1].plot(t, ds["tokens_per_s"].sel(tier=tier).values / 1e6, lw=1, label=str(tier))
    ax[1].set_ylabel("tokens/s, millions")
    ax[1].set_ylim(bottom=0)
    ax[1].legend(loc="upper left", ncols=5, fontsize=8)
    ax[2].plot(t, ds["battery_soc_kwh"].values / 1000, color="#6b8e5a", lw=1.2, label="battery state of charge, MWh")
    ax[2].plot(t, ds["generator_kw"].values / 1000, color="#7a6a58", lw=1.2, label="generator, MW")
    ax[2].set_ylim(bottom=0)
    ax[2].legend(loc="upper left", fontsize=8)
    for c in ds["rack_class"].values:
        ax[3].plot(t, ds["class_speed"].sel(rack_class=c).values, lw=1, label=f"{c}: speed")
    ax[3].set_ylabel("full-speed share of racks")
    ax[3].set_ylim(0, 1.05)
    ax[3].legend(loc="lower left", fontsize=7, ncols=2)
    ax[3].set_xlabel("time")
    fig.suptitle(title or ds.attrs.get("title", "dispatch"))
    if path is not None:
        from twin.io import atomic_write

        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=110), binary=True)
    return fig


def _shade(ax, t: np.ndarray, mask: np.ndarray) -> None:
    if not mask.any():
        return
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    step = t[1] - t[0] if t.size > 1 else np.timedelta64(1, "h")
    for a, b in zip(edges[::2], edges[1::2]):
        ax.axvspan(t[a], t[b - 1] + step, color="#f2c14e", alpha=0.25, lw=0)


__all__ = ["plot"]
