"""How well the twin matches a measurement: ASHRAE Guideline 14 CV(RMSE) and NMBE against its acceptance levels.

Guideline 14-2014 calls a simulation calibrated when, for hourly data, CV(RMSE) <= 30 % and |NMBE| <= 10 %,
and for monthly data CV(RMSE) <= 15 % and |NMBE| <= 5 %, with (y measured, ŷ predicted, n points, p
fitted parameters, ȳ the measured mean)

    CV(RMSE) = 100 x sqrt(sum (y - ŷ)^2 / (n - p)) / ȳ      NMBE = 100 x sum (y - ŷ) / ((n - p) x ȳ)

so a positive NMBE means the twin predicts too little. Steps shorter than an hour are averaged to hours
first (the guideline's levels are for hourly and monthly data); steps up to a day are judged by the hourly
levels. Only measured values count (quality 0): interpolated or partial ones are left out.

>>> import numpy as np
>>> y = np.array([100.0, 110.0, 90.0, 100.0]); yhat = np.array([98.0, 112.0, 88.0, 98.0])
>>> round(nmbe(y, yhat), 3), round(cv_rmse(y, yhat), 3)
(1.0, 2.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xarray as xr

SOURCE = "ASHRAE Guideline 14-2014, Measurement of Energy, Demand, and Water Savings, section 4.3 (calibrated simulation)"


class Criteria(NamedTuple):
    """Acceptance levels of one data resolution, percent."""

    resolution: str
    cv_rmse_pct: float
    nmbe_pct: float


HOURLY = Criteria("hourly", 30.0, 10.0)
MONTHLY = Criteria("monthly", 15.0, 5.0)


def _valid(y, yhat) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    yhat = np.asarray(yhat, dtype=float).ravel()
    ok = np.isfinite(y) & np.isfinite(yhat)
    return y[ok], yhat[ok]


def nmbe(y, yhat, p: int = 0) -> float:
    """Normalized mean bias error, percent (positive: the prediction is low)."""
    y, yhat = _valid(y, yhat)
    if y.size <= p or y.mean() == 0:
        return float("nan")
    return float(100.0 * (y - yhat).sum() / ((y.size - p) * y.mean()))


def cv_rmse(y, yhat, p: int = 0) -> float:
    """Coefficient of variation of the root-mean-square error, percent."""
    y, yhat = _valid(y, yhat)
    if y.size <= p or y.mean() == 0:
        return float("nan")
    return float(100.0 * np.sqrt(((y - yhat) ** 2).sum() / (y.size - p)) / y.mean())


def cv_rmse_columns(y: np.ndarray, yhat: np.ndarray, p: int = 0) -> np.ndarray:
    """`cv_rmse` of each column of (time x series) arrays at once."""
    ok = np.isfinite(y) & np.isfinite(yhat)
    n = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, y, 0.0).sum(axis=0) / n
        ss = (np.where(ok, y - yhat, 0.0) ** 2).sum(axis=0)
        out = 100.0 * np.sqrt(ss / (n - p)) / mean
    return np.where((n > p) & (mean != 0), out, np.nan)


def judge(cv: float, bias: float, criteria: Criteria) -> bool:
    return bool(cv <= criteria.cv_rmse_pct and abs(bias) <= criteria.nmbe_pct)


def _hourly(frame: pd.DataFrame) -> pd.DataFrame:
    """Average (time x series) frames finer than an hour to hours (a mean needs every step of its hour)."""
    if len(frame.index) < 2:
        return frame
    step = pd.Series(frame.index).diff().median()
    if step >= pd.Timedelta("1h"):
        return frame
    per_hour = int(round(pd.Timedelta("1h") / step))
    grouped = frame.groupby(frame.index.floor("1h"))
    complete = grouped.count() == per_hour
    return grouped.mean().where(complete)


def series_metrics(name: str, y: pd.DataFrame, yhat: pd.DataFrame, p: int = 0) -> list[dict]:
    """Rows of metrics for one measured variable: (time x series) frames, measured and predicted."""
    rows = []
    hy, hp = _hourly(y), _hourly(yhat)
    cv, bias = cv_rmse(hy.values, hp.values, p), nmbe(hy.values, hp.values, p)
    n = int((np.isfinite(hy.values) & np.isfinite(hp.values)).sum())
    rows.append({"variable": name, "series": _what(y), "resolution": HOURLY.resolution, "points": n,
                 "measured_mean": float(np.nanmean(hy.values)) if n else float("nan"),
                 "cv_rmse_pct": cv, "nmbe_pct": bias, "cv_limit_pct": HOURLY.cv_rmse_pct,
                 "nmbe_limit_pct": HOURLY.nmbe_pct, "passes": judge(cv, bias, HOURLY)})
    if y.shape[1] > 1:
        per = cv_rmse_columns(hy.to_numpy(dtype=float), hp.to_numpy(dtype=float), p)
        if np.isfinite(per).any():
            worst = int(np.nanargmax(per))
            rows[-1]["worst_series"] = f"{hy.columns[worst]} ({per[worst]:.1f} %)"
    span = y.index.max() - y.index.min() if len(y.index) else pd.Timedelta(0)
    if span >= pd.Timedelta(days=89):
        my = (y.resample("MS").mean() * y.resample("MS").count().where(lambda c: c > 0))
        mp = (yhat.where(y.notna()).resample("MS").mean() * y.resample("MS").count().where(lambda c: c > 0))
        cv, bias = cv_rmse(my.values, mp.values, p), nmbe(my.values, mp.values, p)
        rows.append({"variable": name, "series": _what(y), "resolution": MONTHLY.resolution,
                     "points": int(np.isfinite(my.values).sum()), "measured_mean": float(np.nanmean(my.values)),
                     "cv_rmse_pct": cv, "nmbe_pct": bias, "cv_limit_pct": MONTHLY.cv_rmse_pct,
                     "nmbe_limit_pct": MONTHLY.nmbe_pct, "passes": judge(cv, bias, MONTHLY)})
    return rows


def _what(frame: pd.DataFrame) -> str:
    return "facility" if frame.shape[1] == 1 and frame.columns[0] == "" else f"{frame.shape[1]} series pooled"


def frames(ds: xr.Dataset, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(measured, predicted) of `name` in a replay Dataset as (time x series) frames, unmeasured values NaN."""
    meas = ds[f"{name}_measured"]
    pred = ds[name]
    quality = ds.get(f"{name}_measured_quality")
    y = meas.values.astype(float)
    if quality is not None:
        y = np.where(quality.values == 0, y, np.nan)
    yhat = pred.transpose(*meas.dims).values.astype(float)
    time = pd.DatetimeIndex(ds["time"].values)
    if y.ndim == 1:
        return pd.DataFrame({"": y}, index=time), pd.DataFrame({"": yhat}, index=time)
    cols = [str(c) for c in ds[meas.dims[1]].values]
    keep = np.isfinite(y).any(axis=0)
    return (pd.DataFrame(y[:, keep], index=time, columns=np.array(cols)[keep]),
            pd.DataFrame(yhat[:, keep], index=time, columns=np.array(cols)[keep]))


def compare(ds: xr.Dataset, p: int = 0) -> pd.DataFrame:
    """Guideline 14 metrics of every variable a replay Dataset has both predicted and measured (not the drivers)."""
    rows = []
    driven = set(str(ds.attrs.get("driven_by", "")).split(","))
    for var in ds.data_vars:
        name = str(var)
        if not name.endswith("_measured") or name[: -len("_measured")] not in ds or name[: -len("_measured")] in driven:
            continue
        base = name[: -len("_measured")]
        y, yhat = frames(ds, base)
        if y.shape[1]:
            rows.extend(series_metrics(base, y, yhat, p))
    columns = ["variable", "series", "resolution", "points", "measured_mean", "cv_rmse_pct", "nmbe_pct",
               "cv_limit_pct", "nmbe_limit_pct", "passes", "worst_series"]
    return pd.DataFrame(rows, columns=columns)


__all__ = ["Criteria", "HOURLY", "MONTHLY", "SOURCE", "nmbe", "cv_rmse", "cv_rmse_columns", "judge", "series_metrics", "frames", "compare"]
