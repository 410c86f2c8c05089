"""A violin plot of an uncertainty run: each headline KPI's samples over its deterministic answer (the answer at
the inputs' medians), with the P10-P90 band and the median marked; optimize runs show the fixed design and the
re-optimized one side by side. One linear axis of ratios, so a spread of +-20 % looks the same on every KPI."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

HEADLINE = {
    "simulate": ("tokens", "grid_energy_mwh", "pue", "peak_grid_mw", "revenue_usd", "energy_cost_usd",
                 "energy_usd_per_mtok"),
    "optimize": ("profit_usd_per_year", "market_revenue_usd_per_year", "tokens_per_s", "total_capex_usd",
                 "facility_mw", "usd_per_mtok_sold"),
    "compare": ("margin_per_mw[a]", "margin_per_mw[b]", "revenue_per_mw[a]", "revenue_per_mw[b]"),
}
"""The KPIs a plot or a CLI table shows first for each run (those the Dataset has)."""
MODE_COLORS = {"": "#4c72b0", "fixed": "#4c72b0", "reoptimized": "#dd8452"}


def headline(ds: xr.Dataset) -> list[str]:
    """The run's headline KPIs present in `ds`, then none else."""
    return [k for k in HEADLINE.get(ds.attrs.get("run", "simulate"), ()) if k in ds["kpi"].values]


def plot(ds: xr.Dataset, path: str | os.PathLike | None = None, *, kpis: Sequence[str] | None = None,
         title: str | None = None):
    """Violins of value / point per KPI; saved atomically to `path` (PNG, SVG, PDF) if given. Returns the Figure."""
    from matplotlib.figure import Figure

    names = list(kpis) if kpis is not None else headline(ds)
    modes = list(ds["mode"].values) if "mode" in ds.dims else [""]
    fig = Figure(figsize=(max(6.0, 1.4 * len(names) * len(modes) + 2), 5), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / len(modes)
    for m, mode in enumerate(modes):
        sel = ds.sel(mode=mode) if mode else ds
        for j, kpi in enumerate(names):
            point = float(sel["point"].sel(kpi=kpi))
            values = sel["value"].sel(kpi=kpi).values
            ratio = values[np.isfinite(values)] / point if point else np.array([])
            x = j + (m - (len(modes) - 1) / 2) * width
            if ratio.size > 1 and np.ptp(ratio) > 0:
                body = ax.violinplot(ratio, [x], widths=width * 0.9, showextrema=False)
                for b in body["bodies"]:
                    b.set_facecolor(MODE_COLORS.get(mode, "#4c72b0"))
                    b.set_alpha(0.55)
            if ratio.size:
                p10, p50, p90 = np.quantile(ratio, (0.1, 0.5, 0.9))
                ax.vlines(x, p10, p90, color="black", lw=2)
                ax.plot([x], [p50], "o", color="white", mec="black", ms=5)
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="answer at the inputs' medians")
    ax.set_xticks(range(len(names)), [_label(ds, k) for k in names], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("sample / answer at the medians (P10-P90 bar, P50 dot)")
    if len(modes) > 1:
        from matplotlib.patches import Patch

        handles = [Patch(color=MODE_COLORS[m], alpha=0.55, label=_MODE_TEXT.get(m, m)) for m in modes]
        ax.legend(handles=handles + ax.get_legend_handles_labels()[0][:1], loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  fontsize=8)
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title(title or f"{ds.attrs.get('base', '')}: {ds.attrs.get('run', '')}, {ds.sizes['sample']} samples",
                 fontsize=10)
    if path is not None:
        from twin.atomic import save_figure

        save_figure(fig, path, dpi=120)
    return fig


_MODE_TEXT = {"fixed": "fixed design, uncertain world", "reoptimized": "re-optimized per sample"}


def _label(ds: xr.Dataset, kpi: str) -> str:
    units = str(ds["kpi_units"].sel(kpi=kpi).values)
    return kpi if units in ("1", "") else f"{kpi} ({units})"


__all__ = ["plot", "headline", "HEADLINE"]
