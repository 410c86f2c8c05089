"""The mapping file: which measured series is which variable of which graph node, and how to read its clock.

```yaml
timezone: America/Phoenix        # IANA zone of timestamps written without one (DST changes handled);
                                 # omitted: such timestamps are the site's standard time
dayfirst: false                  # 03/04/2025 is 3 April when true
hosts:                           # GPU hosts (DCGM/Prometheus Hostname, nvidia-smi file name) -> rack
  gpu-a01: hall-a/row-01/rack-01
gpus: {GPU-5e1f...: hall-a/row-01/rack-02}     # single GPUs by UUID (win over hosts)
points:                          # BMS points, Redfish property paths, Prometheus metrics
  MAIN-SWBD.KW: grid_power_kw                   # a facility variable
  OAT: {variable: dry_bulb_c, unit: degF}       # unit when the export gives none
  CDU-A3.PUMP.KW: {variable: device_power_kw, node: cdu-a3}
  rack_pdu_power_watts: {variable: rack_power_kw, node_label: rack}   # node id from a label
patterns:                        # regular expressions over point names; {group} fills the node id
  - {match: '^R(?P<row>\\d\\d)-(?P<rack>\\d\\d)\\.KW$', variable: rack_power_kw, node: 'hall-a/row-{row}/rack-{rack}'}
clock_offsets_s: {gpu-a07: 42}   # seconds a source's clock runs ahead (host, point or file name)
```
Several series mapped to one (variable, node) combine: power adds up (PSUs of a rack, GPUs of a rack),
utilization, temperatures and clocks average (GPU temperatures: the hottest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping as MappingType

import numpy as np

from twin import yamlsafe
from twin.errors import did_you_mean
from twin.telemetry import units
from twin.telemetry.errors import TelemetryError
from twin.telemetry.variables import VARIABLES, kind_of

if TYPE_CHECKING:
    from twin.facility import Facility
    from twin.telemetry.readings import Readings

TOP_KEYS = ("format", "timezone", "dayfirst", "hosts", "gpus", "points", "patterns", "clock_offsets_s", "note")
RULE_KEYS = ("variable", "node", "unit", "node_label", "labels", "match")


@dataclass(frozen=True)
class Rule:
    """Where a series goes: variable, node (fixed, from a label, or a pattern template), declared unit."""

    variable: str
    node: str | None = None
    unit: str | None = None
    node_label: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    pattern: re.Pattern | None = None
    line: int | None = None


@dataclass
class Mapping:
    """A parsed mapping file (see the module docstring for the format)."""

    origin: str = "<no mapping>"
    timezone: str | None = None
    dayfirst: bool = False
    hosts: dict[str, str] = field(default_factory=dict)
    gpus: dict[str, str] = field(default_factory=dict)
    points: dict[str, Rule] = field(default_factory=dict)
    patterns: list[Rule] = field(default_factory=list)
    clock_offsets_s: dict[str, float] = field(default_factory=dict)

    def rule(self, point: str, labels: Any) -> tuple[Rule, str | None] | None:
        """The rule a point matches and the node it names (None when unmapped)."""
        labels = labels if isinstance(labels, dict) else {}
        rule = self.points.get(point)
        if rule is not None and all(labels.get(k) == v for k, v in rule.labels):
            return rule, labels.get(rule.node_label) if rule.node_label else rule.node
        for rule in self.patterns:
            m = rule.pattern.search(point)
            if m:
                return rule, rule.node.format(**m.groupdict()) if rule.node else None
        return None


def load(source: str | Path | MappingType[str, Any] | Mapping | None) -> Mapping:
    """A Mapping from a YAML file, a plain dict (same keys) or None (no mapping)."""
    if source is None:
        return Mapping()
    if isinstance(source, Mapping):
        return source
    if isinstance(source, MappingType):
        return _parse(dict(source), "<mapping>", {})
    from twin.fields import line_map
    from twin.telemetry.formats.table import read_text

    text = read_text(source)
    try:
        data = yamlsafe.load(text)
    except yamlsafe.YamlIssue as exc:
        raise TelemetryError(str(source), exc.line, None, exc.problem, exc.fix) from None
    return _parse(data if data is not None else {}, str(source), line_map(text))


def _parse(data: Any, origin: str, lines: dict) -> Mapping:
    def fail(path: tuple, problem: str, fix: str) -> TelemetryError:
        at = path
        while at and at not in lines:
            at = at[:-1]
        name = ".".join(str(p) for p in path) or None
        return TelemetryError(origin, lines.get(at), name, problem, fix)

    if not isinstance(data, dict):
        raise fail((), "the mapping must be a YAML mapping of sections", f"use the sections {', '.join(TOP_KEYS)}")
    for key in data:
        if key not in TOP_KEYS:
            raise fail((key,), f"unknown section {key!r}", did_you_mean(str(key), TOP_KEYS))
    tz = data.get("timezone")
    if tz is not None:
        _check_zone(tz, fail)
    out = Mapping(origin=origin, timezone=tz, dayfirst=bool(data.get("dayfirst", False)))
    for section in ("hosts", "gpus"):
        table = data.get(section) or {}
        if not isinstance(table, dict):
            raise fail((section,), "expected `name: rack-id` lines", "write one `host: rack` per line")
        for k, v in table.items():
            if not isinstance(v, str) or not v:
                raise fail((section, k), f"rack id {v!r} is not text", "give the rack's node id")
        getattr(out, section).update({str(k): v for k, v in table.items()})
    points = data.get("points") or {}
    if not isinstance(points, dict):
        raise fail(("points",), "expected `point name: variable` or `point name: {variable: ..., node: ...}`",
                   "write one point per line")
    for name, spec in points.items():
        out.points[str(name)] = _rule(spec, ("points", name), fail, lines)
    patterns = data.get("patterns") or []
    if not isinstance(patterns, list):
        raise fail(("patterns",), "expected a list of {match, variable, node}", "write `- {match: ..., variable: ...}`")
    for i, spec in enumerate(patterns):
        if not isinstance(spec, dict) or not isinstance(spec.get("match"), str):
            raise fail(("patterns", i), "a pattern needs `match` (a regular expression)", "add match: '...'")
        try:
            regex = re.compile(spec["match"])
        except re.error as exc:
            raise fail(("patterns", i, "match"), f"invalid regular expression ({exc})", "fix the expression") from None
        rule = _rule(spec, ("patterns", i), fail, lines)
        if rule.node:
            unknown = set(re.findall(r"{(\w+)}", rule.node)) - set(regex.groupindex)
            if unknown:
                raise fail(("patterns", i, "node"), f"template names group {sorted(unknown)[0]!r}, which `match` lacks",
                           "name the group in the expression: (?P<rack>...)")
        out.patterns.append(Rule(**{**rule.__dict__, "pattern": regex}))
    offsets = data.get("clock_offsets_s") or {}
    if not isinstance(offsets, dict):
        raise fail(("clock_offsets_s",), "expected `source: seconds` lines", "write one source per line")
    for k, v in offsets.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise fail(("clock_offsets_s", k), f"offset {v!r} is not a number of seconds", "write seconds (ahead > 0)")
        out.clock_offsets_s[str(k)] = float(v)
    return out


def _check_zone(tz: Any, fail) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise fail(("timezone",), f"unknown time zone {tz!r}", "give an IANA zone such as America/Phoenix or Europe/Berlin") from None


def _rule(spec: Any, path: tuple, fail, lines: dict) -> Rule:
    if isinstance(spec, str):
        spec = {"variable": spec}
    if not isinstance(spec, dict):
        raise fail(path, f"expected a variable name or a mapping, got {spec!r}", "write `{variable: ..., node: ...}`")
    for key in spec:
        if key not in RULE_KEYS or (key == "match" and path[0] != "patterns"):
            raise fail(path + (key,), f"unknown field {key!r}", did_you_mean(str(key), RULE_KEYS))
    var = spec.get("variable")
    if var not in VARIABLES:
        raise fail(path + ("variable",), f"unknown variable {var!r}", did_you_mean(str(var), VARIABLES))
    unit = spec.get("unit")
    if unit is not None:
        why = units.problem(unit, VARIABLES[var].dimension)
        if why:
            raise fail(path + ("unit",), why, f"give a unit of {VARIABLES[var].dimension}")
    node, label = spec.get("node"), spec.get("node_label")
    kind = kind_of(var)
    if kind == "facility" and (node or label):
        raise fail(path + ("node",), f"{var} is a facility total; it takes no node", "drop `node`")
    if kind != "facility" and not (node or label):
        raise fail(path, f"{var} is measured per {kind}; say which", f"add `node: <{kind} id>` or `node_label: <label>`")
    labels = spec.get("labels") or {}
    if not isinstance(labels, dict):
        raise fail(path + ("labels",), "expected `label: value` pairs", "write labels: {job: dcgm}")
    at = path
    while at and at not in lines:
        at = at[:-1]
    return Rule(variable=var, node=str(node) if node else None, unit=str(unit) if unit is not None else None,
                node_label=str(label) if label else None, labels=tuple((str(k), str(v)) for k, v in labels.items()),
                line=lines.get(at))


@dataclass
class Resolved:
    """Per source of one Readings: variable, node, conversion to the variable's unit (y = a x + b), clock offset."""

    variable: np.ndarray
    node: np.ndarray
    a: np.ndarray
    b: np.ndarray
    offset_s: np.ndarray
    unmapped: list[str]


def resolve(readings: Readings, mapping: Mapping, facility: Facility | None = None) -> Resolved:
    """Assign every source of `readings` to a (variable, node) and its unit conversion, or list it as unmapped."""
    src = readings.sources
    n = len(src)
    variable = np.full(n, "", dtype=object)
    node = np.full(n, "", dtype=object)
    a, b = np.ones(n), np.zeros(n)
    offset = np.zeros(n)
    unmapped: list[str] = []
    first_line = readings.first_lines()
    known = _known_nodes(facility)
    file_offset = mapping.clock_offsets_s.get(Path(readings.file).name, mapping.clock_offsets_s.get(Path(readings.file).stem))
    from twin.telemetry.variables import GPU_FIELDS

    for i, row in enumerate(src.itertuples(index=False)):
        declared = None
        if row.field:
            var = GPU_FIELDS[row.field][0]
            rack = mapping.gpus.get(row.uuid) if row.uuid else None
            rack = rack or mapping.hosts.get(row.host)
            if rack is None and (facility is None or row.host in known["rack"]):
                rack = row.host
            if rack is None:
                unmapped.append(f"host {row.host!r}")
                continue
            target, where = rack, None
        else:
            hit = mapping.rule(row.point, row.labels)
            if hit is None:
                unmapped.append(f"point {row.point!r}")
                continue
            rule, target = hit
            var, declared, where = rule.variable, rule.unit, rule
            if kind_of(var) != "facility" and not target:
                raise TelemetryError(readings.file, int(first_line[i]), row.point,
                                     f"label {rule.node_label!r} is missing, so the {kind_of(var)} is unknown",
                                     f"add the label, or give `node:` in {mapping.origin}")
        kind = kind_of(var)
        if facility is not None and kind != "facility" and target not in known[kind]:
            hint = did_you_mean(str(target), known[kind]) if known[kind] else f"the facility has no {kind}s"
            line = where.line if where is not None else None
            raise TelemetryError(mapping.origin if line else readings.file, line or int(first_line[i]),
                                 row.point or row.host, f"{target!r} is not a {kind} of facility {facility.name!r}", hint)
        unit = row.unit or declared
        if row.unit and declared and units.normalize(row.unit) != units.normalize(declared):
            raise TelemetryError(readings.file, int(first_line[i]), row.point or row.field,
                                 f"the file says unit {row.unit!r} but {mapping.origin} declares {declared!r}",
                                 "drop the unit from the mapping or correct the export")
        if not unit:
            raise TelemetryError(readings.file, int(first_line[i]), row.point or row.field,
                                 f"no unit for {var} (the export gives none)",
                                 f"declare it in the mapping: unit: {VARIABLES[var].unit}")
        why = units.problem(unit, VARIABLES[var].dimension)
        if why:
            raise TelemetryError(readings.file, int(first_line[i]), row.point or row.field, f"{why} (mapped to {var})",
                                 f"export {var} in units of {VARIABLES[var].dimension} ({VARIABLES[var].unit})")
        a[i], b[i] = units.factor(unit, VARIABLES[var].unit)
        variable[i], node[i] = var, target if kind != "facility" else ""
        own = mapping.clock_offsets_s.get(row.host) if row.host else mapping.clock_offsets_s.get(row.point)
        offset[i] = own if own is not None else (file_offset or 0.0)
    return Resolved(variable, node, a, b, offset, unmapped)


def _known_nodes(facility: Facility | None) -> dict[str, set[str]]:
    if facility is None:
        return {"rack": set(), "device": set()}
    from twin.graph import DEVICE_KINDS

    racks = facility.table("rack")
    populated = racks.index[racks["nodes"].fillna(0).astype(float) > 0] if "nodes" in racks else racks.index
    devices = {n for n, d in facility.graph.nodes(data=True) if d.get("kind") in DEVICE_KINDS}
    return {"rack": set(map(str, populated)), "device": devices}


__all__ = ["Mapping", "Rule", "Resolved", "load", "resolve"]
