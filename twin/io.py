"""Facility files: blueprint YAML and node-link JSON, read safely and written atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from twin import yamlsafe
from twin.atomic import atomic_output, atomic_path, atomic_write
from twin.errors import BlueprintError
from twin.fields import Doc
from twin.graph import bulk

if TYPE_CHECKING:
    from twin.catalog import Catalog
    from twin.facility import Facility

YAML_SUFFIXES = (".yaml", ".yml")
USD_SUFFIXES = (".usda", ".usdc", ".usd", ".usdz")
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def read_text(path: str | Path) -> str:
    """A file's text, or a BlueprintError saying why it cannot be read."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BlueprintError(f"{path}: cannot read ({exc.strerror or exc}); check the path") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BlueprintError(f"{path}:{line}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None


def parse_yaml(text: str, origin: str) -> tuple[Any, Doc]:
    """Safe-load YAML (bounded aliases, no duplicate keys: `twin.yamlsafe`); problems become BlueprintError
    naming the line."""
    try:
        data = yamlsafe.load(text)
    except yamlsafe.YamlIssue as exc:
        where = f"{origin}:{exc.line}" if exc.line else origin
        raise BlueprintError(f"{where}: {exc.problem}; {exc.fix}") from None
    return data, Doc(origin, text, data)


def load(path: str | Path, *, catalog: Catalog | None = None) -> Facility:
    """Read a facility from a blueprint YAML, a node-link JSON or a USD stage (see `twin.usd`)."""
    from twin import blueprint

    path = Path(path)
    if path.suffix.lower() in USD_SUFFIXES:
        from twin.usd import import_usd

        return import_usd(path, catalog=catalog)
    text = read_text(path)
    if path.suffix.lower() == ".json":
        with bulk():
            return from_node_link(_parse_json(text, str(path)), str(path), catalog=catalog)
    data, doc = parse_yaml(text, str(path))
    with bulk():
        return blueprint.read(data, doc, base_dir=path.parent, catalog=catalog)


def save(facility: Facility, path: str | Path) -> Path:
    """Write YAML (explicit blueprint), JSON (node-link, every node and edge) or USD by the file's suffix."""
    from twin import blueprint

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in USD_SUFFIXES:
        from twin.usd import export_usd

        return export_usd(facility, path)
    if suffix in YAML_SUFFIXES:
        data = blueprint.write(facility)
        return atomic_write(path, lambda fh: yaml.dump(data, fh, Dumper=SAFE_DUMPER, sort_keys=False, width=120))
    if suffix == ".json":
        data = to_node_link(facility)
        return atomic_write(path, lambda fh: json.dump(data, fh, separators=(",", ":"), allow_nan=False))
    raise BlueprintError(f"{path}: unknown file type {suffix!r}; save as .yaml, .yml, .json or .usda/.usdc/.usdz")


def to_node_link(facility: Facility) -> dict[str, Any]:
    """The node-link form: graph attributes, every node with its attributes, every edge with its kind."""
    g = facility.graph
    return {
        "directed": True,
        "multigraph": False,
        "graph": dict(g.graph),
        "nodes": [{"id": n, **d} for n, d in g.nodes(data=True)],
        "edges": [{"source": u, "target": v, **d} for u, v, d in g.edges(data=True)],
    }


def from_node_link(data: Any, origin: str = "<node-link>", *, catalog: Catalog | None = None) -> Facility:
    """Rebuild a facility from node-link data, checking its shape."""
    from twin.blueprint import SITE_NESTED
    from twin.facility import GPU_NODES, Facility
    from twin.graph import FacilityGraph

    doc = Doc(origin, data=data)
    top = doc.mapping(data, ())
    graph = FacilityGraph()
    attrs = doc.mapping(top.get("graph") or {}, ("graph",))
    doc.flag(attrs, GPU_NODES, ("graph",))
    graph.graph.update(doc.attributes(attrs, ("graph",), skip=(), mappings=SITE_NESTED))
    nodes = doc.sequence(top.get("nodes"), ("nodes",))
    first: dict[str, int] = {}
    for i, raw in enumerate(nodes):
        m = doc.mapping(raw, ("nodes", i))
        node = doc.text(m, "id", ("nodes", i), required=True)
        if first.setdefault(node, i) != i:
            raise doc.error(("nodes", i), f"node {node!r} is listed twice (also nodes[{first[node]}])", "keep one of them")
        doc.text(m, "kind", ("nodes", i), required=True)
        graph.add_node(node, **doc.attributes(m, ("nodes", i), skip=("id",)))
    for i, raw in enumerate(doc.sequence(top.get("edges", top.get("links")), ("edges",))):
        m = doc.mapping(raw, ("edges", i))
        ends = [doc.text(m, k, ("edges", i), required=True) for k in ("source", "target")]
        for end in ends:
            if end not in graph:
                raise doc.error(("edges", i), f"edge names node {end!r}, which is not in `nodes`", "add the node or drop the edge")
        doc.text(m, "kind", ("edges", i), required=True)
        if graph.has_edge(*ends):
            raise doc.error(("edges", i), f"edge {ends[0]!r} -> {ends[1]!r} is listed twice", "keep one of them")
        graph.add_edge(*ends, **doc.attributes(m, ("edges", i), skip=("source", "target")))
    return Facility(graph=graph, catalog=catalog)


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _parse_json(text: str, origin: str) -> Any:
    try:
        return json.loads(text, parse_constant=lambda c: math.nan, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as exc:
        raise BlueprintError(f"{origin}: key {exc.args[0]!r} is given twice in one JSON object; keep one of them") from None
    except json.JSONDecodeError as exc:
        raise BlueprintError(f"{origin}:{exc.lineno}: invalid JSON ({exc.msg}); fix the syntax at that line") from None
    except RecursionError:
        raise BlueprintError(f"{origin}: JSON nested too deeply; flatten it") from None


__all__ = ["atomic_output", "atomic_path", "atomic_write", "from_node_link", "load", "parse_yaml", "read_text", "save", "to_node_link"]
