"""Verifying a design against its whole design year: the solved facility simulated at full load through
every hour, and, where it draws more than the grid limit, those hours' rows of the design model corrected.

The design model is a linear surrogate of the simulator (chain losses at one load fraction, cooling at full
plant load). After each round every grid row gets at least the surrogate's error seen at its hour
(simulated - modelled, x VERIFY_MARGIN); a row over the limit gets max(previous + excess, error) x
VERIFY_MARGIN, and an hour over the limit without a row gets one, so each round asks for at least what
the last one lacked and the rounds converge from below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.design_year import model_grid_kw
from twin.design_year import non_dominated

if TYPE_CHECKING:
    from models.design_data import DesignData
    from twin.design_year import YearCheck
    from twin.facility import Facility

VERIFY_MARGIN = 1.1
"""Each round subtracts 10 % more than the error it saw."""


def simulate_year(facility: Facility, data: DesignData) -> YearCheck:
    """The facility through the design model's weather year at full load (twin.check, without the diagnosis)."""
    from twin.design_year import check

    return check(facility, data.year.dataset, exceedance_hours=data.year.exceedance_hours,
                 throttle_hours=data.year.throttle_hours, workload=data.workload, explain=False)


def correct(data: DesignData, values: dict[str, dict[tuple, float]], year: YearCheck) -> np.ndarray:
    """Recalibrate the model's grid rows to the simulated year; returns the hours whose rows changed.

    Every row (and every hour over the limit the model meant to hold, the maximal ones in dry and wet bulb:
    an hour they dominate draws no more) gets at least the error seen there, x VERIFY_MARGIN; a row over
    the limit also gets its excess on top of its previous correction, so it asks for more each round.
    """
    sim = year.year["grid_power_kw"].values
    over = np.flatnonzero(sim > data.grid_limit_kw)
    allowed = [h for h, z in zip(data.year.candidates, values.get("exceed", {}).values()) if z > 0.5]
    over = over[~np.isin(over, allowed)]
    new = over[non_dominated(data.year.dry_bulb_c[over], data.year.wet_bulb_c[over])]
    hours = np.unique(np.concatenate([data.year.rows(), data.year.candidates, new]))
    error = sim[hours] - model_grid_kw(data, values["racks"], hours)
    excess = sim[hours] - data.grid_limit_kw
    previous = data.year.correction(hours)
    data.year.hold(hours, np.where(excess > 0, np.maximum(previous + excess, error) * VERIFY_MARGIN,
                                   np.maximum(previous, error * VERIFY_MARGIN)))
    return hours


__all__ = ["VERIFY_MARGIN", "simulate_year", "correct"]
