"""The cheapest smoothing of a training job's power: GPU power floor F, storage power P and energy E (with their
schedules) such that the grid sees ramps <= R and oscillation amplitudes <= A per band. A linear program over two
windows that share F, P, E and the ramp budget:

  A  one iteration, periodic (10 Hz samples): burn z >= F - p (GPUs burn up to the floor), storage b, grid
     g = p + z - b, ramps |g[t+1] - g[t]| <= rho_a / hz (wrapping, and to the iteration mean L at a checkpoint's
     edges), state of charge periodic, and for every harmonic k in a band the DFT of g inside a 16-gon of radius
     A x N / 2 (inscribed, so the true amplitude is at most A).
  B  one checkpoint with ramps around it (the slow part): load L outside, idle + burn (>= F - idle) inside,
     storage b_b starting and ending at 0 with energy back where it started, ramps <= rho_b / hz.
  rho_a + rho_b <= R; P >= P_a + P_b; E >= E_a + E_b (the two parts superpose: the periodic part pauses during
  checkpoints, which start and end on iteration boundaries).
Objective: USD per year = electricity x burned kWh per year + power cost x P + energy cost x E.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.linear import LinearProblem

POLYGON = 16


@dataclass
class SmoothingData:
    """Arrays of the two windows (kW, samples at hz) and the limits and prices."""

    hz: float
    p_a: np.ndarray                 # one iteration of job power, kW
    inside_b: np.ndarray            # window B: True inside the checkpoint
    idle_kw: float                  # job power with every GPU idle
    ramp_kw_per_s: float
    bands: list[tuple[float, float, float]]   # (lo Hz, hi Hz, amplitude kW)
    steady_share: float             # share of the time in iterations (not checkpoints)
    checkpoints_per_h: float
    usd_per_kwh: float
    usd_per_kw_year: float
    usd_per_kwh_year: float
    hours_per_year: float = 8760.0

    def harmonics(self) -> list[tuple[int, float]]:
        """(harmonic k, amplitude limit kW) of window A inside a band."""
        n = self.p_a.size
        out = []
        for k in range(1, n // 2 + 1):
            f = k * self.hz / n
            lims = [a for lo, hi, a in self.bands if lo <= f < hi]
            if lims:
                out.append((k, min(lims)))
        return out


def _ix(name: str, n: int) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([np.arange(n)], names=[name])


def build(d: SmoothingData) -> LinearProblem:
    """The smoothing LP (minimize USD per year)."""
    lp = LinearProblem(sense="min")
    na, nb = d.p_a.size, d.inside_b.size
    dt_h = 1.0 / d.hz / 3600.0
    top = float(d.p_a.max())
    year_burn_a = d.usd_per_kwh * d.hours_per_year * d.steady_share / na          # per kW of z_a per sample
    year_burn_b = d.usd_per_kwh * d.hours_per_year * d.checkpoints_per_h * dt_h     # per kW of z_b per sample
    one = lambda name, cost=0.0, lb=0.0, ub=np.inf: lp.add_vars(name, _ix("s", 1), lb=lb, ub=ub, cost=cost)[0]
    F = one("floor", lb=d.idle_kw, ub=top)
    P = one("power", cost=d.usd_per_kw_year)
    E = one("energy", cost=d.usd_per_kwh_year)
    rho_a, rho_b, Pa, Pb, Ea, Eb = (one(x) for x in ("rho_a", "rho_b", "power_a", "power_b", "energy_a", "energy_b"))
    L = one("mean")
    z = lp.add_vars("burn_a", _ix("t", na), ub=top - d.p_a, cost=year_burn_a)
    b = lp.add_vars("store_a", _ix("t", na), lb=-np.inf)
    e = lp.add_vars("soc_a", _ix("t", na), lb=-np.inf)
    zb = lp.add_vars("burn_b", _ix("t", nb), ub=np.where(d.inside_b, top - d.idle_kw, 0.0), cost=year_burn_b)
    bb = lp.add_vars("store_b", _ix("t", nb), lb=-np.inf)
    eb = lp.add_vars("soc_b", _ix("t", nb), lb=-np.inf)
    lo_a, hi_a, lo_b, hi_b = (one(x, lb=-np.inf) for x in ("lo_a", "hi_a", "lo_b", "hi_b"))
    ta, tb = np.arange(na), np.arange(nb)
    nxt = np.roll(ta, -1)

    def rows(name, cols_vals, lb=-np.inf, ub=np.inf, n=None):
        """Rows from a list of (row index array, col array, value array)."""
        r = np.concatenate([np.broadcast_to(x[0], np.shape(x[1])) for x in cols_vals])
        c = np.concatenate([np.asarray(x[1]).ravel() for x in cols_vals])
        v = np.concatenate([np.broadcast_to(x[2], np.shape(x[1])).ravel() for x in cols_vals])
        count = n if n is not None else int(r.max()) + 1
        key, inv = np.unique(r.astype(np.int64) * lp.n_vars + c, return_inverse=True)   # a column twice in a row: sum
        lp.add_rows(name, _ix("r", count), rows=key // lp.n_vars, cols=key % lp.n_vars,
                    vals=np.bincount(inv, weights=v, minlength=key.size), lb=lb, ub=ub)

    # floor: z_a - F >= -p_a ; inside B: zb - F >= -idle
    rows("floor_a", [(ta, z, 1.0), (ta, np.full(na, F), -1.0)], lb=-d.p_a)
    inside = np.flatnonzero(d.inside_b)
    rows("floor_b", [(np.arange(inside.size), zb[inside], 1.0), (np.arange(inside.size), np.full(inside.size, F), -1.0)],
         lb=-d.idle_kw, n=inside.size)
    # mean: L - sum(z_a)/na = mean(p_a)
    rows("mean", [(np.zeros(1, int), [L], 1.0), (np.zeros(na, int), z, -1.0 / na)], lb=d.p_a.mean(), ub=d.p_a.mean(), n=1)
    # storage power and energy, window A (periodic) and B (from and back to 0)
    for name, store, soc, pw, lo, hi, t, n, periodic in (("a", b, e, Pa, lo_a, hi_a, ta, na, True),
                                                          ("b", bb, eb, Pb, lo_b, hi_b, tb, nb, False)):
        rows(f"pmax_{name}", [(t, store, 1.0), (t, np.full(n, pw), -1.0)], ub=0.0)
        rows(f"pmin_{name}", [(t, store, 1.0), (t, np.full(n, pw), 1.0)], lb=0.0)
        nx = np.roll(t, -1) if periodic else t[1:]
        k = np.arange(nx.size)
        rows(f"soc_{name}", [(k, soc[nx], 1.0), (k, soc[t[:nx.size]], -1.0), (k, store[t[:nx.size]], dt_h)], lb=0.0, ub=0.0)
        rows(f"soc_hi_{name}", [(t, soc, 1.0), (t, np.full(n, hi), -1.0)], ub=0.0)
        rows(f"soc_lo_{name}", [(t, soc, 1.0), (t, np.full(n, lo), -1.0)], lb=0.0)
    rows("range_a", [(np.zeros(3, int), [Ea, hi_a, lo_a], np.array([1.0, -1.0, 1.0]))], lb=0.0, n=1)
    rows("range_b", [(np.zeros(3, int), [Eb, hi_b, lo_b], np.array([1.0, -1.0, 1.0]))], lb=0.0, n=1)
    ends = np.array([bb[0], bb[-1], eb[0]])
    rows("ends_b", [(np.arange(3), ends, 1.0)], lb=0.0, ub=0.0, n=3)
    rows("soc_end_b", [(np.zeros(2, int), [eb[-1], bb[-1]], np.array([1.0, dt_h]))], lb=0.0, ub=0.0, n=1)
    rows("budget", [(np.zeros(2, int), [rho_a, rho_b], 1.0)], ub=d.ramp_kw_per_s, n=1)
    rows("power", [(np.zeros(3, int), [P, Pa, Pb], np.array([1.0, -1.0, -1.0]))], lb=0.0, n=1)
    rows("energy", [(np.zeros(3, int), [E, Ea, Eb], np.array([1.0, -1.0, -1.0]))], lb=0.0, n=1)
    # ramps, window A: g = p + z - b, |g[t+1] - g[t]| <= rho_a / hz, wrapping; edges to L
    for sign, name in ((1.0, "up"), (-1.0, "down")):
        rows(f"ramp_a_{name}", [(ta, z[nxt], sign), (ta, b[nxt], -sign), (ta, z, -sign), (ta, b, sign),
                                (ta, np.full(na, rho_a), -1.0 / d.hz)], ub=-sign * (d.p_a[nxt] - d.p_a))
        # checkpoint edges: g_a[last] -> L and L -> g_a[0]
        rows(f"edge_a_{name}", [(np.array([0, 0, 0, 0]), [z[-1], b[-1], L, rho_a], np.array([sign, -sign, -sign, -1.0 / d.hz])),
                                (np.array([1, 1, 1, 1]), [L, z[0], b[0], rho_a], np.array([sign, -sign, sign, -1.0 / d.hz]))],
             ub=np.array([-sign * d.p_a[-1], sign * d.p_a[0]]), n=2)
        # window B: g_b = (L outside | idle + zb inside) - bb
        out = ~d.inside_b
        k = np.arange(nb - 1)
        parts = [(k, np.where(out[1:], L, zb[1:]), sign), (k, bb[1:], -sign),
                 (k, np.where(out[:-1], L, zb[:-1]), -sign), (k, bb[:-1], sign), (k, np.full(nb - 1, rho_b), -1.0 / d.hz)]
        const = np.where(out[1:], 0.0, d.idle_kw) - np.where(out[:-1], 0.0, d.idle_kw)
        rows(f"ramp_b_{name}", parts, ub=-sign * const, n=nb - 1)
    # oscillation: every in-band harmonic of g_a inside a POLYGON-gon of radius amplitude x na / 2 (inscribed)
    harm = d.harmonics()
    if harm:
        ks = np.array([k for k, _ in harm])
        amp = np.array([a for _, a in harm]) * na / 2.0 * np.cos(np.pi / POLYGON)
        theta = np.arange(POLYGON // 2) * (2 * np.pi / POLYGON)
        ang = 2 * np.pi * np.outer(ks, ta) / na                               # (h, t)
        coef = np.cos(ang[:, None, :] + theta[None, :, None]).reshape(-1, na)  # (h x m, t)
        const = coef @ d.p_a
        nrow = coef.shape[0]
        r = np.repeat(np.arange(nrow), na)
        lp.add_rows("oscillation", _ix("r", nrow), rows=np.concatenate([r, r]),
                    cols=np.concatenate([np.tile(z, nrow), np.tile(b, nrow)]),
                    vals=np.concatenate([coef.ravel(), -coef.ravel()]),
                    lb=-np.repeat(amp, POLYGON // 2) - const, ub=np.repeat(amp, POLYGON // 2) - const)
    return lp


__all__ = ["SmoothingData", "build", "POLYGON"]
