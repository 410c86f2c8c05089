"""The solved facility of a brownfield design (`keep_plant`): racks populated per unit as decided, every
power and cooling device left as it stands (no plant rebuilt, no rating changed)."""

from __future__ import annotations

from collections import defaultdict

from models.design_data import DesignData
from solvers.apply import _assign_tiers, _rounded
from twin.facility import Facility


def kept_facility(facility: Facility, data: DesignData, decisions: dict[str, dict[tuple, float]]) -> Facility:
    """A copy of `facility` with each unit's positions filled as decided (the input is left untouched)."""
    out = facility.copy()
    counts = _rounded(decisions["racks"])
    placed: dict[tuple, list[str]] = defaultdict(list)
    for unit, racks in (data.units or {}).items():
        slots = list(racks)
        for (k, _, opt), n in sorted(counts.items(), key=lambda kv: str(kv[0])):
            if k != unit:
                continue
            take, slots = slots[:n], slots[n:]
            system, nodes, cap = opt
            out.populate(take, system, nodes=nodes, power_cap_w=cap)
            placed[opt] += take
        if slots:
            out.populate(slots, None)
    _assign_tiers(out, placed, _rounded(decisions["serve"]))
    return out


__all__ = ["kept_facility"]
