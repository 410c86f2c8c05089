"""Space-filling samples of the uncertain inputs (scipy.stats.qmc): Latin hypercube or scrambled Sobol points in
the unit cube, mapped through each input's inverse CDF; and the Saltelli design (A, B and A with column i from
B) that variance-based sensitivity indices are estimated on.

>>> from twin.uncertainty.spreads import Spread
>>> u = unit_points(2, 8, seed=1)
>>> u.shape, bool(((u > 0) & (u < 1)).all())
((8, 2), True)
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from twin.errors import TwinError

METHODS = ("lhs", "sobol")


def unit_points(d: int, n: int, seed: int = 0, method: str = "lhs") -> np.ndarray:
    """(n, d) points in (0, 1)^d: a Latin hypercube (each input's range cut in n strata, one point each) or a
    scrambled Sobol sequence; the same seed gives the same points."""
    from scipy.stats import qmc

    if method not in METHODS:
        raise TwinError(f"method={method!r} is not one of {list(METHODS)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise TwinError(f"samples={n!r} must be a whole number >= 2")
    if d == 0:
        return np.empty((n, 0))
    if method == "lhs":
        return qmc.LatinHypercube(d, seed=np.random.default_rng(seed)).random(n)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The balance properties of Sobol' points")
        return qmc.Sobol(d, scramble=True, seed=np.random.default_rng(seed)).random(n)


def to_values(spreads: Sequence, u: np.ndarray) -> np.ndarray:
    """(n, d) input values: column j is spreads[j].ppf of column j of u."""
    if not len(spreads):
        return np.empty((u.shape[0], 0))
    return np.column_stack([s.ppf(u[:, j]) for j, s in enumerate(spreads)])


def saltelli(d: int, n: int, seed: int = 0, method: str = "lhs") -> np.ndarray:
    """(n (d + 2), d) unit points in blocks A, B, AB_1 .. AB_d (AB_i: A with column i taken from B); the first n
    rows (A) are a plain sample for the bands."""
    both = unit_points(2 * d, n, seed, method)
    a, b = both[:, :d], both[:, d:]
    blocks = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return np.vstack(blocks)


__all__ = ["unit_points", "to_values", "saltelli", "METHODS"]
