"""What the racks are coloured by: a rack-table column or a (time x rack) state variable, per frame.

Pure numpy/pandas/xarray (no pyvista), so the choice of values, time steps and colours is testable alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from twin.errors import did_you_mean
from twin.views.errors import ViewError

if TYPE_CHECKING:
    import xarray as xr

NUMERIC_CMAP = "plasma"
NAN_COLOR = "#c8c8c8"
ALIASES = {"rack_power_kw": "nameplate_kw"}
"""Without a state, `rack_power_kw` falls back to the rack's nameplate power from the catalog."""
CATEGORY_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)
_SKIP_COLUMNS = {"x_m", "y_m", "z_m"}
_UNIT_SUFFIXES = (("_kw", "kW"), ("_mw", "MW"), ("_w", "W"), ("_c", "°C"), ("_m", "m"), ("_m2", "m²"), ("_usd", "USD"))


@dataclass
class Coloring:
    """Per-rack values over one or more frames, with the colour scale that maps them.

    `values` is frames x racks: floats for a numeric variable (NaN where a rack has no value), integer
    category codes (as floats, NaN for missing) for a categorical one.
    """

    name: str
    label: str
    values: np.ndarray
    frame_labels: list[str | None]
    categories: list[str] | None = None
    clim: tuple[float, float] = (0.0, 1.0)
    cmap: Any = NUMERIC_CMAP
    source: str = "table"

    @property
    def categorical(self) -> bool:
        return self.categories is not None

    def rgb(self, values: np.ndarray | float) -> np.ndarray:
        """The colour (0-255 RGB) the colour map gives `values`: what a rack with that value should look like."""
        import matplotlib

        v = np.asarray(values, dtype=float)
        if self.categorical:
            colors = np.array([matplotlib.colors.to_rgb(c) for c in self.cmap])
            out = colors[np.clip(np.nan_to_num(v).astype(int), 0, len(colors) - 1)]
        else:
            lo, hi = self.clim
            out = matplotlib.colormaps[self.cmap](np.clip((v - lo) / (hi - lo), 0.0, 1.0))[..., :3]
        out = np.where(np.isnan(v)[..., None], matplotlib.colors.to_rgb(NAN_COLOR), out)
        return np.round(out * 255).astype(np.uint8)


def options(racks: pd.DataFrame, state: xr.Dataset | None) -> list[str]:
    """Every name `color_by` accepts for these racks and this state."""
    names = [c for c in racks.columns if c not in _SKIP_COLUMNS]
    if state is not None:
        names = [str(v) for v in state.data_vars if "rack" in state[v].dims] + names
    if state is None and "rack_power_kw" not in names and ALIASES["rack_power_kw"] in names:
        names.append("rack_power_kw")
    return list(dict.fromkeys(names))


def resolve(
    racks: pd.DataFrame,
    color_by: str,
    state: xr.Dataset | None = None,
    time: Any = None,
    *,
    animate: bool = False,
    max_frames: int = 96,
    cmap: str | None = None,
    clim: tuple[float, float] | None = None,
) -> Coloring:
    """Look up `color_by` (state variable first, then rack column), pick time steps, fix the colour scale."""
    if not len(racks):  # nothing to colour: halls and devices are still drawn
        return Coloring(color_by, color_by, np.zeros((1, 0)), [None])
    if state is not None and color_by in state.data_vars:
        values, labels, units = _from_state(state, color_by, racks.index, time, animate, max_frames)
        source = "state"
    elif color_by in racks.columns and color_by not in _SKIP_COLUMNS:
        values, labels, units = racks[color_by].to_numpy()[None, :], [None], _units(color_by)
        source = "table"
    elif state is not None and color_by in ALIASES:
        raise ViewError(f"the state has no per-rack {color_by!r} (simulate with per_rack=True?); colour by "
                        f"{ALIASES[color_by]!r} for the nameplate instead, or by one of: {', '.join(options(racks, state)[:12])}")
    elif color_by in ALIASES and ALIASES[color_by] in racks.columns:
        column = ALIASES[color_by]
        values, labels, units = racks[column].to_numpy()[None, :], [None], _units(column)
        source, color_by = "table", column
    else:
        known = options(racks, state)
        where = "the state's per-rack variables or the rack table" if state is not None else "the rack table (no state given)"
        raise ViewError(f"cannot colour racks by {color_by!r}: not in {where}; {did_you_mean(color_by, known)}")
    label = f"{color_by} [{units}]" if units else color_by
    if _is_categorical(values):
        return _categorical(color_by, label, values, labels, source)
    numeric = pd.to_numeric(values.ravel(), errors="coerce").astype(float).reshape(values.shape)
    return Coloring(color_by, label, numeric, labels, clim=clim or _clim(numeric), cmap=cmap or NUMERIC_CMAP, source=source)


def _from_state(state: xr.Dataset, name: str, rack_ids: pd.Index, time: Any, animate: bool, max_frames: int):
    da = state[name]
    if "rack" not in da.dims:
        raise ViewError(f"state variable {name!r} has dims {tuple(da.dims)}, not per rack; colour racks by a "
                        f"variable with a 'rack' dim: {', '.join(str(v) for v in state.data_vars if 'rack' in state[v].dims) or 'none'}")
    extra = [d for d in da.dims if d not in ("rack", "time")]
    if extra:
        raise ViewError(f"state variable {name!r} has extra dims {extra}; select one value of each first, "
                        f"e.g. state.isel({extra[0]}=0)")
    missing = ~rack_ids.isin(da["rack"].to_index()) if "rack" in da.coords else None
    if "rack" not in da.coords:
        raise ViewError(f"state variable {name!r} has no 'rack' coordinate of rack ids to match the facility's racks")
    if missing is not None and missing.all():
        raise ViewError(f"none of the facility's racks (e.g. {rack_ids[0]!r}) is in the state's rack coordinate "
                        f"(e.g. {str(da['rack'].values[0])!r}): was the state simulated for another facility?")
    if "time" in da.dims:
        da = _select_time(da, time, animate, max_frames)
        labels = [_time_label(t) for t in da["time"].values]
    else:
        da, labels = da.expand_dims("time"), [None]
    da = da.reindex(rack=rack_ids).transpose("time", "rack")
    return da.values, labels, str(da.attrs.get("units", "")) or _units(name)


def _select_time(da: xr.DataArray, time: Any, animate: bool, max_frames: int) -> xr.DataArray:
    times = da["time"]
    if animate:
        if time is None:
            sub = da
        elif isinstance(time, slice):
            sub = da.sel(time=time)
        else:
            sub = da.sel(time=_time_key(times, list(time)), method="nearest")
        if sub.sizes["time"] == 0:
            raise ViewError(f"no time step of the state lies in {time!r}; the state spans "
                            f"{_time_label(times.values[0])} .. {_time_label(times.values[-1])}")
        n = sub.sizes["time"]
        if n > max_frames:
            sub = sub.isel(time=np.unique(np.linspace(0, n - 1, max_frames).round().astype(int)))
        return sub
    if time is None:
        return da.isel(time=[0])
    if isinstance(time, (int, np.integer)) and not np.issubdtype(times.dtype, np.number):
        if not -da.sizes["time"] <= time < da.sizes["time"]:
            raise ViewError(f"time step {time} is out of range: the state has {da.sizes['time']} steps")
        return da.isel(time=[int(time)])
    key = _time_key(times, time)
    picked = da.sel(time=[key], method="nearest")
    if len(times) > 1 and (np.issubdtype(times.dtype, np.datetime64) or np.issubdtype(times.dtype, np.number)):
        step = np.max(np.diff(times.values))  # nearest, but not from beyond the ends
        if abs(picked["time"].values[0] - np.asarray(key, dtype=times.dtype)) > step:
            raise ViewError(f"time {time!r} is outside the state's span {_time_label(times.values[0])} .. "
                            f"{_time_label(times.values[-1])}")
    return picked


def _time_key(times: xr.DataArray, time: Any) -> Any:
    if np.issubdtype(times.dtype, np.datetime64):
        try:
            return pd.to_datetime(time)
        except (ValueError, TypeError) as exc:
            raise ViewError(f"time {time!r} is not a date/time the state's time axis understands: {exc}") from None
    return time


def _time_label(t: Any) -> str:
    if isinstance(t, np.datetime64):
        return pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")
    return str(t)


def _is_categorical(values: np.ndarray) -> bool:
    if values.dtype.kind in "USb":
        return True
    if values.dtype.kind != "O":
        return False
    present = [v for v in values.ravel() if v is not None and v == v]
    return any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)) for v in present)


def _categorical(name: str, label: str, values: np.ndarray, labels: list, source: str) -> Coloring:
    flat = values.ravel()
    present = pd.notna(flat)
    categories = sorted({str(v) for v in flat[present]})
    lookup = {c: i for i, c in enumerate(categories)}
    codes = np.full(flat.shape, np.nan)
    codes[present] = [lookup[str(v)] for v in flat[present]]
    palette = [CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i in range(max(1, len(categories)))]
    return Coloring(name, label, codes.reshape(values.shape), labels, categories=categories,
                    clim=(-0.5, len(palette) - 0.5), cmap=palette, source=source)


def _clim(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (0.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-9 * max(1.0, abs(hi)):
        pad = max(abs(hi) * 0.01, 0.5)
        return (lo - pad, hi + pad)
    return (lo, hi)


def _units(name: str) -> str:
    if name.endswith("fraction"):
        return ""
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def frame_title(facility_name: str, coloring: Coloring, frame: int, title: str | None = None) -> str:
    """The caption of one frame: facility, what colours the racks, and the time step shown."""
    if title is not None:
        return title
    parts = [facility_name, coloring.label]
    when = coloring.frame_labels[frame]
    if when is not None:
        parts.append(when)
    return "  ·  ".join(parts)


def legend_entries(coloring: Coloring, limit: int = 20) -> Sequence[tuple[str, str]]:
    """(label, colour) pairs for a categorical colouring, at most `limit` of them."""
    if not coloring.categorical:
        return []
    return list(zip(coloring.categories, coloring.cmap))[:limit]
