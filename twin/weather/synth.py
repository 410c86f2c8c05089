"""Deterministic hourly typical year from monthly normals, with noise scaled to the ASHRAE design statistics.

Method (numpy only, offline, deterministic for a given site and seed):
1. Daily climatology: each monthly normal (mean daily max, mean daily min, dew point) is spread over the
   year by periodic piecewise-linear interpolation between mid-month knots whose values are solved so that
   every calendar month's mean equals the normal exactly (a 12x12 cyclic system). No steps at month ends.
2. Diurnal cycle: from the daily minimum at 06:00 up to the maximum at 15:00 and down to the next day's
   minimum along half-cosines raised to a power p, so hourly samples hit the daily max and min exactly and
   the day's mean sits where the monthly mean normal puts it between min and max (p = 1 gives the
   midpoint; p > 1, e.g. Singapore, keeps the air near its minimum longer).
3. Weather noise: a unit-variance AR(1) daily anomaly (lag-1 correlation PHI = 0.7, an assumed value
   typical of daily temperature anomalies, not fitted), solved on a ring so Dec 31 joins Jan 1, seeded from
   (seed, site id). It shifts the day's max and min together. Its amplitude blends along a cosine from
   sigma_cold (coldest season) to sigma_hot (hottest month). Each month's mean anomaly is removed (with the
   interpolation of step 1), so noise never moves a monthly mean.
4. Amplitude calibration, the explicit scaling that makes hot hours exist: sigma_hot is solved so the
   99.6th percentile of hourly dry-bulb equals the ASHRAE 0.4 % cooling design dry-bulb and sigma_cold so the
   0.4th percentile equals the 99.6 % heating design dry-bulb (without one, a single sigma; without any
   design value, 2.5 °C). The annual maximum then lands 1-4 °C above the design value, as ASHRAE's
   extreme-annual means do. Because a large day-to-day swing can put a calendar day's extreme at midnight,
   the monthly targets are then corrected (fixed point) until the means of calendar-day max and min and of
   all hours match tmax, tmin and tmean.
5. Dew point: daily values at noon, linear in between, capped at the dry-bulb; its anomaly is
   sigma_dp * (rho * x + sqrt(1 - rho^2) * y) with x the dry-bulb anomaly and y an independent AR(1). Monthly
   targets are iterated until each month's mean vapour pressure matches the normal's (the catalog's dew
   points are Td at the mean vapour pressure). sigma_dp is solved so the 99.6th percentile of hourly
   wet-bulb equals the ASHRAE 0.4 % evaporation wet-bulb (else 2.0 °C), and rho so the mean wet-bulb of the
   hottest 0.4 % of hours equals the ASHRAE mean coincident wet-bulb (dry heat waves have rho < 0). Where
   rho = -0.9 is not enough (arid and monsoon sites), the dew point also dips in the afternoon by k °C per
   °C of dry-bulb above its 24-hour running mean (daytime mixing), with k in [0, 1] solved the same way.
"""

from __future__ import annotations

import math
import zlib
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from twin.weather import psychro
from twin.weather.base import DAYS_IN_MONTH, MONTH_START_DAY, YEAR_HOURS, Record, complete_humidity
from twin.weather.catalog import cooling_design_db, design_value

PHI = 0.7
DEFAULT_SIGMA_DB_C = 2.5
DEFAULT_SIGMA_DP_C = 2.0
SIGMA_DB_RANGE_C = (0.3, 12.0)
SIGMA_DP_RANGE_C = (0.3, 8.0)
RHO_RANGE = (-0.9, 0.9)
DEW_DIP_RANGE = (0.0, 1.0)
SHAPE_POWER_RANGE = (0.3, 4.0)
MIN_HOUR = 6
MAX_HOUR = 15
DEW_HOUR = 12
DAYS = 365
_DESIGN_QUANTILE = {"cooling_db_0_4_c": 0.996, "cooling_db_1_c": 0.99, "cooling_db_2_c": 0.98}


@lru_cache(maxsize=1)
def _operators() -> dict[str, Any]:
    """Static linear operators of the 365-day year: mean-preserving interpolation, month means, hour maps."""
    centre = np.arange(DAYS) + 0.5
    mid = MONTH_START_DAY + DAYS_IN_MONTH / 2.0
    knots = np.concatenate([[mid[-1] - DAYS], mid, [mid[0] + DAYS]])
    seg = np.searchsorted(knots, centre, side="right") - 1
    w = (centre - knots[seg]) / (knots[seg + 1] - knots[seg])
    basis = np.zeros((DAYS, 12))
    np.add.at(basis, (np.arange(DAYS), (seg - 1) % 12), 1.0 - w)
    np.add.at(basis, (np.arange(DAYS), seg % 12), w)
    month_of_day = np.repeat(np.arange(12), DAYS_IN_MONTH)
    mean = np.zeros((12, DAYS))
    mean[month_of_day, np.arange(DAYS)] = 1.0 / DAYS_IN_MONTH[month_of_day]
    hours = np.arange(YEAR_HOURS, dtype=float)
    p_grid = np.linspace(*SHAPE_POWER_RANGE, 200)
    return {
        "spread": basis @ np.linalg.inv(mean @ basis),  # monthly means -> daily curve with exactly those means
        "mean": mean,
        "month_of_hour": np.repeat(month_of_day, 24),
        "hours_per_month": DAYS_IN_MONTH * 24.0,
        "diurnal": _segments(hours, [MIN_HOUR, MAX_HOUR], cosine=True),
        "dew": _segments(hours, [DEW_HOUR], cosine=False),
        # mean over a segment of ((1 - cos(pi s)) / 2) ** p, s uniform on [0, 1]: Gamma(p + 1/2) / (sqrt(pi) Gamma(p + 1))
        "p_grid": p_grid,
        "r_grid": np.exp([math.lgamma(p + 0.5) - math.lgamma(p + 1.0) - 0.5 * math.log(math.pi) for p in p_grid]),
    }


def _segments(hours: np.ndarray, knot_hours: list[int], cosine: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each hour: the two periodic knots around it and the blend weight (half-cosine or linear)."""
    kt = (np.arange(DAYS)[:, None] * 24 + np.asarray(knot_hours)[None, :]).ravel().astype(float)
    n = kt.size
    ext = np.concatenate([[kt[-1] - YEAR_HOURS], kt, [kt[0] + YEAR_HOURS]])
    seg = np.searchsorted(ext, hours, side="right") - 1
    s = (hours - ext[seg]) / (ext[seg + 1] - ext[seg])
    weight = 0.5 * (1.0 - np.cos(np.pi * s)) if cosine else s
    return (seg - 1) % n, seg % n, weight


def _blend(op: tuple[np.ndarray, np.ndarray, np.ndarray], knot_values: np.ndarray) -> np.ndarray:
    i0, i1, w = op
    return knot_values[i0] * (1.0 - w) + knot_values[i1] * w


def _diurnal_op(mean_position: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Diurnal blend whose daily mean sits at `mean_position` (0 = min, 1 = max, per day) of the range."""
    op = _operators()
    i0, i1, w = op["diurnal"]
    r = np.clip(mean_position, op["r_grid"][-1], op["r_grid"][0])
    p_day = np.interp(r, op["r_grid"][::-1], op["p_grid"][::-1])
    p = np.repeat(p_day, 24)
    rising = i0 % 2 == 0  # knots alternate [min_d, max_d]: a segment starting at a min rises
    weight = np.where(rising, w**p, 1.0 - (1.0 - w) ** p)
    return i0, i1, weight


def _diurnal(op: tuple[np.ndarray, np.ndarray, np.ndarray], tmax: np.ndarray, tmin: np.ndarray) -> np.ndarray:
    return _blend(op, np.column_stack([tmin, tmax]).ravel())


def _remove_monthly_means(daily: np.ndarray) -> np.ndarray:
    op = _operators()
    return daily - op["spread"] @ (op["mean"] @ daily)


def periodic_ar1(eps: np.ndarray, phi: float) -> np.ndarray:
    """x_t = phi x_(t-1) + sqrt(1 - phi^2) eps_t with x_(-1) = x_(n-1): stationary unit-variance AR(1) on a ring."""
    n = eps.size
    w = np.sqrt(1.0 - phi * phi) * eps
    lags = np.arange(n)
    x = np.empty(n)
    x[0] = np.sum(phi**lags * w[(-lags) % n]) / (1.0 - phi**n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + w[t]
    return x


def _solve_increasing(f: Callable[[float], float], target: float, lo: float, hi: float, tol: float = 2e-3) -> float:
    """Bisection for f(x) = target with f increasing; clamps to the bracket when the target is outside it."""
    if f(lo) >= target:
        return lo
    if f(hi) <= target:
        return hi
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _monthly_hour_mean(values: np.ndarray) -> np.ndarray:
    op = _operators()
    return np.bincount(op["month_of_hour"], weights=values, minlength=12) / op["hours_per_month"]


def _quantile(values: np.ndarray, p: float) -> float:
    """np.quantile's default (linear) estimate, via a partial sort: the calibration calls this hundreds of times."""
    pos = p * (values.size - 1)
    k = int(pos)
    f = pos - k
    if k + 1 >= values.size:
        return float(np.max(values))
    part = np.partition(values, (k, k + 1))
    return float(part[k] * (1.0 - f) + part[k + 1] * f)


def _dew_hourly(
    dew_normals: np.ndarray, anomaly: np.ndarray, dry_bulb: np.ndarray, rounds: int = 8, offset: float | np.ndarray = 0.0
) -> tuple[np.ndarray, float]:
    """Hourly dew point whose monthly mean vapour pressure matches the normals; also the worst log-ratio left."""
    op = _operators()
    knots = dew_normals.astype(float).copy()
    for _ in range(rounds):
        dew = np.minimum(_blend(op["dew"], op["spread"] @ knots + anomaly) + offset, dry_bulb)
        mean_e = _monthly_hour_mean(psychro.saturation_vapour_pressure_hpa(dew))
        err = dew_normals - psychro.dew_point_from_vapour_pressure_c(mean_e)
        if np.max(np.abs(err)) < 0.01:
            break
        knots += err
    target_e = psychro.saturation_vapour_pressure_hpa(dew_normals)
    return dew, float(np.max(np.abs(np.log(mean_e / target_e))))


def typical_year(entry: dict[str, Any], seed: int) -> Record:
    """The synthesized 8760-hour typical year (Jan 1 00:00 .. Dec 31 23:00) of a catalog entry."""
    values, attrs = _typical_year_cached(entry["id"], int(seed))
    op = _operators()
    hours = np.arange(YEAR_HOURS)
    month0 = op["month_of_hour"]
    day = hours // 24 - MONTH_START_DAY[month0] + 1
    return Record({k: v.copy() for k, v in values.items()}, month0 + 1, day, hours % 24, dict(attrs))


@lru_cache(maxsize=64)
def _typical_year_cached(site_id: str, seed: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    from twin.weather import catalog

    return _synthesize(catalog.site(site_id), seed)


def _synthesize(entry: dict[str, Any], seed: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    op = _operators()
    monthly = entry["monthly"]
    tx_n, tn_n, tm_n, td_n = (np.asarray(monthly[k], dtype=float) for k in ("tmax_c", "tmin_c", "tmean_c", "dewpoint_c"))
    rng = np.random.default_rng([int(seed), zlib.crc32(entry["id"].encode())])
    x = _remove_monthly_means(periodic_ar1(rng.standard_normal(DAYS), PHI))
    y = _remove_monthly_means(periodic_ar1(rng.standard_normal(DAYS), PHI))

    hot_month, _ = design_value(entry, "hottest_month")
    hot = int(hot_month) if hot_month else int(np.argmax(tx_n)) + 1
    hot_day = MONTH_START_DAY[hot - 1] + DAYS_IN_MONTH[hot - 1] / 2.0
    w_hot = 0.5 * (1.0 + np.cos(2.0 * np.pi * (np.arange(DAYS) + 0.5 - hot_day) / DAYS))
    u_day = _remove_monthly_means((1.0 - w_hot) * x)
    v_day = _remove_monthly_means(w_hot * x)
    hot_target, hot_key, hot_edition = cooling_design_db(entry)
    q_hot = _DESIGN_QUANTILE[hot_key]
    cold_target, _ = design_value(entry, "heating_db_99_6_c")
    lo, hi = SIGMA_DB_RANGE_C

    tx, tn = tx_n.copy(), tn_n.copy()
    position = (tm_n - tn_n) / np.maximum(tx_n - tn_n, 0.1)
    s_cold = s_hot = DEFAULT_SIGMA_DB_C
    for _ in range(6):
        dop = _diurnal_op(op["spread"] @ position)
        base = _diurnal(dop, op["spread"] @ tx, op["spread"] @ tn)
        u, v = _diurnal(dop, u_day, u_day), _diurnal(dop, v_day, v_day)
        if cold_target is None:
            s_hot = s_cold = _solve_increasing(lambda s: _quantile(base + s * (u + v), q_hot), hot_target, lo, hi)
        else:
            for _ in range(3):
                s_hot = _solve_increasing(lambda s: _quantile(base + s_cold * u + s * v, q_hot), hot_target, lo, hi)
                s_cold = _solve_increasing(lambda s: -_quantile(base + s * u + s_hot * v, 0.004), -cold_target, lo, hi)
        dry_bulb = base + s_cold * u + s_hot * v
        days = dry_bulb.reshape(DAYS, 24)
        err_x = op["mean"] @ days.max(axis=1) - tx_n
        err_n = op["mean"] @ days.min(axis=1) - tn_n
        err_m = _monthly_hour_mean(dry_bulb) - tm_n
        if max(np.abs(err_x).max(), np.abs(err_n).max(), np.abs(err_m).max()) < 0.05:
            break
        tx -= err_x
        tn -= err_n
        position -= (err_m - 0.5 * (err_x + err_n)) / np.maximum(tx_n - tn_n, 0.1)

    evap_target, _ = design_value(entry, "evap_wb_0_4_c")
    mcwb_target, _ = design_value(entry, "cooling_mcwb_0_4_c")
    hottest = dry_bulb >= _quantile(dry_bulb, q_hot)
    # dry-bulb excursion from its centred 24-hour running mean (periodic): drives the afternoon dew-point dip
    padded = np.concatenate([dry_bulb[-12:], dry_bulb, dry_bulb[:12]])
    running = np.convolve(padded, np.full(25, 1.0 / 25.0), mode="valid")
    excursion = dry_bulb - running

    def dew_point(s: float, rho: float, k: float, rounds: int = 4) -> tuple[np.ndarray, float]:
        anomaly = s * (rho * x + math.sqrt(1.0 - rho * rho) * y)
        return _dew_hourly(td_n, anomaly, dry_bulb, rounds, offset=-k * excursion)

    def wet_bulb(s: float, rho: float, k: float, hours: slice | np.ndarray = slice(None)) -> np.ndarray:
        dew, _ = dew_point(s, rho, k)
        t, td = dry_bulb[hours], dew[hours]
        return psychro.wet_bulb_c(t, psychro.relative_humidity_pct(t, td), td)

    s_dp, rho, k_dip = DEFAULT_SIGMA_DP_C, 0.0, 0.0
    for _ in range(3):
        if evap_target is not None:
            s_dp = _solve_increasing(
                lambda s: _quantile(wet_bulb(s, rho, k_dip), 0.996), evap_target, *SIGMA_DP_RANGE_C, tol=0.01
            )
        if mcwb_target is not None:
            rho = _solve_increasing(
                lambda r: float(wet_bulb(s_dp, r, k_dip, hottest).mean()), mcwb_target, *RHO_RANGE, tol=0.01
            )
            if rho <= RHO_RANGE[0] + 0.01:
                k_dip = _solve_increasing(
                    lambda k: -float(wet_bulb(s_dp, rho, k, hottest).mean()), -mcwb_target, *DEW_DIP_RANGE, tol=0.01
                )
    dew, e_residual = dew_point(s_dp, rho, k_dip, rounds=40)
    values = complete_humidity(dry_bulb, {"dew_point_c": dew}, where=f"climate {entry['id']!r}")

    attrs = {
        "noise_phi": PHI,
        "noise_sigma_hot_c": round(s_hot, 3),
        "noise_sigma_cold_c": round(s_cold, 3),
        "noise_sigma_dew_point_c": round(s_dp, 3),
        "noise_dew_point_dry_bulb_correlation": round(rho, 3),
        "dew_point_afternoon_dip_per_c": round(k_dip, 3),
        "hottest_month": hot,
        "design_dry_bulb_target_c": hot_target,
        "design_dry_bulb_field": f"{hot_key} ({hot_edition})",
        "synth_dry_bulb_design_quantile_c": round(_quantile(dry_bulb, q_hot), 2),
        "heating_dry_bulb_target_c": cold_target,
        "synth_dry_bulb_q004_c": round(_quantile(dry_bulb, 0.004), 2),
        "evap_wet_bulb_target_c": evap_target,
        "synth_wet_bulb_q996_c": round(_quantile(values["wet_bulb_c"], 0.996), 2),
        "coincident_wet_bulb_target_c": mcwb_target,
        "synth_coincident_wet_bulb_c": round(float(values["wet_bulb_c"][hottest].mean()), 2),
        "dew_point_vapour_pressure_residual": round(e_residual, 4),
        "seed": int(seed),
    }
    return values, attrs
