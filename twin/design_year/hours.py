"""Which hours of a design weather year can bind a design, and how many hours a user lets it exceed.

Facility power at full load rises with dry bulb and with wet bulb (chiller COP falls as the condenser
warms, economizers give way, fans speed up), so an hour that another hour dominates (at least as hot and
at least as humid) never draws more. With no exceedance allowed only the non-dominated hours can bind;
with N hours allowed, an hour dominated by N or more others must hold (else it and its N dominators all
exceed) and only the hours dominated by fewer than N others may be among the exceeded ones.

>>> import numpy as np
>>> db, wb = np.array([40.0, 35.0, 38.0, 30.0]), np.array([20.0, 24.0, 21.0, 23.0])
>>> non_dominated(db, wb).tolist()
[0, 2, 1]
>>> [a.tolist() for a in binding_hours(db, wb, allowed=1)]
[[3], [0, 1, 2]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.errors import TwinError

EXCEEDANCE = {"0.4%": 35, "1%": 88, "2%": 175}
"""ASHRAE cooling design conditions by the share of a year's 8,760 hours they are exceeded in
(ASHRAE Handbook - Fundamentals, ch. 14: 0.4 %, 1 % and 2 % annual cumulative frequency), as hours."""
CHUNK = 1024
"""Hours compared against the whole year at once when counting dominators (bounds memory to ~9 MB)."""


def non_dominated(dry_bulb_c: Any, wet_bulb_c: Any) -> np.ndarray:
    """Indices of the hours no other hour dominates, hottest first; one index per repeated (db, wb) pair."""
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.asarray(wet_bulb_c, dtype=float)
    order = np.lexsort((-wb, -db))
    w = wb[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(w)[:-1]])
    return order[w > best_before]


def dominators(dry_bulb_c: Any, wet_bulb_c: Any) -> np.ndarray:
    """Per hour, how many other hours are at least as hot in dry bulb and in wet bulb (vectorized in chunks)."""
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.asarray(wet_bulb_c, dtype=float)
    out = np.empty(db.size, dtype=np.int64)
    for s in range(0, db.size, CHUNK):
        e = min(db.size, s + CHUNK)
        out[s:e] = ((db[None, :] >= db[s:e, None]) & (wb[None, :] >= wb[s:e, None])).sum(axis=1) - 1
    return out


def binding_hours(dry_bulb_c: Any, wet_bulb_c: Any, allowed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(must, candidates): the hours whose limit must hold that can bind (the maximal ones among those
    dominated by `allowed` or more others) and the hours that may be exceeded (dominated by fewer)."""
    db = np.asarray(dry_bulb_c, dtype=float)
    wb = np.asarray(wet_bulb_c, dtype=float)
    if allowed <= 0:
        return non_dominated(db, wb), np.zeros(0, dtype=np.int64)
    count = dominators(db, wb)
    held = np.flatnonzero(count >= allowed)
    return held[non_dominated(db[held], wb[held])], np.flatnonzero(count < allowed)


def exceedance_hours(value: Any, what: str = "design_exceedance_hours", hours: int = 8760) -> int:
    """Allowed hours from a whole number of hours or an ASHRAE condition name ('0.4%', '1%', '2%')."""
    if value is None:
        return 0
    if isinstance(value, str):
        key = value.strip().replace(" ", "")
        if key in EXCEEDANCE:
            return int(round(EXCEEDANCE[key] * hours / 8760))
        raise TwinError(f"{what}={value!r} is neither a number of hours nor one of {list(EXCEEDANCE)}; "
                        "give e.g. 0, 35 or '0.4%'")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or value != value or \
            not 0 <= value < hours or value != int(value):
        raise TwinError(f"{what}={value!r} must be a whole number of hours from 0 to {hours - 1} "
                        f"or one of {list(EXCEEDANCE)}")
    return int(value)


__all__ = ["EXCEEDANCE", "non_dominated", "dominators", "binding_hours", "exceedance_hours"]
