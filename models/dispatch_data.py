"""The arrays a dispatch model is built from: steps, rack classes, tiers, grid, storage and the site's physics.

Everything is a numpy array over named axes: time (n), dispatch class (g), cap level (k), tier (j), free-cooling
row (r). The solver layer fills it from a facility with the twin's own physics (`solvers.dispatch`); tests fill
it by hand. Units are in the names: kW, kWh, USD, tokens/s, hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin.onsite import Generator, Storage

TOKENS_PER_S_TO_PER_H = 3600.0
TRAINING = "training"
"""Pseudo-tier of training classes: its 'tokens' are full-speed rack-equivalents, its demand the job's
nominal progress (full speed / (1 + slowdown))."""


@dataclass
class DispatchData:
    """One horizon of dispatch: what can run, what it earns, what it draws, what the grid allows."""

    time: np.ndarray                       # (n,) datetime64 step starts
    step_h: np.ndarray                     # (n,) hours per step
    classes: list[str]                     # (g,) dispatch class names
    count: np.ndarray                      # (g,) racks per class
    fixed_kw: np.ndarray                   # (g,) kW per powered rack at utilization 0
    dyn_kw: np.ndarray                     # (g, k) kW per rack added at utilization 1 at cap level k (nan: level not allowed)
    speed: np.ndarray                      # (g, k) throughput fraction at cap level k (1 at TDP)
    tiers: list[str]                       # (j,) tier ids (TRAINING included when a class trains)
    tokens_per_s: np.ndarray               # (g, j) tokens/s per rack at full speed serving tier j (0: cannot)
    usd_per_mtok: np.ndarray               # (g, j) revenue per million tokens of class g serving tier j
    demand: np.ndarray                     # (n, j) tokens/s asked (training: nominal rack-equivalents)
    deadline_h: np.ndarray                 # (j,) hours deferred work may wait (0: serve now or lose it)
    drop_usd_per_mtok: np.ndarray          # (j,) penalty for interactive demand not served
    offset_kw: np.ndarray                  # (n,) facility grid power = offset + slope . class kW (linearized twin)
    slope: np.ndarray                      # (n, g) grid kW per kW of rack power of each class
    limit_kw: np.ndarray                   # (n,) allowed grid import (connection, or an event's target)
    price_usd_per_kwh: np.ndarray          # (n,) energy price of imports
    payment_usd_per_kwh: np.ndarray | float = 0.0   # (n,) paid per kWh of an event's requested cut that is met
    baseline_kw: np.ndarray | None = None  # (n,) import without the events (what a cut is measured from)
    switch_off: bool = True                # racks may be powered down (draw 0 instead of fixed_kw)
    lim_coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))   # (r, g) heat per kW of class power
    lim_cap_kw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (n, r) free-cooling capacity
    demand_charge_usd_per_kw: float = 0.0  # per kW of each month's peak import
    penalty_usd_per_kwh: np.ndarray | float = 1e4    # (n,) per kWh imported above the limit (elastic; reported)
    late_usd_per_mtok: float = 100.0       # deferred tokens past their deadline (elastic; reported when used)
    late_usd_per_rack_h: float = 1000.0    # training progress behind its slowdown limit (elastic; reported)
    wait_usd_per_mtok_h: float = 1e-3      # holding cost of deferred tokens per hour waiting (see WAIT note)
    wait_usd_per_rack_h_h: float = 0.1     # holding cost of training lag per rack-hour behind per hour
    storage: Storage = field(default_factory=Storage)
    generator: Generator = field(default_factory=Generator)
    fixed_before: int = 0                  # steps whose decisions are pinned (an event's notice), see `pinned`
    pinned: dict[str, np.ndarray] | None = None   # {variable family: (n, k) values}; the first `fixed_before` steps kept
    backlog_start: np.ndarray | None = None  # (j,) deferred work waiting before the first step (rolling windows)
    peak_start_kw: np.ndarray | None = None  # (months,) import peaks already reached this month (rolling windows)
    soc_end_kwh: float | None = None       # the least charge at the end (default the start's; rolling: the horizon's)
    gen_start_kw: float | None = None      # generation in the step before the first (rolling windows: ramp limit)
    horizon_window: np.ndarray | None = None  # (n, j) `window()` of the whole horizon, cut to these steps (rolling)

    @property
    def n_steps(self) -> int:
        return int(self.time.size)

    def month(self) -> np.ndarray:
        """Calendar month index of each step (demand charges are billed per month)."""
        m = self.time.astype("datetime64[M]").astype(np.int64)
        return m - m.min()

    def window(self) -> np.ndarray:
        """(n, j) work that arrived within each tier's deadline up to each step: the most that may be waiting.
        At the last step nothing may wait (deferred work is caught up within the horizon, so the horizon's end is
        not a place to leave it). A rolling window takes the whole horizon's (`horizon_window`), which counts work
        that arrived before its first step, so a backlog carried in keeps its deadline exactly."""
        if self.horizon_window is not None:
            return self.horizon_window
        units = self.unit_per_h()
        arrived = np.cumsum(self.demand * self.step_h[:, None] * units, axis=0)
        ends = np.cumsum(self.step_h)
        out = np.zeros_like(arrived)
        for j, d in enumerate(self.deadline_h):
            if d <= 0:
                continue
            before = np.searchsorted(ends, ends - d + 1e-9, side="left") - 1   # last step ending >= d earlier
            out[:, j] = arrived[:, j] - np.where(before >= 0, arrived[np.maximum(before, 0), j], 0.0)
        out[-1] = 0.0
        return out

    def late_usd_per_unit(self) -> np.ndarray:
        """(j,) penalty per token (or training rack-hour) of deferred work past its deadline."""
        return np.array([self.late_usd_per_rack_h if t == TRAINING else self.late_usd_per_mtok / 1e6 for t in self.tiers])

    def wait_usd_per_unit_h(self) -> np.ndarray:
        """(j,) holding cost per token (or training rack-hour) waiting one hour: small (about a tenth of a GB200's
        energy cost per token), so work is deferred for price or grid signals, not for negligible cooling savings."""
        return np.array([self.wait_usd_per_rack_h_h if t == TRAINING else self.wait_usd_per_mtok_h / 1e6 for t in self.tiers])

    def tier_rate(self) -> np.ndarray:
        """(j,) the fastest class's tokens/s per rack on each tier: the model counts interactive shortfalls in these
        rack equivalents and deferred work in rack-hours of them (O(1) coefficients instead of 1e9 tokens)."""
        top = self.tokens_per_s.max(axis=0) if self.tokens_per_s.size else np.zeros(len(self.tiers))
        return np.where(top > 0, top, 1.0)

    def unit_per_h(self) -> np.ndarray:
        """(j,) per-hour scale of each tier's rate: 3600 tokens per token/s-hour, 1 rack-hour for training."""
        return np.array([1.0 if t == TRAINING else TOKENS_PER_S_TO_PER_H for t in self.tiers])


__all__ = ["DispatchData", "Storage", "Generator", "TRAINING", "TOKENS_PER_S_TO_PER_H"]
