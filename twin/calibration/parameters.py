"""Calibration parameters: each one a catalog field, named `section.id.field`, with its bounds.

Any numeric catalog field can be fitted (`systems.gb200_nvl72.gpu_idle_w`, `cooling.dlc.unit_power_kw_per_kw`,
`heat_rejection.dry_cooler.fan_pump_kw_per_kw`, `heat_rejection.chiller_air_cooled.cop_rated`, ...), so the
fit follows the physics as its coefficients change. Two curve fields are fitted through one number each:
`power_equipment.<id>.efficiency_curve` scales the curve's losses (efficiency' = 1 - k x (1 - efficiency)),
and `power_cap_curves.<id>.points` is the power law throughput = cap_fraction ** exponent at the curve's caps.
Shorthands expand to every system of the facility's populated racks: `gpu.idle_w`, `gpu.full_load_w`,
`node.overhead_w`, `rack.overhead_w`.

Default bounds: the field's catalog range intersected with 0.25x..4x its current value; idle power within
0..60 % of the TDP and full-load power within 30..100 % of it (a full-load draw below the idle draw is
lifted to 1 W above it during the fit); give `{name: (low, high)}` to choose others.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np

from twin.catalog.entries import ENTRY_TYPES
from twin.errors import did_you_mean
from twin.physics import PhysicsError

if TYPE_CHECKING:
    from twin.catalog import Catalog
    from twin.facility import Facility

SHORTHANDS = {"gpu.idle_w": "gpu_idle_w", "gpu.full_load_w": "gpu_full_load_w", "node.overhead_w": "node_overhead_w",
              "rack.overhead_w": "rack_overhead_w"}
CURVE_FORMS = {("power_equipment", "efficiency_curve"): "loss_scale", ("power_cap_curves", "points"): "exponent"}
UNITS = {"_w": "W", "_kw": "kW", "_c": "degC", "_kw_per_kw": "1", "_per_c": "K-1", "_l_per_kwh": "L kWh-1"}


class CalibrationError(PhysicsError):
    """A calibration request is unusable: unknown parameter, bad bounds, nothing to fit against."""


@dataclass(frozen=True)
class Parameter:
    """One fitted quantity: the catalog field it sets, how (value, loss_scale, exponent), start and bounds."""

    name: str
    section: str
    ident: str
    field: str
    form: str
    initial: float
    lower: float
    upper: float

    @property
    def unit(self) -> str:
        if self.form != "value":
            return "1"
        for suffix, unit in sorted(UNITS.items(), key=lambda kv: -len(kv[0])):
            if self.field.endswith(suffix):
                return unit
        return "1"


def entries(catalog: Catalog, section: str) -> Mapping[str, Any]:
    """The entries of one catalog section by its file name (systems, cooling, heat_rejection, ...)."""
    return {"systems": catalog.systems, "cooling": catalog.cooling, "power_equipment": catalog.power_equipment,
            "heat_rejection": catalog.heat_rejection_units, "tiers": catalog.tiers,
            "power_cap_curves": catalog.power_cap_curves}[section]


def _systems(facility: Facility) -> list[str]:
    racks = facility.table("rack")
    racks = racks[racks["system"].notna() & (racks["gpus"] > 0)]
    return list(dict.fromkeys(racks["system"].astype(str)))


def expand(names: Iterable[str] | Mapping[str, Any], facility: Facility) -> list[tuple[str, Any]]:
    """(full name, bounds or None) for each requested parameter, shorthands expanded."""
    items = list(names.items()) if isinstance(names, Mapping) else [(n, None) for n in names]
    out: list[tuple[str, Any]] = []
    for name, bounds in items:
        name = str(name).strip()
        if name in SHORTHANDS:
            out.extend((f"systems.{s}.{SHORTHANDS[name]}", bounds) for s in _systems(facility))
        else:
            out.append((name, bounds))
    seen = set()
    for name, _ in out:
        if name in seen:
            raise CalibrationError(f"parameter {name!r} is asked for twice; name each parameter once")
        seen.add(name)
    if not out:
        raise CalibrationError("no parameters to fit: give names like systems.<id>.gpu_idle_w or gpu.idle_w")
    return out


def parse(names: Iterable[str] | Mapping[str, Any], facility: Facility) -> list[Parameter]:
    """Parameters from names (or a mapping name -> (low, high)), checked against the facility's catalog."""
    catalog = facility.catalog
    params = []
    for name, bounds in expand(names, facility):
        parts = name.split(".")
        if len(parts) != 3:
            raise CalibrationError(f"parameter {name!r}: write section.id.field (e.g. systems.gb200_nvl72.gpu_idle_w) "
                                   f"or one of {', '.join(SHORTHANDS)}")
        section, ident, field = parts
        if section not in ENTRY_TYPES:
            raise CalibrationError(f"parameter {name!r}: unknown catalog section {section!r}; {did_you_mean(section, ENTRY_TYPES)}")
        known = entries(catalog, section)
        if ident not in known:
            raise CalibrationError(f"parameter {name!r}: no {section} entry {ident!r}; {did_you_mean(ident, known)}")
        entry = known[ident]
        spec = type(entry).SCHEMA.get(field)
        form = CURVE_FORMS.get((section, field), "value")
        if spec is None or (form == "value" and spec.kind != "num"):
            numeric = [k for k, s in type(entry).SCHEMA.items() if s.kind == "num" or (section, k) in CURVE_FORMS]
            raise CalibrationError(f"parameter {name!r}: {field!r} is not a numeric field of {section}; "
                                   f"{did_you_mean(field, numeric)}")
        initial, lo, hi = _start(entry, section, field, form, spec)
        if section == "systems" and field == "gpu_idle_w":
            hi = min(hi, _lowest_cap(facility, ident) - 1.0)
        if bounds is not None:
            lo, hi = _bounds(name, bounds)
        if not lo < hi or not lo <= initial <= hi:
            initial = min(max(initial, lo), hi)
            if not lo < hi:
                raise CalibrationError(f"parameter {name!r}: bounds {lo:g}..{hi:g} are empty; give low < high")
        params.append(Parameter(name, section, ident, field, form, float(initial), float(lo), float(hi)))
    return params


def _lowest_cap(facility: Facility, system: str) -> float:
    """The lowest GPU cap among the facility's racks of `system` (idle power must stay below it)."""
    racks = facility.table("rack")
    caps = racks.loc[racks["system"] == system, "cap_w"].astype(float)
    return float(caps.min()) if len(caps) else math.inf


def _bounds(name: str, bounds: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise CalibrationError(f"parameter {name!r}: bounds {bounds!r} must be (low, high) numbers") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise CalibrationError(f"parameter {name!r}: bounds {bounds!r} must be finite")
    return lo, hi


def _start(entry: Any, section: str, field: str, form: str, spec: Any) -> tuple[float, float, float]:
    if form == "loss_scale":
        return 1.0, 0.2, 3.0
    if form == "exponent":
        xs, ys = np.array(entry.points).T
        inner = (xs > 0) & (xs < 1) & (ys > 0)
        a = float(np.sum(np.log(xs[inner]) * np.log(ys[inner])) / np.sum(np.log(xs[inner]) ** 2)) if inner.any() else 0.6
        return min(max(a, 0.05), 1.0), 0.02, 1.0
    if section == "systems" and field == "gpu_full_load_w":
        return entry.full_load_w, 0.3 * entry.gpu_tdp_w, entry.gpu_tdp_w
    value = getattr(entry, field)
    if value is None:
        raise CalibrationError(f"parameter {section}.{entry.id}.{field}: the catalog gives no value to start from")
    if section == "systems" and field == "gpu_idle_w":
        return value, 0.0, 0.6 * entry.gpu_tdp_w
    lo, hi = (0.25 * value, 4.0 * value) if value > 0 else (spec.lo, spec.hi)
    lo, hi = max(lo, spec.lo), min(hi, spec.hi)
    if value == 0 and not math.isfinite(hi):
        hi = 1.0
    return value, lo, hi


def curve_value(entry: Any, param: Parameter, x: float) -> Any:
    """The catalog value a parameter value stands for (a number, or a curve's points)."""
    if param.form == "loss_scale":
        return [[float(a), float(max(0.5, 1.0 - x * (1.0 - e)))] for a, e in entry.efficiency_curve]
    if param.form == "exponent":
        return [[float(c), float(round(c ** x, 6)) if c > 0 else 0.0] for c, _ in entry.points]
    return float(x)


def values(params: list[Parameter], x: np.ndarray, catalog: Catalog) -> dict[tuple[str, str], dict[str, Any]]:
    """(section, id) -> {field: catalog value} for parameter vector x (full-load kept above idle)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for p, v in zip(params, x):
        entry = entries(catalog, p.section)[p.ident]
        out.setdefault((p.section, p.ident), {})[p.field] = curve_value(entry, p, float(v))
    for (section, ident), fields in out.items():
        if section == "systems" and "gpu_full_load_w" in fields:
            entry = catalog.system(ident)
            idle = fields.get("gpu_idle_w", entry.gpu_idle_w)
            fields["gpu_full_load_w"] = min(max(fields["gpu_full_load_w"], idle + 1.0), entry.gpu_tdp_w)
    return out


def overlay(catalog: Catalog, changes: dict[tuple[str, str], dict[str, Any]], source: str) -> Catalog:
    """A catalog with `changes` applied as calibrated overrides."""
    doc: dict[str, list] = {}
    for (section, ident), fields in changes.items():
        doc.setdefault(section, []).append({"id": ident, **fields, "source": source, "evidence": "calibrated"})
    return catalog.extend(doc)


def replaced_systems(catalog: Catalog, changes: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    """System entries with the changed fields swapped in (no catalog rebuild; for the fast rack model)."""
    out = {}
    for (section, ident), fields in changes.items():
        if section == "systems":
            out[ident] = dataclasses.replace(catalog.system(ident), **fields)
    return out


__all__ = ["Parameter", "CalibrationError", "SHORTHANDS", "entries", "expand", "parse", "values", "overlay",
           "replaced_systems", "curve_value"]
