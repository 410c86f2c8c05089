"""Bounded least squares with the uncertainty a fit deserves: standard errors, confidence intervals, correlations.

`fit` wraps `scipy.optimize.least_squares` (trust-region reflective, box bounds). From the Jacobian J at the
solution, cov = s^2 (J^T J)^-1 with s^2 = SSR / (n - p). Time-series residuals are rarely independent: with
lag-1 autocorrelation rho the effective number of points is n' = n (1 - rho) / (1 + rho) (ASHRAE Guideline
14-2014, Annex B), so the covariance is inflated by n / n' and intervals use Student's t with n' - p
degrees of freedom. Parameters that end on a bound are flagged: their interval is only indicative; a
parameter whose interval would be wider than half its bounds is flagged as not identified by the data
(typically one of a pair the data cannot tell apart: see the correlations). Intervals are clipped to the bounds.

>>> import numpy as np
>>> x = np.linspace(0, 1, 50); y = 2.0 + 3.0 * x
>>> r = fit(lambda p: p[0] + p[1] * x - y, [1.0, 1.0], [0, 0], [10, 10], ["a", "b"])
>>> [round(float(v), 6) for v in r.x]
[2.0, 3.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

#: relative finite-difference step: large enough for float32 simulation outputs
DIFF_STEP = 1e-4
#: singular values of the scaled Jacobian below this share of the largest are directions the data do not fix
RANK_TOLERANCE = 1e-7


@dataclass
class LeastSquares:
    """The result of one bounded least-squares fit."""

    names: list[str]
    x: np.ndarray
    x0: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    stderr: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    correlation: np.ndarray
    level: float
    n: int
    n_eff: float
    ssr: float
    success: bool
    message: str
    nfev: int
    at_bound: np.ndarray
    identified: np.ndarray
    residuals: np.ndarray

    def table(self):
        """Parameters as a DataFrame: start, value, bounds, standard error, interval, at a bound."""
        import pandas as pd

        pct = f"{self.level:.0%}"
        return pd.DataFrame({
            "parameter": self.names, "initial": self.x0, "value": self.x, "stderr": self.stderr,
            f"ci_low ({pct})": self.ci_low, f"ci_high ({pct})": self.ci_high, "lower": self.lower,
            "upper": self.upper, "at_bound": self.at_bound, "identified": self.identified,
        })

    def correlations(self):
        import pandas as pd

        return pd.DataFrame(self.correlation, index=self.names, columns=self.names)


def lag1(residuals: np.ndarray) -> float:
    """Lag-1 autocorrelation of a residual series (0 when undefined)."""
    r = np.asarray(residuals, dtype=float)
    r = r[np.isfinite(r)]
    if r.size < 3:
        return 0.0
    r = r - r.mean()
    den = float(r @ r)
    return float(r[1:] @ r[:-1]) / den if den > 0 else 0.0


def lag1_columns(r: np.ndarray) -> np.ndarray:
    """`lag1` of each column of a (time x series) array; columns without gaps in one vectorized pass."""
    r = np.asarray(r, dtype=float).reshape(len(r), -1)
    out = np.zeros(r.shape[1])
    full = np.isfinite(r).all(axis=0)
    if full.any() and r.shape[0] >= 3:
        x = r[:, full] - r[:, full].mean(axis=0)
        den = (x * x).sum(axis=0)
        num = (x[1:] * x[:-1]).sum(axis=0)
        out[full] = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    for j in np.flatnonzero(~full):
        out[j] = lag1(r[:, j])
    return out


def effective_n(n: int, rho: float) -> float:
    """Guideline 14's effective number of independent points, n (1 - rho) / (1 + rho), for rho > 0."""
    rho = min(max(rho, 0.0), 0.999)
    return n * (1.0 - rho) / (1.0 + rho)


def fit(
    residuals: Callable[[np.ndarray], np.ndarray],
    x0: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    names: Sequence[str],
    *,
    level: float = 0.95,
    n_eff: Callable[[np.ndarray], float] | float | None = None,
    n_points: int | None = None,
    ssr_offset: float = 0.0,
    max_nfev: int | None = None,
) -> LeastSquares:
    """Minimize sum(residuals(x)**2) within bounds; uncertainty as described in the module docstring.

    n_eff: the effective number of points (a number, or a function of the solution x); default n.
    n_points / ssr_offset: for compressed residuals (sufficient statistics), the true number of points and
    the part of the sum of squares that no parameter can change.
    """
    from scipy import optimize, stats

    x0 = np.asarray(x0, dtype=float)
    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    scale = np.maximum(np.abs(x0), (hi - lo) / 10.0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    res = optimize.least_squares(residuals, np.clip(x0, lo, hi), bounds=(lo, hi), method="trf", x_scale=scale,
                                 diff_step=DIFF_STEP, max_nfev=max_nfev)
    r = np.asarray(res.fun, dtype=float)
    n = int(n_points if n_points is not None else r.size)
    p = x0.size
    ssr = float(r @ r) + ssr_offset
    ne = n_eff(res.x) if callable(n_eff) else (float(n_eff) if n_eff is not None else float(n))
    ne = float(min(max(ne, p + 1.0), n))
    jac = np.asarray(res.jac, dtype=float)
    s2 = ssr / max(n - p, 1)
    unit_cov, unseen = _covariance(jac, scale)
    cov = unit_cov * s2 * (n / ne)
    stderr = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    t = float(stats.t.ppf(0.5 + level / 2.0, max(ne - p, 1.0)))
    sd = np.sqrt(np.clip(np.diag(unit_cov), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(np.outer(sd, sd) > 0, unit_cov / np.outer(sd, sd), np.nan)
    np.fill_diagonal(corr, 1.0)
    span = np.maximum(hi - lo, 1e-300)
    at_bound = (np.abs(res.x - lo) <= 1e-6 * span) | (np.abs(res.x - hi) <= 1e-6 * span)
    identified = (t * stderr < span / 2) & ~unseen
    return LeastSquares(list(names), res.x.copy(), x0, lo, hi, stderr, np.maximum(res.x - t * stderr, lo),
                        np.minimum(res.x + t * stderr, hi), corr, level, n, ne, ssr, bool(res.success),
                        str(res.message), int(res.nfev), at_bound, identified, r)


def _covariance(jac: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(J^T J)^-1 through the SVD of the scaled Jacobian, and which parameters lie along a direction the data do
    not see (singular value below RANK_TOLERANCE x the largest). Those singular values are floored there, so
    such directions get a huge variance and their parameters correlations near +-1."""
    js = jac * scale
    _, sv, vt = np.linalg.svd(js, full_matrices=False)
    p = jac.shape[1]
    if not sv.size or sv[0] == 0:
        return np.diag(np.full(p, np.inf)), np.ones(p, dtype=bool)
    blind = sv < RANK_TOLERANCE * sv[0]
    unseen = (np.abs(vt[blind]) > 0.1).any(axis=0) if blind.any() else np.zeros(p, dtype=bool)
    if sv.size < p:
        unseen[:] = True
    sv = np.maximum(sv, RANK_TOLERANCE * sv[0])
    inner = (vt.T / sv**2) @ vt
    return inner * np.outer(scale, scale), unseen


__all__ = ["LeastSquares", "fit", "lag1", "effective_n", "DIFF_STEP", "RANK_TOLERANCE"]
