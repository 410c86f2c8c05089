"""Flexibility of a facility for the grid: how many MW it can cut, for how long, at which notice, how often, and
at what cost in tokens and money; and the curtailment a constrained feeder would ask of N more MW (hosting
capacity against hours of curtailment per year).

The facility is dispatched once without events (`solvers.dispatch.baseline`), then once per (notice, duration,
depth) under one curtailment event of that shape placed at the baseline's highest import (where a cut is worth
most to the grid and costs the site most), warm-started from the baseline. A depth is offered when the dispatch
meets it with every limit and deadline kept; `repeat_every_h` is the event plus the hours until deferred work has
caught up with the baseline (events closer together than that find the backlog still full).

>>> import blueprints
>>> rep = flexibility(blueprints.load("ai-factory-hall"), hours=24, notices=(1,), durations=(2,), depths=(25,),
...                   training={"share": 0.5, "slowdown": 0.25})
>>> bool(rep.table["met"].all()), list(rep.offer.columns)[:3]
(True, ['deepest_pct', 'cut_mw', 'cost_usd_per_mwh'])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from solvers.dispatch_inputs import DispatchInputError, read_csv

if TYPE_CHECKING:
    import pandas as pd

    from twin.facility import Facility

NOTICES_H = (0.0, 2.0)
DURATIONS_H = (1.0, 3.0, 6.0)
DEPTHS_PCT = (10.0, 25.0, 50.0)
TAIL_H = 12.0
"""Hours left after the longest event for deferred work to catch up inside the horizon."""


@dataclass
class Flexibility:
    """`table`: one row per (notice_h, duration_h, depth_pct) tried; `offer`: per (notice_h, duration_h) the deepest
    cut met; `event_start` and `baseline_mw` (import at it) are where every event was placed."""

    table: pd.DataFrame
    offer: pd.DataFrame
    event_start: np.datetime64
    baseline_mw: float


def flexibility(facility: Facility, *, hours: int = 48, notices: Sequence[float] = NOTICES_H,
                durations: Sequence[float] = DURATIONS_H, depths: Sequence[float] = DEPTHS_PCT,
                payment_usd_per_mwh: float = 0.0, progress: Callable[[int, int], None] | None = None,
                **dispatch_kw: Any) -> Flexibility:
    """Try every (notice, duration, depth) curtailment on `facility` (other arguments as `solvers.dispatch`)."""
    import pandas as pd

    from solvers.dispatch import baseline

    for name, values in (("notices", notices), ("durations", durations), ("depths", depths)):
        if not len(values) or any(not np.isfinite(v) or v < 0 for v in values):
            raise DispatchInputError(f"flexibility: {name} must be a non-empty list of numbers >= 0 (got {list(values)})")
    if any(d <= 0 for d in durations) or any(not 0 < d <= 100 for d in depths):
        raise DispatchInputError("flexibility: durations must be > 0 h and depths in (0, 100] %")
    first = max(notices)
    last = hours - max(durations) - TAIL_H
    if last <= first:
        raise DispatchInputError(f"flexibility: {hours} h leave no room for {max(notices):g} h notice, a "
                                 f"{max(durations):g} h event and {TAIL_H:g} h to catch up; raise hours to at least "
                                 f"{int(np.ceil(first + max(durations) + TAIL_H + 1))}")
    base = baseline(facility, hours, **dispatch_kw)
    plain = base.result()
    ds = plain.dataset
    ends = np.cumsum(ds["step_hours"].values)
    starts = ends - ds["step_hours"].values
    ok = (starts >= first) & (starts <= last)
    at = int(np.flatnonzero(ok)[np.argmax(ds["grid_import_kw"].values[ok])])
    t0 = ds["time"].values[at]
    combos = [(n, d, p) for n in notices for d in durations for p in depths]
    rows = []
    for i, (notice, duration, depth) in enumerate(combos):
        ev = {"id": f"flex-{i}", "start": str(t0), "duration_h": float(duration), "reduce_pct": float(depth),
              "notice_h": float(notice), "payment_usd_per_mwh": payment_usd_per_mwh}
        run = base.under([ev])
        k = run.kpis
        during = run.dataset["event"].values
        asked = float((ds["grid_import_kw"].values[during] * depth / 100.0).mean()) / 1000.0
        lost = {c[len("tokens_lost_"):]: v for c, v in k.items() if c.startswith("tokens_lost_")}
        rows.append({"notice_h": notice, "duration_h": duration, "depth_pct": depth, "met": run.met,
                     "cut_mw": asked, "curtailed_mwh": k["curtailed_mwh"], "short_mwh": k["over_limit_mwh"],
                     "cost_usd": k["curtailment_cost_usd"], "shadow_cost_usd": k["curtailment_shadow_cost_usd"],
                     "revenue_lost_usd": k["revenue_lost_usd"], "payment_usd": k["event_payment_usd"],
                     "tokens_lost": float(sum(lost.values())),
                     "training_behind_rack_h": k.get("deferred_peak_rack_hours", 0.0),
                     "recovery_h": k["recovery_h"], "repeat_every_h": duration + k["recovery_h"],
                     "not_met": run.explanation})
        if progress is not None:
            progress(i + 1, len(combos))
    table = pd.DataFrame(rows).set_index(["notice_h", "duration_h", "depth_pct"])
    return Flexibility(table, _offer(table), t0, float(ds["grid_import_kw"].values[at]) / 1000.0)


def _offer(table: pd.DataFrame) -> pd.DataFrame:
    """Per (notice, duration): the deepest depth met, its MW and cost per MWh cut (nothing met: depth 0)."""
    import pandas as pd

    out = []
    for (notice, duration), part in table.groupby(level=["notice_h", "duration_h"], sort=True):
        met = part[part["met"]]
        if met.empty:
            out.append({"notice_h": notice, "duration_h": duration, "deepest_pct": 0.0, "cut_mw": 0.0,
                        "cost_usd_per_mwh": np.nan, "repeat_every_h": np.nan})
            continue
        row = met.iloc[int(np.argmax(met.index.get_level_values("depth_pct")))]
        depth = float(met.index.get_level_values("depth_pct").max())
        mwh = row["curtailed_mwh"]
        out.append({"notice_h": notice, "duration_h": duration, "deepest_pct": depth, "cut_mw": row["cut_mw"],
                    "cost_usd_per_mwh": row["shadow_cost_usd"] / mwh if mwh > 0 else np.nan,
                    "repeat_every_h": row["repeat_every_h"]})
    return pd.DataFrame(out).set_index(["notice_h", "duration_h"])


def hosting(headroom_mw: Any, extra_mw: Sequence[float], step_h: float = 1.0,
            offer: pd.DataFrame | None = None) -> pd.DataFrame:
    """Curtailment a feeder asks of `extra_mw` more load given its headroom per step (MW the feeder can still
    carry; a CSV `time, headroom_mw` or an array): hours and MWh curtailed per year, share of the hours, the
    longest run of consecutive curtailed steps and the deepest cut in MW. With the facility's `offer`, whether
    some notice-0 offer covers the deepest cut for the longest run (the site could connect those MW)."""
    import pandas as pd

    h = _headroom(headroom_mw)
    extra = np.asarray(extra_mw, dtype=float)
    if extra.ndim != 1 or not extra.size or np.any(~np.isfinite(extra)) or np.any(extra < 0):
        raise DispatchInputError(f"hosting: extra_mw must be a list of MW >= 0 (got {list(np.ravel(extra_mw))})")
    cut = np.maximum(extra[:, None] - np.maximum(h, 0.0)[None, :], 0.0)            # (N, steps) MW to curtail
    on = cut > 1e-9
    per_year = 8760.0 / (h.size * step_h)
    out = pd.DataFrame({"extra_mw": extra,
                        "curtailed_h_per_year": on.sum(axis=1) * step_h * per_year,
                        "share_of_hours": on.mean(axis=1),
                        "curtailed_mwh_per_year": cut.sum(axis=1) * step_h * per_year,
                        "share_of_energy": cut.sum(axis=1) / np.maximum(extra * h.size, 1e-300),
                        "longest_h": _longest_runs(on) * step_h,
                        "deepest_mw": cut.max(axis=1)}).set_index("extra_mw")
    if offer is not None:
        first = offer.xs(min(offer.index.get_level_values("notice_h")), level="notice_h")
        out["site_covers"] = [bool(((first.index >= lh - 1e-9) & (first["cut_mw"].to_numpy() >= mw - 1e-9)).any()) or mw == 0
                              for lh, mw in zip(out["longest_h"], out["deepest_mw"])]
    return out


def _longest_runs(on: np.ndarray) -> np.ndarray:
    """(rows,) the longest run of True along each row, vectorized (cumulative count reset at each False)."""
    n = on.shape[1]
    idx = np.where(on, 0, np.arange(1, n + 1)[None, :])
    last_false = np.maximum.accumulate(idx, axis=1)
    run = np.arange(1, n + 1)[None, :] - last_false
    return np.where(on, run, 0).max(axis=1, initial=0)


def _headroom(source: Any) -> np.ndarray:
    if isinstance(source, (str, Path)):
        import pandas as pd

        path = Path(source)
        df = read_csv(path, "headroom")
        if "headroom_mw" not in df.columns:
            raise DispatchInputError(f"{path}: needs a column headroom_mw (MW the feeder can still carry per step); "
                                     f"has {list(df.columns)}")
        source = pd.to_numeric(df["headroom_mw"], errors="coerce").to_numpy(float)
    h = np.asarray(source, dtype=float)
    if h.ndim != 1 or not h.size or not np.all(np.isfinite(h)):
        raise DispatchInputError("hosting: headroom must be a series of finite MW values (one per step)")
    return h


__all__ = ["flexibility", "hosting", "Flexibility", "NOTICES_H", "DURATIONS_H", "DEPTHS_PCT"]
