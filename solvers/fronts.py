"""Pareto fronts of sweep results: the non-dominated scenarios for two KPIs, and PNG plots of the trade-offs.

>>> import numpy as np
>>> non_dominated(np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0, 2.0]), ("min", "max")).tolist()
[True, False, False]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from twin.errors import TwinError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

DIRECTIONS = {
    "tokens_per_s": "max", "tokens": "max", "revenue_usd_per_year": "max", "revenue_usd": "max",
    "interactivity_tok_s_user": "max", "tokens_per_joule": "max", "tokens_per_kwh_grid": "max", "gpus": "max",
    "capex_usd": "min", "usd_per_mtok": "min", "energy_usd_per_mtok": "min", "energy_cost_usd": "min",
    "grid_limit_mw": "min", "facility_mw": "min", "simulated_grid_mw": "min", "peak_grid_mw": "min", "it_mw": "min",
    "grid_energy_mwh": "min", "pue": "min", "wue_l_per_kwh": "min", "water_m3": "min",
}
"""Which way is better for each KPI (a planner buys less capex and grid, sells more tokens)."""

PLOTS = {
    "optimize": (("capex_usd", "tokens_per_s"), ("grid_limit_mw", "revenue_usd_per_year"),
                 ("interactivity_tok_s_user", "usd_per_mtok")),
    "simulate": (("grid_energy_mwh", "tokens"), ("peak_grid_mw", "revenue_usd"),
                 ("interactivity_tok_s_user", "energy_usd_per_mtok")),
}
"""Default panels: tokens vs capex, revenue vs grid MW, $/Mtok vs interactivity."""


def non_dominated(x: np.ndarray, y: np.ndarray, directions: Sequence[str] = ("max", "max")) -> np.ndarray:
    """True where no other point is at least as good in both and better in one (NaN points are never on it)."""
    x, y = _oriented(np.asarray(x, float), directions[0]), _oriented(np.asarray(y, float), directions[1])
    keep = np.zeros(x.shape, dtype=bool)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    order = ok[np.lexsort((-y[ok], -x[ok]))]          # best x first, best y first within equal x
    best_y = -np.inf                                  # best y among points with a strictly better x
    start = 0
    while start < order.size:
        stop = start
        while stop < order.size and x[order[stop]] == x[order[start]]:
            stop += 1
        group = order[start:stop]
        top = y[group[0]]
        if top > best_y:
            keep[group[y[group] == top]] = True
        best_y = max(best_y, top)
        start = stop
    return keep


def front(ds: xr.Dataset, x: str, y: str, directions: Sequence[str] | None = None) -> pd.DataFrame:
    """The non-dominated 'ok' scenarios for KPIs x and y: their parameters and the two KPIs, sorted by x.

    The index is each scenario's position in the flattened results (the order of `scenario_labels`).
    """
    for name in (x, y):
        if name not in ds.data_vars:
            kpis = [v for v in ds.data_vars if v not in ("status", "message", "seconds")]
            raise TwinError(f"KPI {name!r} is not in the sweep results; {did_you_mean(name, kpis)}")
    dirs = tuple(directions) if directions is not None else (direction(x), direction(y))
    table = ds[[x, y, "status"]].to_dataframe().reset_index()
    table = table[table["status"] == "ok"].drop(columns="status")
    mask = non_dominated(table[x].to_numpy(), table[y].to_numpy(), dirs)
    return table[mask].sort_values([x, y])


def direction(kpi: str) -> str:
    """'max' or 'min' for a known KPI; a TwinError asking for explicit directions otherwise."""
    if kpi not in DIRECTIONS:
        raise TwinError(f"no default direction for KPI {kpi!r}; pass directions=('min'|'max', 'min'|'max')")
    return DIRECTIONS[kpi]


MAX_LABELS = 12
"""Scenario labels drawn on a panel's front (the rest of the front is left unlabelled beyond that)."""


def plot(ds: xr.Dataset, path: str | os.PathLike, pairs: Sequence[tuple[str, str]] | None = None) -> Path:
    """Save `figure(ds, pairs)` at `path` (PNG, or any suffix matplotlib writes), atomically."""
    from twin.atomic import check_figure_path, save_figure

    check_figure_path(path)
    return save_figure(figure(ds, pairs), path, dpi=110)


def figure(ds: xr.Dataset, pairs: Sequence[tuple[str, str]] | None = None):
    """One panel per (x, y) KPI pair present in the results: every 'ok' scenario in grey, the front in colour,
    front points labelled with their scenario's parameters; axes in words with units, linear and unscaled
    but for thousands/millions/billions named in the label."""
    from matplotlib.figure import Figure

    from twin.views import charts

    pairs = [p for p in (pairs or PLOTS.get(ds.attrs.get("run", "optimize"), PLOTS["optimize"]))
             if p[0] in ds.data_vars and p[1] in ds.data_vars]
    if not pairs:
        raise TwinError("none of the requested KPI pairs is in the sweep results; name KPIs that are")
    fig = Figure(figsize=(5.6 * len(pairs), 4.8), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    ok = ds["status"] == "ok"
    names = scenario_labels(ds)
    for ax, (x, y) in zip(axes, pairs):
        xs, ys = ds[x].where(ok).values.ravel(), ds[y].where(ok).values.ravel()
        (fx, wx), (fy, wy) = charts.scale(xs), charts.scale(ys)
        ax.scatter(xs / fx, ys / fy, s=16, color="0.7", label="scenario", zorder=2)
        best = front(ds, x, y)
        ax.plot(best[x] / fx, best[y] / fy, "o-", color="tab:red", ms=5, label="Pareto front", zorder=3)
        for i in best.index[:MAX_LABELS]:
            ax.annotate(names[i], (best.loc[i, x] / fx, best.loc[i, y] / fy), fontsize=7,
                        xytext=(4, 4), textcoords="offset points", color="0.2")
        ax.set_xlabel(charts.label(x, wx))
        ax.set_ylabel(charts.label(y, wy))
        better = {("max", "max"): "up and right", ("min", "max"): "up and left", ("max", "min"): "down and right",
                  ("min", "min"): "down and left"}.get((DIRECTIONS.get(x), DIRECTIONS.get(y)))
        words = f"{charts.KPI_LABELS.get(y, (y,))[0]} against {charts.KPI_LABELS.get(x, (x,))[0]}"
        ax.set_title(words + (f" ({better} is better)" if better else ""), fontsize=9)
        for which in ("x", "y"):
            charts.plain_axis(ax, which)
        ax.margins(0.12)
        ax.grid(alpha=0.3)
    charts.legend_beside(axes[-1], fontsize=8)
    fig.suptitle(f"sweep of {ds.attrs.get('base', '')} ({int(ok.sum())} of {ok.size} scenarios ok)", fontsize=10)
    return fig


def scenario_labels(ds: xr.Dataset) -> list[str]:
    """Each scenario (in `front`'s order) named by its swept parameter values: 'grid_mw=100, climate=lulea'."""
    table = ds["status"].to_dataframe().reset_index()
    swept = [c for c in table.columns if c in ds.coords and ds[c].ndim and c != "scenario"]
    return [", ".join(f"{k}={_short(v)}" for k, v in row.items()) for row in table[swept].to_dict("records")]


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "+".join(map(str, value))
    return str(value)


def _oriented(values: np.ndarray, how: str) -> np.ndarray:
    if how not in ("min", "max"):
        raise TwinError(f"direction {how!r} is not 'min' or 'max'")
    return values if how == "max" else -values


__all__ = ["non_dominated", "front", "direction", "plot", "figure", "scenario_labels", "DIRECTIONS", "PLOTS"]
