"""What the samples say: quantile bands, variance-based (Sobol) sensitivity indices and a tornado.

- `band`: P10/P50/P90 over samples (NaNs of failed samples left out).
- `first_order`: Sobol first-order index of each input from any sample (given data): the variance of the output's
  mean within slices of the input's range over the output's variance, corrected for the slices' own noise.
- `saltelli_indices`: first-order (Saltelli 2010) and total (Jansen 1999) indices on a Saltelli design.
- `tornado`: the output's mean where an input is in its lowest and highest fifth of samples.

>>> rng = np.random.default_rng(0)
>>> x = rng.random((2000, 2))
>>> y = 3 * x[:, 0]
>>> [round(float(s), 1) for s in first_order(x, y)]
[1.0, 0.0]
"""

from __future__ import annotations

import numpy as np

QUANTILES = (0.1, 0.5, 0.9)


def band(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """P10, P50, P90 along `axis` (the quantile axis comes last), NaNs ignored; all-NaN gives NaN."""
    values = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"), _quiet():
        out = np.nanquantile(values, QUANTILES, axis=axis)
    return np.moveaxis(out, 0, -1)


def first_order(x: np.ndarray, y: np.ndarray, slices: int | None = None) -> np.ndarray:
    """(d,) first-order Sobol indices of y on each column of x (given-data estimator, bias-corrected)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    n = y.size
    var = y.var()
    if n < 8 or not var > 0:
        return np.zeros(x.shape[1])
    m = slices or max(2, int(round(np.sqrt(n))))
    out = np.empty(x.shape[1])
    for j in range(x.shape[1]):
        rank = np.argsort(np.argsort(x[:, j], kind="stable"), kind="stable")
        group = rank * m // n
        counts = np.bincount(group, minlength=m).astype(float)
        means = np.bincount(group, weights=y, minlength=m) / np.maximum(counts, 1)
        between = np.sum(counts * (means - y.mean()) ** 2)
        within = np.sum((y - means[group]) ** 2)
        out[j] = (between - (m - 1) * within / max(n - m, 1)) / (n * var)
    return np.clip(out, 0.0, 1.0)


def saltelli_indices(f: np.ndarray, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(first-order, total) indices from outputs on a Saltelli design of blocks A, B, AB_1..AB_d (n rows each)."""
    f = np.asarray(f, dtype=float)
    fa, fb = f[:n], f[n:2 * n]
    fab = f[2 * n:].reshape(d, n)
    var = np.nanvar(np.concatenate([fa, fb]))
    if not var > 0:
        return np.zeros(d), np.zeros(d)
    with _quiet():
        s1 = np.nanmean(fb[None, :] * (fab - fa[None, :]), axis=1) / var
        st = 0.5 * np.nanmean((fa[None, :] - fab) ** 2, axis=1) / var
    return s1, st


def tornado(x: np.ndarray, y: np.ndarray, share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """(low, high): the mean of y over the samples whose input j lies in its lowest / highest `share`."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(y)
    k = max(1, int(round(share * n)))
    order = np.argsort(x, axis=0, kind="stable")
    with _quiet():
        low = np.array([np.nanmean(y[order[:k, j]]) for j in range(x.shape[1])])
        high = np.array([np.nanmean(y[order[-k:, j]]) for j in range(x.shape[1])])
    return low, high


class _quiet:
    """Silence numpy's warnings about empty slices (failed samples give NaN, which the results say)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


__all__ = ["band", "first_order", "saltelli_indices", "tornado", "QUANTILES"]
