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
LABELS = {"rack_power_kw": "rack power", "nameplate_kw": "rack nameplate power", "rack_tokens_per_s": "rack tokens/s",
          "rack_throttle": "rack throttle (delivered / demanded GPU power)", "liquid_fraction": "liquid share of rack heat",
          "gpus": "GPUs per rack", "cap_w": "GPU power cap", "power_cap_w": "GPU power cap", "outage": "after the failure"}
"""What a picture calls the variables people colour by most (a state's own `long_name` is used otherwise)."""
OUTCOMES = {"ok": "#9ccf8f", "capped": "#f7e04b", "idle off": "#b8a6d9", "shed": "#f28e2b", "uncooled": "#2b7bba",
            "unpowered": "#c0281d"}
"""Fixed colours of what a failure does to a rack (`ContingencyScan.rack_state`): green ok, warm for less power,
blue without cooling, red without power; none of them is a device colour."""
FIXED = {"outage": OUTCOMES}
"""Categorical variables whose categories always have the same colour, in this order, all listed in the legend."""
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
    category codes (as floats, NaN for missing) for a categorical one. `scale` says what the ends of the
    colour scale mean ("0 to 132 kW (largest nameplate)"); `uniform` is the one value every rack has
    in every frame, if so (then the picture says "all racks at 132 kW" instead of a meaningless scale);
    `counts` are racks per category (first frame).
    """

    name: str
    label: str
    values: np.ndarray
    frame_labels: list[str | None]
    categories: list[str] | None = None
    clim: tuple[float, float] = (0.0, 1.0)
    cmap: Any = NUMERIC_CMAP
    source: str = "table"
    units: str = ""
    scale: str = ""
    uniform: float | None = None
    counts: list[int] | None = None

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
            out = np.asarray(matplotlib.colormaps[self.cmap](np.clip((v - lo) / (hi - lo), 0.0, 1.0)))[..., :3]
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
        others = f"colour by {ALIASES[color_by]!r} for the nameplate instead, or by one of: {', '.join(options(racks, state)[:12])}"
        raise ViewError(f"the state has no per-rack {color_by!r}: simulate with twin.simulate(..., per_rack=True); "
                        f"{others}").on_cli(
            f"the state has no per-rack {color_by!r}: simulate with `twin simulate BLUEPRINT --per-rack --out year.nc`; "
            f"or {others.replace('colour by', '--color-by', 1)}")
    elif color_by in ALIASES and ALIASES[color_by] in racks.columns:
        column = ALIASES[color_by]
        values, labels, units = racks[column].to_numpy()[None, :], [None], _units(column)
        source, color_by = "table", column
    else:
        known = options(racks, state)
        where = "the state's per-rack variables or the rack table" if state is not None else "the rack table (no state given)"
        raise ViewError(f"cannot colour racks by {color_by!r}: not in {where}; {did_you_mean(color_by, known)}")
    long_name = state[color_by].attrs.get("long_name") if source == "state" else None
    label = LABELS.get(color_by) or long_name or color_by.replace("_", " ")
    label = f"{label} ({units})" if units and units != "1" else label
    drawn = occupied(racks)
    if _is_categorical(values):
        return _categorical(color_by, label, values, labels, source, drawn)
    numeric = pd.to_numeric(values.ravel(), errors="coerce").astype(float).reshape(values.shape)
    seen = numeric[:, drawn]
    finite = seen[np.isfinite(seen)]
    uniform = float(finite[0]) if finite.size and np.ptp(finite) <= 1e-9 * max(1.0, abs(finite[0])) else None
    lo, hi, scale = _scale(color_by, units, finite, racks[drawn])
    if clim is not None:
        lo, hi, scale = float(clim[0]), float(clim[1]), f"{_num(clim[0])} to {_num(clim[1])} {units}, as asked".strip()
    elif uniform is not None and not lo <= uniform <= hi:
        lo, hi = min(lo, uniform), max(hi, uniform)
    return Coloring(color_by, label, numeric, labels, clim=(lo, hi), cmap=cmap or NUMERIC_CMAP, source=source,
                    units="" if units == "1" else units, scale=scale, uniform=uniform)


def _from_state(state: xr.Dataset, name: str, rack_ids: pd.Index, time: Any, animate: bool, max_frames: int):
    da = state[name]
    if "rack" not in da.dims:
        raise ViewError(f"state variable {name!r} has dims {tuple(da.dims)}, not per rack; colour racks by a "
                        f"variable with a 'rack' dim: {', '.join(str(v) for v in state.data_vars if 'rack' in state[v].dims) or 'none'}")
    extra = [d for d in da.dims if d not in ("rack", "time")]
    if extra:
        raise ViewError(f"state variable {name!r} has extra dims {extra}; select one value of each first, "
                        f"e.g. state.isel({extra[0]}=0)").on_cli(
            f"state variable {name!r} has extra dims {extra}: --color-by takes a variable of dims (time, rack) or (rack)")
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
            key = pd.to_datetime(time)
            key = key.as_unit("ns")  # a year-1 date ('July 1') parses but is outside nanosecond range
            return key
        except (ValueError, TypeError, OverflowError) as exc:
            raise ViewError(f"time {time!r} is not a date/time within the state's span "
                            f"{_time_label(times.values[0])} .. {_time_label(times.values[-1])} ({exc}); "
                            "write it as 2025-07-01T15:00 or give a step number").on_cli(
                f"--time {time!r} is not a date/time within the state's span {_time_label(times.values[0])} .. "
                f"{_time_label(times.values[-1])}; write it as 2025-07-01T15:00 or give a step number") from None
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


def occupied(racks: pd.DataFrame) -> np.ndarray:
    """Which rack positions hold a rack (a system); empty positions are drawn as outlines and take no colour."""
    if "system" not in racks.columns:
        return np.ones(len(racks), dtype=bool)
    return racks["system"].notna().to_numpy() & (racks["system"].astype(str) != "")


def _categorical(name: str, label: str, values: np.ndarray, labels: list, source: str, drawn: np.ndarray) -> Coloring:
    flat = values.ravel()
    present = pd.notna(flat)
    found = {str(v) for v in flat[present]}
    fixed = FIXED.get(name, {})
    categories = [c for c in fixed] + sorted(found - set(fixed))
    lookup = {c: i for i, c in enumerate(categories)}
    codes = np.full(flat.shape, np.nan)
    codes[present] = [lookup[str(v)] for v in flat[present]]
    palette = [fixed.get(c, CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)]) for i, c in enumerate(categories)] or [NAN_COLOR]
    codes = codes.reshape(values.shape)
    first = codes[0][drawn]
    counts = [int((first == i).sum()) for i in range(len(categories))]
    return Coloring(name, label, codes, labels, categories=categories, clim=(-0.5, len(palette) - 0.5), cmap=palette,
                    source=source, counts=counts)


def _scale(name: str, units: str, finite: np.ndarray, racks: pd.DataFrame) -> tuple[float, float, str]:
    """The colour scale's ends and what they mean: a physical range where one exists, else the values' own.

    Rack powers (kW) run from 0 (off) to the largest rack nameplate (or the largest value, if above it);
    shares (units 1 or a `fraction`) from 0 to 1; anything else from its smallest to its largest value.
    """
    top = float(finite.max()) if finite.size else 1.0
    if units == "kW" and "nameplate_kw" in racks.columns and len(racks):
        plate = float(pd.to_numeric(racks["nameplate_kw"], errors="coerce").max())
        if np.isfinite(plate) and plate > 0:
            hi = max(plate, top)
            return 0.0, hi, f"0 to {_num(hi)} kW ({'largest nameplate' if hi == plate else 'largest value'})"
    if units == "1" or name.endswith("fraction") or name.endswith("throttle"):
        if not finite.size or (finite.min() >= 0 and finite.max() <= 1):
            return 0.0, 1.0, "0 to 1"
    if not finite.size:
        return 0.0, 1.0, "no values"
    lo = float(finite.min())
    if top - lo < 1e-9 * max(1.0, abs(top)):
        pad = max(abs(top) * 0.01, 0.5)
        return lo - pad, top + pad, ""
    return lo, top, f"{_num(lo)} to {_num(top)} {units} (range of values)".replace("  ", " ")


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def scale_text(coloring: Coloring) -> str:
    """What the picture says about its colour scale: the single value of a uniform facility, else the range."""
    if coloring.uniform is not None:
        return f"all racks at {_num(coloring.uniform)} {coloring.units}".strip()
    return coloring.scale


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
    """(label, colour) pairs for a categorical colouring, at most `limit`; fixed categories with their rack counts."""
    if not coloring.categorical:
        return []
    if coloring.name in FIXED and coloring.counts is not None:
        return [(f"{c}: {n:,} rack{'' if n == 1 else 's'}", col)
                for c, col, n in zip(coloring.categories, coloring.cmap, coloring.counts)][:limit]
    return list(zip(coloring.categories, coloring.cmap))[:limit]
