"""What a design changed against the facility it started from: racks added or removed per (system, cap),
devices re-rated, added or removed (a rebuilt cooling plant shows as removed and added devices), halls
given another cooling technology. `Plan.changes` holds one; the CLI prints it.

>>> import blueprints
>>> f = blueprints.load("ai-factory-hall")
>>> diff(f, f).empty
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twin.graph import DEVICE_KINDS, HEAT_KINDS

if TYPE_CHECKING:
    from twin.facility import Facility

RTOL = 1e-6


@dataclass
class Changes:
    """Records of each kind of change (plain dicts, for tables and JSON)."""

    racks: list[dict[str, Any]] = field(default_factory=list)      # system, cap_w, before, after
    rerated: list[dict[str, Any]] = field(default_factory=list)    # id, kind, before_kw, after_kw
    added: list[dict[str, Any]] = field(default_factory=list)      # id, kind, rating_kw
    removed: list[dict[str, Any]] = field(default_factory=list)    # id, kind, rating_kw
    cooling: list[dict[str, Any]] = field(default_factory=list)    # hall, before, after

    @property
    def empty(self) -> bool:
        return not (self.racks or self.rerated or self.added or self.removed or self.cooling)

    @property
    def plant_rebuilt(self) -> bool:
        """True when any cooling unit or heat-rejection device was removed or added."""
        return any(r["kind"] in HEAT_KINDS for r in self.added + self.removed)

    def lines(self) -> list[str]:
        """One line per change, in words (what the CLI prints)."""
        out = [f"racks of {r['system']} at {r['cap_w']:g} W cap: {r['before']} -> {r['after']}" for r in self.racks]
        out += [f"hall {r['hall']}: cooling {r['before']} -> {r['after']}" for r in self.cooling]
        out += [f"{r['kind']} {r['id']}: rating {r['before_kw']:,.0f} -> {r['after_kw']:,.0f} kW" for r in self.rerated]
        out += [f"{r['kind']} {r['id']}: removed ({r['rating_kw']:,.0f} kW)" for r in self.removed]
        out += [f"{r['kind']} {r['id']}: added ({r['rating_kw']:,.0f} kW)" for r in self.added]
        return out or ["nothing: the design keeps the facility as it was"]

    def summary(self) -> dict[str, Any]:
        """Counts per kind of change (for KPIs and JSON)."""
        return {"racks_added": sum(max(0, r["after"] - r["before"]) for r in self.racks),
                "racks_removed": sum(max(0, r["before"] - r["after"]) for r in self.racks),
                "devices_rerated": len(self.rerated), "devices_added": len(self.added),
                "devices_removed": len(self.removed), "halls_recooled": len(self.cooling),
                "plant_rebuilt": self.plant_rebuilt}

    def records(self) -> dict[str, list[dict[str, Any]]]:
        return {"racks": self.racks, "rerated": self.rerated, "added": self.added, "removed": self.removed,
                "cooling": self.cooling}


def diff(before: Facility, after: Facility) -> Changes:
    """The changes that turn `before` into `after` (racks by system and cap, devices, hall cooling)."""
    out = Changes()
    counts = [_rack_counts(f) for f in (before, after)]
    for key in sorted(set(counts[0]) | set(counts[1]), key=lambda k: (k[0], -k[1])):
        a, b = counts[0].get(key, 0), counts[1].get(key, 0)
        if a != b:
            out.racks.append({"system": key[0], "cap_w": key[1], "before": a, "after": b})
    devices = [_devices(f) for f in (before, after)]
    for node, (kind, kw) in devices[0].items():
        if node not in devices[1]:
            out.removed.append({"id": node, "kind": kind, "rating_kw": kw})
        elif abs(devices[1][node][1] - kw) > RTOL * max(abs(kw), 1.0):
            out.rerated.append({"id": node, "kind": kind, "before_kw": kw, "after_kw": devices[1][node][1]})
    out.added = [{"id": n, "kind": k, "rating_kw": kw} for n, (k, kw) in devices[1].items() if n not in devices[0]]
    halls = [f.table("hall") for f in (before, after)]
    for hall in halls[0].index.intersection(halls[1].index):
        a, b = halls[0].at[hall, "cooling"], halls[1].at[hall, "cooling"]
        if a != b:
            out.cooling.append({"hall": str(hall), "before": a, "after": b})
    return out


def _rack_counts(facility: Facility) -> dict[tuple[str, float], int]:
    racks = facility.table("rack")
    used = racks[racks["system"].notna()]
    if used.empty:
        return {}
    return {(str(s), float(c)): int(n) for (s, c), n in used.groupby(["system", "cap_w"]).size().items()}


def _devices(facility: Facility) -> dict[str, tuple[str, float]]:
    graph = facility.graph
    return {n: (a["kind"], float(a.get("rating_kw") or 0.0)) for n, a in graph.nodes(data=True)
            if a.get("kind") in DEVICE_KINDS}


__all__ = ["Changes", "diff"]
