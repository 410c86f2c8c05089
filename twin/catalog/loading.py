"""Reading catalog files: YAML parsing, field coercion and validation, field-wise merging of overrides.

Every error names the file, the section, the entry id and the field, so a user can fix their file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from twin import yamlsafe
from twin.catalog.entries import (
    ENTRY_TYPES, EVIDENCE_TAGS, CoolingTech, Entry, HeatRejection, PowerCapCurve, PowerEquipment, Spec, System,
)
from twin.errors import CatalogError, did_you_mean

THROUGHPUT = "throughput"
SECTIONS = (*ENTRY_TYPES, THROUGHPUT)
_COMMON = ("id", "name", "source", "evidence", "provenance", "note")


@dataclass
class Raw:
    """One entry as read (plain YAML values) and, per field, the file it came from."""

    data: dict[str, Any]
    origins: dict[str, str]


def parse_yaml(text: str, origin: str) -> dict[str, Any]:
    """Parse one catalog YAML document; syntax errors name the file and line."""
    try:
        doc = yamlsafe.load(text)
    except yamlsafe.YamlIssue as exc:
        line = f" at line {exc.line}" if exc.line else ""
        raise CatalogError(f"catalog file {origin}: YAML syntax error{line}: {exc.problem}; {exc.fix}") from None
    return check_doc({} if doc is None else doc, origin)


def check_doc(doc: Any, origin: str) -> dict[str, Any]:
    """A catalog document is a mapping of known section names."""
    if not isinstance(doc, dict):
        raise CatalogError(f"catalog file {origin}: expected a mapping of sections ({', '.join(SECTIONS)}), "
                           f"got {type(doc).__name__}")
    for key in doc:
        if key not in SECTIONS:
            raise CatalogError(f"catalog file {origin}: unknown section {key!r}; {did_you_mean(str(key), SECTIONS)}")
    return doc


def section_items(doc: Mapping[str, Any], section: str, origin: str) -> list[dict[str, Any]]:
    """The entries of one section, as a list of mappings; a mapping id -> entry is accepted too."""
    items = doc.get(section) or []
    if isinstance(items, dict):
        items = [{"id": k, **(v or {})} for k, v in items.items()]
    if not isinstance(items, list):
        raise CatalogError(f"catalog file {origin}, section {section!r}: expected a list of entries")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise CatalogError(f"catalog file {origin}, section {section!r}, item {i + 1}: expected a mapping")
        if not isinstance(item.get("id"), str) or not item["id"].strip():
            raise CatalogError(f"catalog file {origin}, section {section!r}, item {i + 1}, field 'id': "
                               "every entry needs a non-empty string id")
    return items


def _where(origin: str, section: str, ident: str, name: str) -> str:
    return f"catalog file {origin}, section {section!r}, id {ident!r}, field {name!r}"


def normalize_source(value: Any, where: str) -> tuple[str, ...]:
    """A source is one string or a list of strings (URLs or citations); never empty."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise CatalogError(f"{where}: missing source; give one or more URLs or citations")
    out = tuple(str(s).strip() for s in items if s is not None and str(s).strip())
    if len(out) != len(items):
        raise CatalogError(f"{where}: empty source item; give one or more URLs or citations")
    return out


def check_evidence(value: Any, where: str) -> str:
    if value not in EVIDENCE_TAGS:
        raise CatalogError(f"{where}: evidence {value!r} is not a known tag; "
                           f"use one of {', '.join(sorted(EVIDENCE_TAGS))}")
    return value


def check_record(rec: Any, where: str) -> dict[str, str]:
    """Validate a provenance record: evidence tag, source, and a note when the value is an assumption."""
    if not isinstance(rec, dict):
        raise CatalogError(f"{where}: provenance record must be a mapping with evidence, source and note")
    unknown = set(rec) - {"evidence", "source", "note"}
    if unknown:
        raise CatalogError(f"{where}: unknown provenance key {sorted(unknown)[0]!r}; use evidence, source, note")
    evidence = check_evidence(rec.get("evidence"), where + " (provenance evidence)")
    source = " ".join(normalize_source(rec.get("source"), where + " (provenance source)"))
    note = str(rec.get("note") or "").strip()
    if evidence == "assumption" and not note:
        raise CatalogError(f"{where}: provenance record says 'assumption' but gives no one-line rationale in 'note'")
    return {"evidence": evidence, "source": source, "note": note}


def _number(value: Any, spec: Spec, where: str, integral: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CatalogError(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value) or not spec.lo <= value <= spec.hi:
        raise CatalogError(f"{where}: {value!r} is outside the sane range {spec.lo:g}..{spec.hi:g}")
    if integral:
        if int(value) != value:
            raise CatalogError(f"{where}: expected a whole number, got {value!r}")
        return int(value)
    return float(value)


def coerce(spec: Spec, value: Any, where: str) -> Any:
    """Turn a YAML value into the field's type, checking its kind and range."""
    if value is None:
        if spec.optional:
            return MappingProxyType({}) if spec.kind == "nummap" else None
        raise CatalogError(f"{where}: missing value")
    kind = spec.kind
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{where}: expected a non-empty string, got {value!r}")
        return value.strip()
    if kind == "choice":
        if value not in spec.choices:
            raise CatalogError(f"{where}: {value!r} is not one of {', '.join(spec.choices)}")
        return value
    if kind in ("num", "int"):
        return _number(value, spec, where, integral=kind == "int")
    if kind in ("ints", "ids"):
        items = value if isinstance(value, (list, tuple)) else [value]
        if not items:
            raise CatalogError(f"{where}: expected at least one value")
        if kind == "ids":
            return tuple(coerce(Spec("text"), v, where) for v in items)
        return tuple(_number(v, spec, where, integral=True) for v in items)
    if kind == "nummap":
        if not isinstance(value, dict):
            raise CatalogError(f"{where}: expected a mapping of names to numbers, got {value!r}")
        return MappingProxyType({str(k): _number(v, spec, f"{where}[{k!r}]") for k, v in value.items()})
    if kind == "curve":
        return _curve(value, spec, where)
    raise AssertionError(kind)


def _curve(value: Any, spec: Spec, where: str) -> tuple[tuple[float, float], ...]:
    """Points (x, y): x strictly increasing within [0, 1], y within [spec.lo, spec.hi]."""
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise CatalogError(f"{where}: expected at least two [x, y] points")
    pts = []
    for p in value:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise CatalogError(f"{where}: point {p!r} is not an [x, y] pair")
        x = _number(p[0], Spec("num", 0.0, 1.0), f"{where} x")
        y = _number(p[1], spec, f"{where} y")
        pts.append((x, y))
    xs = [x for x, _ in pts]
    if any(b <= a for a, b in zip(xs, xs[1:])):
        raise CatalogError(f"{where}: x values {xs} must be strictly increasing")
    return tuple(pts)


def build_entry(cls: type[Entry], raw: Raw, section: str) -> Entry:
    """Validate one raw entry against its class schema and build the frozen dataclass."""
    data, origins = raw.data, raw.origins
    ident = data["id"]

    def where(name: str) -> str:
        return _where(origins.get(name, origins.get("id", "?")), section, ident, name)

    allowed = set(_COMMON) | set(cls.SCHEMA)
    for key in data:
        if key not in allowed:
            raise CatalogError(f"{where(key)}: unknown field; {did_you_mean(key, allowed)}")
    kwargs: dict[str, Any] = {"id": ident}
    kwargs["name"] = coerce(Spec("text"), data.get("name", ident), where("name"))
    kwargs["source"] = normalize_source(data.get("source"), where("source"))
    kwargs["evidence"] = check_evidence(data.get("evidence"), where("evidence"))
    kwargs["note"] = str(data.get("note") or "").strip()
    if kwargs["evidence"] == "assumption" and not kwargs["note"]:
        raise CatalogError(f"{where('note')}: an entry whose evidence is 'assumption' needs a rationale in 'note'")
    prov = data.get("provenance") or {}
    if not isinstance(prov, dict):
        raise CatalogError(f"{where('provenance')}: expected a mapping field -> {{evidence, source, note}}")
    records = {}
    for name, rec in prov.items():
        if str(name).split(".")[0] not in cls.SCHEMA:
            raise CatalogError(f"{where('provenance')}: record for unknown field {name!r}; "
                               f"{did_you_mean(str(name), cls.SCHEMA)}")
        records[str(name)] = MappingProxyType(check_record(rec, where(str(name))))
    kwargs["provenance"] = MappingProxyType(records)
    for name, spec in cls.SCHEMA.items():
        if name not in data and not spec.optional:
            raise CatalogError(f"{where(name)}: missing field (every {section} entry needs it)")
        kwargs[name] = coerce(spec, data.get(name), where(name))
    if kwargs.get("throughput_system", ident) is None:
        kwargs["throughput_system"] = ident  # a system's curves are its own unless it says otherwise
    entry = cls(**kwargs)
    check_entry(entry, where)
    return entry


def check_entry(entry: Entry, where: Any) -> None:
    """Rules that involve more than one field of the same entry."""
    if isinstance(entry, System):
        if entry.gpu_idle_w >= entry.gpu_tdp_w:
            raise CatalogError(f"{where('gpu_idle_w')}: idle power {entry.gpu_idle_w:g} W must be below "
                               f"the TDP {entry.gpu_tdp_w:g} W")
        if entry.gpu_full_load_w is not None and not entry.gpu_idle_w < entry.gpu_full_load_w <= entry.gpu_tdp_w:
            raise CatalogError(f"{where('gpu_full_load_w')}: full-load power {entry.gpu_full_load_w:g} W must lie "
                               f"above the idle power {entry.gpu_idle_w:g} W and at most the TDP {entry.gpu_tdp_w:g} W")
        if entry.throughput_system != entry.id and not entry.throughput_multiplier:
            raise CatalogError(f"{where('throughput_multiplier')}: curves derived from "
                               f"{entry.throughput_system!r} need a multiplier per precision (or '*')")
    if isinstance(entry, HeatRejection):
        cop_fields = ("cop_rated", "cop_rated_condenser_c", "cop_rated_supply_c", "cop_slope_per_c")
        given = [getattr(entry, f) is not None for f in cop_fields]
        if entry.kind == "chiller" and not all(given):
            missing = cop_fields[given.index(False)]
            raise CatalogError(f"{where(missing)}: a chiller needs {', '.join(cop_fields)}")
    if isinstance(entry, CoolingTech) and entry.fan_pressure_pa is not None:
        if entry.fan_efficiency is None or entry.air_dt_c is None:
            raise CatalogError(f"{where('fan_pressure_pa')}: give fan_pressure_pa, fan_efficiency and air_dt_c together")
        derived = entry.fan_kw_per_kw()
        if abs(derived - entry.unit_power_kw_per_kw) > 0.02 * entry.unit_power_kw_per_kw:
            raise CatalogError(f"{where('unit_power_kw_per_kw')}: {entry.unit_power_kw_per_kw:g} kW/kW disagrees with "
                               f"its fan figures dp / (eta rho cp dT) = {derived:.4f}; make them agree")
    if isinstance(entry, HeatRejection) and entry.eir_part_load:
        k = entry.eir_part_load
        if set(k) - {"a", "b", "c", "min_plr"} or not {"a", "b", "c"} <= set(k):
            raise CatalogError(f"{where('eir_part_load')}: give a, b, c (EIR-fPLR = a + b PLR + c PLR^2) and "
                               f"optionally min_plr, got {sorted(k)}")
        if abs(k["a"] + k["b"] + k["c"] - 1.0) > 1e-3:
            raise CatalogError(f"{where('eir_part_load')}: a + b + c = {k['a'] + k['b'] + k['c']:.4f}; the curve "
                               "must equal 1 at full load (PLR 1)")
    if isinstance(entry, PowerEquipment) and (entry.efficiency_curve is None) == (entry.load_loss_fraction is None):
        raise CatalogError(f"{where('load_loss_fraction')}: give either loss terms (fixed_loss_fraction, "
                           "load_loss_fraction, optional proportional_loss_fraction) or an efficiency_curve, not both")
    if isinstance(entry, PowerCapCurve):
        _check_cap_curve(entry, where)


def _check_cap_curve(entry: Any, where: Any) -> None:
    xs = [x for x, _ in entry.points]
    ys = [y for _, y in entry.points]
    if abs(xs[-1] - 1.0) > 1e-9 or abs(ys[-1] - 1.0) > 1e-9:
        raise CatalogError(f"{where('points')}: the last point must be [1.0, 1.0] (full throughput at TDP)")
    if entry.min_cap_fraction < xs[0] - 1e-9:
        raise CatalogError(f"{where('min_cap_fraction')}: {entry.min_cap_fraction:g} is below the first "
                           f"point {xs[0]:g}; the curve would be extrapolated")
    slopes = [(y1 - y0) / (x1 - x0) for (x0, y0), (x1, y1) in zip(entry.points, entry.points[1:])]
    if any(s < -1e-12 for s in slopes) or any(b > a + 1e-9 for a, b in zip(slopes, slopes[1:])):
        raise CatalogError(f"{where('points')}: throughput must rise with the cap and be concave "
                           f"(slopes {[round(s, 3) for s in slopes]} must not increase)")


def merge(base: Raw | None, item: dict[str, Any], section: str, origin: str) -> Raw:
    """A new entry, or `item` merged field-wise over `base`; overridden fields get the item's provenance."""
    ident = item["id"]
    for key in ("source", "evidence"):
        if item.get(key) in (None, "", []):
            raise CatalogError(f"{_where(origin, section, ident, key)}: missing {key}; every user entry "
                               "(new or override) must say where its numbers come from")
    if base is None:
        return Raw(dict(item), {k: origin for k in item})
    data, origins = dict(base.data), dict(base.origins)
    prov = dict(data.get("provenance") or {})
    record = {"evidence": item["evidence"], "source": item["source"], "note": f"user override from {origin}"}
    for key, value in item.items():
        if key in ("id", "source", "evidence", "provenance"):
            continue
        data[key] = value
        origins[key] = origin
        if key not in ("name", "note"):
            prov = {k: v for k, v in prov.items() if k.split(".")[0] != key}
            prov[key] = record
    prov.update(item.get("provenance") or {})
    data["provenance"] = prov
    origins["provenance"] = origin
    return Raw(data, origins)


def merge_all(raw: dict[str, dict[str, Raw]], doc: Mapping[str, Any], origin: str, rows: list) -> None:
    """Merge every section of one parsed document into `raw` (in place); throughput rows go to `rows`."""
    for section in ENTRY_TYPES:
        seen: set[str] = set()
        for item in section_items(doc, section, origin):
            if item["id"] in seen:
                raise CatalogError(f"catalog file {origin}, section {section!r}: duplicate id {item['id']!r}")
            seen.add(item["id"])
            store = raw.setdefault(section, {})
            store[item["id"]] = merge(store.get(item["id"]), item, section, origin)
    if doc.get(THROUGHPUT):
        items = doc[THROUGHPUT]
        if not isinstance(items, list):
            raise CatalogError(f"catalog file {origin}, section 'throughput': expected a list of rows")
        rows.append((items, origin))
