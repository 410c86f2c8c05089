"""On-site energy: batteries and generators as graph devices (kinds `battery`, `generator`), their ratings,
energy, efficiency, ramp, fuel and emissions with sourced defaults (`twin/data/onsite.yaml`), aggregated behind
the meter for dispatch, and how long they carry the racks when the grid is lost (`twin.onsite.ride_through`, in the N-1 scan).

Device attributes (all optional except `rating_kw`): battery `energy_kwh` (default rating x 4 h),
`round_trip_efficiency`, `soc_min`; generator `fuel_l_per_kwh`, `fuel_usd_per_l`, `co2_kg_per_l`, `start_s`,
`fuel_l` (tank; unlimited when absent).

>>> import twin
>>> f = twin.Facility("bess", grid_limit_mw=1)
>>> f.add_device("grid", "grid", rating_kw=1000)
>>> f.add_device("bess-1", "battery", rating_kw=500)
>>> s, g = behind_the_meter(f)
>>> s.energy_kwh, round(s.charge_efficiency ** 2, 3), g.rating_kw
(2000.0, 0.85, 0.0)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.errors import GraphError

if TYPE_CHECKING:
    import pandas as pd

    from twin.facility import Facility

KINDS = ("battery", "generator")


@dataclass
class Storage:
    """A battery behind the site meter: energy, power in and out, one-way efficiencies, reserve, wear cost."""

    energy_kwh: float = 0.0
    charge_kw: float = 0.0
    discharge_kw: float = 0.0
    charge_efficiency: float = 1.0
    discharge_efficiency: float = 1.0
    soc_start: float = 0.5             # fraction of energy_kwh at the start; the end must hold at least as much
    soc_min: float = 0.0               # fraction kept in reserve (ride-through)
    wear_usd_per_kwh: float = 0.0      # per kWh discharged


@dataclass
class Generator:
    """On-site generation behind the meter: rating, cost and emissions per kWh, ramp per hour."""

    rating_kw: float = 0.0
    cost_usd_per_kwh: float = 0.0
    co2_kg_per_kwh: float = 0.0
    ramp_kw_per_h: float = float("inf")


@functools.lru_cache(maxsize=1)
def defaults() -> dict[str, dict[str, float]]:
    """{kind: {attribute: default value}} from the packaged data file."""
    import yaml

    raw = yaml.safe_load(resources.files("twin").joinpath("data/onsite.yaml").read_text(encoding="utf-8"))
    return {kind: {k: float(v["value"]) for k, v in attrs.items()} for kind, attrs in raw.items()}


def table(facility: Facility) -> pd.DataFrame:
    """Batteries and generators with every attribute resolved (device value, else the sourced default)."""
    import pandas as pd

    d = defaults()
    rows = []
    found = [(n, a) for n, a in facility.graph.nodes(data=True) if a.get("kind") in KINDS]    # one pass over the graph
    for kind in KINDS:
        for node, attrs in found:
            if attrs.get("kind") != kind:
                continue
            rating = _positive(attrs.get("rating_kw"), node, "rating_kw")
            row = {"id": node, "kind": kind, "rating_kw": rating}
            if kind == "battery":
                energy = attrs.get("energy_kwh", rating * d["battery"]["duration_h"])
                row.update(energy_kwh=_positive(energy, node, "energy_kwh"),
                           round_trip_efficiency=_share(attrs.get("round_trip_efficiency", d["battery"]["round_trip_efficiency"]), node, "round_trip_efficiency"),
                           soc_min=_share(attrs.get("soc_min", d["battery"]["soc_min"]), node, "soc_min", zero=True),
                           response_s=d["battery"]["response_s"])
            else:
                g = d["generator"]
                fuel = _positive(attrs.get("fuel_l_per_kwh", g["fuel_l_per_kwh"]), node, "fuel_l_per_kwh")
                co2 = _positive(attrs.get("co2_kg_per_l", g["co2_kg_per_l"]), node, "co2_kg_per_l", zero=True)
                usd = _positive(attrs.get("fuel_usd_per_l", g["fuel_usd_per_l"]), node, "fuel_usd_per_l", zero=True)
                tank = attrs.get("fuel_l")
                row.update(fuel_l_per_kwh=fuel, co2_kg_per_kwh=fuel * co2, cost_usd_per_kwh=fuel * usd,
                           start_s=_positive(attrs.get("start_s", g["start_s"]), node, "start_s", zero=True),
                           ramp_kw_per_min=rating * g["ramp_share_per_min"],
                           fuel_l=np.inf if tank is None else _positive(tank, node, "fuel_l", zero=True))
            rows.append(row)
    return pd.DataFrame(rows).set_index("id") if rows else pd.DataFrame(columns=["kind", "rating_kw"]).rename_axis("id")


def behind_the_meter(facility: Facility) -> tuple[Storage, Generator]:
    """All batteries as one Storage and all generators as one Generator at the site meter (assumption: the
    dispatch does not route their power through the chain; their kW offset grid import one for one)."""
    t = table(facility)
    bat = t[t["kind"] == "battery"] if len(t) else t
    gen = t[t["kind"] == "generator"] if len(t) else t
    storage = Storage()
    if len(bat):
        energy = float(bat["energy_kwh"].sum())
        eta = float((bat["round_trip_efficiency"] * bat["energy_kwh"]).sum() / energy) ** 0.5
        storage = Storage(energy_kwh=energy, charge_kw=float(bat["rating_kw"].sum()), discharge_kw=float(bat["rating_kw"].sum()),
                          charge_efficiency=eta, discharge_efficiency=eta,
                          soc_min=float((bat["soc_min"] * bat["energy_kwh"]).sum() / energy))
    generator = Generator()
    if len(gen):
        kw = float(gen["rating_kw"].sum())
        generator = Generator(rating_kw=kw, cost_usd_per_kwh=float((gen["cost_usd_per_kwh"] * gen["rating_kw"]).sum() / kw),
                              co2_kg_per_kwh=float((gen["co2_kg_per_kwh"] * gen["rating_kw"]).sum() / kw),
                              ramp_kw_per_h=float(gen["ramp_kw_per_min"].sum()) * 60.0)
    return storage, generator


def _positive(value: Any, node: str, name: str, zero: bool = False) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and np.isfinite(value) \
        and (value >= 0 if zero else value > 0)
    if not ok and not (name == "fuel_l" and value == np.inf):
        raise GraphError(f"{node}: {name}={value!r} must be a finite number {'>=' if zero else '>'} 0")
    return float(value)


def _share(value: Any, node: str, name: str, zero: bool = False) -> float:
    v = _positive(value, node, name, zero)
    if v > 1:
        raise GraphError(f"{node}: {name}={value!r} must be at most 1 (a fraction)")
    return v


__all__ = ["Storage", "Generator", "defaults", "table", "behind_the_meter", "KINDS"]
