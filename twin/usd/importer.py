"""`import_usd`: a facility graph from a USD stage that follows the twin's conventions (and SimReady's).

A prim is a node when it has `twin:kind` (ours) or a SimReady `aif:core:assetClass` (kind from the class, see
`twin.usd.schema.ASSET_CLASS`). Ids come from `twin:id`, else from the prim name under its hall/row. Edges
come from `twin:connectedTo` between connection points (oriented by `twin:end`, or, on a stage without it, by
SimReady's direction tokens) and from manifolds; halls, rows and racks are contained by the prim they sit in.
Every problem (a link to a prim that is not a connection point, a connection point linked to nothing, an
unknown asset class, a rack outside a row, a duplicate id) is collected with its prim path and raised at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.errors import BlueprintError, Problem, ValidationError, did_you_mean
from twin.graph import CONTAINS_PARENT, FacilityGraph, bulk
from twin.usd import values
from twin.usd.schema import (
    AIF_CORE, AIF_SPEC, ASSET_CLASS, CLASS_KIND, CONNECTED_TO, CP, END, EQUIPMENT_GEOMETRY, FACILITY, GPUS, HEAT_RANK,
    ID, KIND, MEMBERS, NS, OTHER_ATTRIBUTES, OTHER_EDGES, OTHER_NODES, PAIRED, RACK_GEOMETRY, RESERVED, ROLE, SCOPE,
    asset_kind, derived_id,
)

if TYPE_CHECKING:
    from twin.catalog import Catalog
    from twin.facility import Facility

SKIP_CHILDREN = frozenset({SCOPE, RACK_GEOMETRY, EQUIPMENT_GEOMETRY})


@dataclass
class _Port:
    owner: str
    end: str | None
    domain: str
    direction: str
    path: str


def import_usd(path: str | Path, *, catalog: Catalog | None = None) -> Facility:
    """Read a facility from a .usda/.usdc/.usdz stage; problems raise one ValidationError naming each prim.

    >>> site = twin.import_usd("hall.usdc")    # doctest: +SKIP
    """
    from pxr import Tf, Usd

    path = Path(path)
    if not path.is_file():
        raise BlueprintError(f"{path}: no such USD file; check the path")
    try:
        stage = Usd.Stage.Open(str(path))
    except Tf.ErrorException as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise BlueprintError(f"{path}: cannot open as a USD stage ({first}); is it a .usda/.usdc/.usdz file?") from None
    if stage is None:
        raise BlueprintError(f"{path}: cannot open as a USD stage; is it a .usda/.usdc/.usdz file?")
    root = stage.GetDefaultPrim() or next(iter(stage.GetPseudoRoot().GetChildren()), None)
    if root is None or not root.IsValid():
        raise BlueprintError(f"{path}: the stage has no prims; export a facility first")
    with bulk():
        return _Reader(stage, root, catalog, str(path)).read()


class _Reader:
    def __init__(self, stage: Any, root: Any, catalog: Catalog | None, origin: str):
        from pxr import Usd, UsdGeom

        self.Usd, self.UsdGeom = Usd, UsdGeom
        self.stage, self.root, self.origin = stage, root, origin
        self._catalog = catalog
        self.problems: list[Problem] = []
        self.graph = FacilityGraph()
        self.nodes: dict[str, dict] = {}
        self.prim_of: dict[str, str] = {}
        self.contains: list[tuple[str, str]] = []
        self.gpus: list[tuple[str, int]] = []
        self.ports: dict[str, _Port] = {}
        self.links: list[tuple[str, str]] = []  # (port path, target path)
        self.manifolds: list[Any] = []
        self.units = UsdGeom.GetStageMetersPerUnit(stage) or 1.0
        self.xforms = UsdGeom.XformCache()
        self._proto_ports: dict[str, list[tuple[str, dict]]] = {}
        self.other_edges: list[tuple[str, str, dict]] = []

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from twin.catalog import default_catalog

            self._catalog = default_catalog()
        return self._catalog

    def problem(self, prim: Any, rule: str, message: str, fix: str) -> None:
        self.problems.append(Problem(str(prim.GetPath()) if hasattr(prim, "GetPath") else str(prim), rule, message, fix))

    # ------------------------------------------------------------------------------------------ the walk
    def read(self) -> Facility:
        from twin.facility import SITE, Facility

        root = self.root
        self.graph.graph.update(self._facility_attrs(root))
        site = self._string(root, ID) or SITE
        site_attrs = self._twin_attrs(root, str(root.GetPath())) if root.HasAttribute(KIND) else {}
        self._add(root, site, {"kind": "site", **site_attrs})
        self._walk(root, site, "site")
        self._edges()
        for name in (OTHER_NODES, OTHER_EDGES):
            self._verbatim(root, name)
        if self.problems:
            raise ValidationError(self.problems, subject=f"USD stage {self.origin}")
        nodes = list(self.nodes.items())
        self.graph.add_new_nodes(nodes)
        for kind, pairs in self._edge_kinds().items():
            self.graph.add_new_edges(pairs, kind=kind)
        from twin.facility import gpu_ids

        self.graph.add_gpus((rack, gpu) for rack, n in self.gpus for gpu in gpu_ids(rack, n))
        for u, v, attrs in self.other_edges:
            self.graph.add_edge(u, v, **attrs)
        return Facility(graph=self.graph, catalog=self._catalog)

    def _walk(self, prim: Any, parent_id: str, parent_kind: str) -> None:
        for child in prim.GetChildren():
            name = child.GetName()
            if name in SKIP_CHILDREN:
                continue
            if child.HasAttribute(ROLE) and child.GetAttribute(ROLE).Get() == "manifold":
                self.manifolds.append(child)
                continue
            kind = self._kind(child)
            if kind is None:
                self._walk(child, parent_id, parent_kind)
                continue
            node = self._id(child, kind, parent_id, parent_kind)
            if node is None:
                continue
            if node in self.nodes:
                self.problem(child, "unique-id", f"id {node!r} is also the id of {self.prim_of[node]}",
                             "give each prim its own twin:id")
                continue
            attrs = self._attrs(child, kind, node)
            self._add(child, node, {"kind": kind, **attrs})
            expected = CONTAINS_PARENT.get(kind)
            if expected is not None:
                if parent_kind != expected:
                    self.problem(child, "containment", f"{kind} prim is not inside a {expected} prim "
                                 f"(its nearest node prim is a {parent_kind})",
                                 f"move it under a prim with twin:kind = \"{expected}\"")
                else:
                    self.contains.append((parent_id, node))
            self._connection_points(child, node)
            if kind in ("site", "hall", "row"):
                self._walk(child, node, kind)

    def _add(self, prim: Any, node: str, attrs: dict) -> None:
        self.nodes[node] = attrs
        self.prim_of[node] = str(prim.GetPath())

    def _kind(self, prim: Any) -> str | None:
        if prim.HasAttribute(KIND):
            kind = prim.GetAttribute(KIND).Get()
            return str(kind) if kind is not None else None
        if not prim.HasAttribute(AIF_CORE + "assetClass"):
            return None
        token = prim.GetAttribute(AIF_CORE + "assetClass").Get()
        kind = asset_kind(token) if token is not None else None
        if kind is None:
            self.problem(prim, "asset-class", f"unknown aif:core:assetClass {token!r}",
                         f"use one of {sorted(set(ASSET_CLASS.values()))} ({did_you_mean(str(token), CLASS_KIND)})")
        return kind

    def _id(self, prim: Any, kind: str, parent_id: str, parent_kind: str) -> str | None:
        own = self._string(prim, ID)
        if own:
            return own
        name = prim.GetName()
        if kind in ("row", "rack") and parent_kind in ("hall", "row"):
            return derived_id(parent_id, name)
        return derived_id(None, name) if kind == "hall" else name

    # ------------------------------------------------------------------------------------------ attributes
    def _facility_attrs(self, root: Any) -> dict:
        out = {}
        for attr in root.GetAuthoredPropertiesInNamespace(FACILITY.rstrip(":")):
            name = attr.GetName()[len(FACILITY):]
            if name == "otherAttributes":
                out.update(values.other(attr.Get(), f"{root.GetPath()}.{attr.GetName()}"))
            elif hasattr(attr, "Get"):
                out[name] = values.plain(attr.Get())
        return out

    def _twin_attrs(self, prim: Any, where: str) -> dict:
        out: dict[str, Any] = {}
        for prop in prim.GetAuthoredPropertiesInNamespace(NS.rstrip(":")):
            key = prop.GetName()[len(NS):]
            if key.split(":")[0] in RESERVED or not hasattr(prop, "Get"):
                continue
            out[key] = values.plain(prop.Get())
        if prim.HasAttribute(OTHER_ATTRIBUTES):
            out.update(values.other(prim.GetAttribute(OTHER_ATTRIBUTES).Get(), where))
        return out

    def _attrs(self, prim: Any, kind: str, node: str) -> dict:
        where = str(prim.GetPath())
        if not prim.HasAttribute(KIND):
            return self._foreign(prim, kind, node)
        attrs = self._twin_attrs(prim, where)
        if kind == "rack":
            xyz = prim.GetAttribute("xformOp:translate").Get() if prim.HasAttribute("xformOp:translate") else None
            for k, v in zip(("x_m", "y_m", "z_m"), xyz if xyz is not None else ()):
                attrs.setdefault(k, float(v))
            gpus = prim.GetAttribute(GPUS).Get() if prim.HasAttribute(GPUS) else 0
            if gpus:
                self.gpus.append((node, int(gpus)))
        return attrs

    def _foreign(self, prim: Any, kind: str, node: str) -> dict:
        """A SimReady asset without our attributes: position, dimensions and the ratings SimReady carries."""
        where = str(prim.GetPath())
        m = self.xforms.GetLocalToWorldTransform(prim).ExtractTranslation()
        attrs: dict[str, Any] = {}
        spec = _number(prim, AIF_SPEC + ("upsRating" if kind == "ups" else "nominalCoolingCapacity"))
        if kind not in ("rack", "hall", "row"):
            attrs["rating_kw"] = spec
            attrs.update(x_m=float(m[0]) * self.units, y_m=float(m[1]) * self.units)
            return attrs
        attrs.update(system=None, nodes=None, power_cap_w=None, x_m=float(m[0]) * self.units,
                     y_m=float(m[1]) * self.units, z_m=float(m[2]) * self.units)
        for key, name in (("width_m", "width"), ("depth_m", "depth"), ("height_m", "height")):
            mm = _number(prim, AIF_CORE + name)
            if mm is not None:
                attrs[key] = mm / 1000.0
        model = prim.GetAttribute(AIF_CORE + "modelNumber").Get() if prim.HasAttribute(AIF_CORE + "modelNumber") else None
        gpus = _number(prim, AIF_SPEC + "numGPUs")
        system = self._system(model)
        if system is None and gpus:
            self.problem(where, "rack-system", f"compute rack model {model!r} matches no catalog system",
                         "add twin:system (a catalog system id) or a catalog entry whose name is the model number")
        elif system is not None:
            spec_ = self.catalog.system(system)
            nodes = int(round((gpus or spec_.gpus_per_rack(spec_.nodes_per_rack[0])) / spec_.gpus_per_node))
            attrs.update(system=system, nodes=nodes)
            self.gpus.append((node, int(spec_.gpus_per_rack(nodes))))
        return attrs

    def _system(self, model: Any) -> str | None:
        if not isinstance(model, str) or not model.strip():
            return None
        key = model.strip().lower()
        for sid, spec in self.catalog.systems.items():
            if key in (sid.lower(), spec.name.lower()):
                return sid
        return None

    def _string(self, prim: Any, name: str) -> str | None:
        if not prim.HasAttribute(name):
            return None
        value = prim.GetAttribute(name).Get()
        return str(value) if value else None

    def _verbatim(self, root: Any, name: str) -> None:
        if not root.HasAttribute(name):
            return
        where = f"{root.GetPath()}.{name}"
        try:
            items = json.loads(root.GetAttribute(name).Get())
        except (TypeError, json.JSONDecodeError) as exc:
            self.problem(where, "verbatim", f"is not JSON ({exc})", "rewrite it as a JSON list")
            return
        for item in items if isinstance(items, list) else [None]:
            if name == OTHER_NODES and isinstance(item, list) and len(item) == 2 and isinstance(item[1], dict):
                self.nodes.setdefault(item[0], item[1])
            elif name == OTHER_EDGES and isinstance(item, list) and len(item) == 3 and isinstance(item[2], dict):
                self.other_edges.append((item[0], item[1], item[2]))
            else:
                self.problem(where, "verbatim", f"entry {item!r} is not [id, attributes] / [source, target, attributes]",
                             "fix the entry")
        if name == OTHER_EDGES:
            known = set(self.nodes) | {g for rack, n in self.gpus for g in _gpu_ids(rack, n)}
            for u, v, _ in self.other_edges:
                for end in (u, v):
                    if end not in known:
                        self.problem(where, "verbatim", f"edge {u!r} -> {v!r} names {end!r}, which is no node",
                                     "add the node or drop the edge")

    # ------------------------------------------------------------------------------------------ connection points
    def _connection_points(self, prim: Any, node: str) -> None:
        """Register the prim's connection points, and its links: `twin:connectedTo:<port>` on the prim (ours;
        the ports of an instance live in its prototype) or `twin:connectedTo` on a connection point."""
        base = str(prim.GetPath())
        for rel in prim.GetAuthoredPropertiesInNamespace(CONNECTED_TO):
            port = rel.GetName()[len(CONNECTED_TO) + 1:]
            self.links += [(f"{base}/{SCOPE}/{port}", str(t)) for t in rel.GetTargets()]
        if prim.IsInstance():
            key = str(prim.GetPrototype().GetPath())
            cached = self._proto_ports.get(key)
            if cached is None:
                cached = self._proto_ports[key] = self._port_records(prim.GetPrototype())
            for name, rec in cached:
                path = f"{base}/{SCOPE}/{name}"
                self.ports[path] = _Port(node, rec["end"], rec["domain"], rec["direction"], path)
            return
        for name, rec in self._port_records(prim):
            path = f"{prim.GetPath()}/{SCOPE}/{name}"
            self.ports[path] = _Port(node, rec["end"], rec["domain"], rec["direction"], path)
            for target in rec["targets"]:
                self.links.append((path, target))

    def _port_records(self, prim: Any) -> list[tuple[str, dict]]:
        scope = prim.GetChild(SCOPE)
        out = []
        if not scope or not scope.IsValid():
            return out
        for cp in scope.GetChildren():
            domain = cp.GetAttribute(CP + "domain").Get() if cp.HasAttribute(CP + "domain") else None
            if domain is None and cp.HasAttribute(CP + "type"):
                domain = cp.GetAttribute(CP + "type").Get()  # SimReady's deprecated alias (CP.011)
            direction = cp.GetAttribute(CP + "direction").Get() if cp.HasAttribute(CP + "direction") else None
            if domain is None or direction is None:
                self.problem(cp, "connection-point", "connection point without simready:connectionPoint:domain "
                             "and :direction", "author both tokens (SimReady CP.010)")
                continue
            end = cp.GetAttribute(END).Get() if cp.HasAttribute(END) else None
            rel = cp.GetRelationship(CONNECTED_TO)
            targets = [str(t) for t in rel.GetTargets()] if rel else []
            out.append((cp.GetName(), {"end": end, "domain": str(domain), "direction": str(direction),
                                       "targets": targets}))
        return out

    def _edges(self) -> None:
        self.edges: dict[tuple[str, str], str] = {}
        linked: set[str] = set()
        for path, target in self.links:
            port, other = self.ports.get(path), self.ports.get(target)
            if port is None:
                owner = path.rsplit("/", 2)[0]
                self.problem(owner, "connection", f"links from a port {path.rsplit('/', 1)[1]!r} it does not have",
                             "name one of the prim's connection points after twin:connectedTo:, or add that port")
                continue
            if other is None:
                self.problem(path, "connection", f"twin:connectedTo names {target}, which is not a connection point",
                             "point it at a prim under another prim's ConnectionPoints scope, or remove it")
                continue
            pair = self._orient(port, other)
            if pair is None:
                continue
            self.edges[pair] = "power" if port.domain == "electrical" else "heat"
            linked.update((path, target))
        for m in self.manifolds:
            members = [str(t) for t in m.GetRelationship(MEMBERS).GetTargets()] if m.GetRelationship(MEMBERS) else []
            units = [str(t) for t in m.GetRelationship(CONNECTED_TO).GetTargets()] if m.GetRelationship(CONNECTED_TO) else []
            for p in members + units:
                if p not in self.ports:
                    self.problem(m, "connection", f"manifold names {p}, which is not a connection point",
                                 "point it at a prim under a rack's or unit's ConnectionPoints scope")
            ok = [p for p in members if p in self.ports], [p for p in units if p in self.ports]
            if not ok[0] or not ok[1]:
                self.problem(m, "connection", "manifold links no rack to no unit (twin:members or twin:connectedTo "
                             "is empty)", "list the racks' ports in twin:members and the units' in twin:connectedTo")
            for a in ok[0]:
                for b in ok[1]:
                    self.edges[(self.ports[a].owner, self.ports[b].owner)] = "heat"
            linked.update(ok[0] + ok[1])
        for path, port in self.ports.items():
            if self._end(port) is not None and path not in linked:
                self.problem(path, "missing-connection", "connection point is connected to nothing",
                             "link it with twin:connectedTo (or a manifold), or remove the connection point")

    def _orient(self, a: _Port, b: _Port) -> tuple[str, str] | None:
        ea, eb = self._end(a), self._end(b)
        if a.domain != b.domain:
            self.problem(a.path, "connection", f"links a {a.domain} connection point to a {b.domain} one ({b.path})",
                         "connect points of the same domain")
            return None
        if (ea, eb) == ("source", "target"):
            return a.owner, b.owner
        if (ea, eb) == ("target", "source"):
            return b.owner, a.owner
        if ea == eb == "either":
            ra, rb = HEAT_RANK.get(self.nodes[a.owner]["kind"]), HEAT_RANK.get(self.nodes[b.owner]["kind"])
            if ra is not None and rb is not None and ra != rb:
                return (a.owner, b.owner) if ra < rb else (b.owner, a.owner)
        self.problem(a.path, "connection", f"cannot tell which way the link to {b.path} runs (ends {ea!r}, {eb!r})",
                     "set twin:end = \"source\" on one end and \"target\" on the other")
        return None

    def _end(self, port: _Port) -> str | None:
        """Our `twin:end`, else SimReady's direction: electrical/airflow output -> source, input -> target."""
        if port.end is not None:
            return None if port.end == PAIRED else port.end
        if port.domain in ("electrical", "airflow"):
            return {"output": "source", "input": "target"}.get(port.direction)
        return "either" if port.domain == "thermal" and port.direction == "return" else None

    def _edge_kinds(self) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {"contains": list(self.contains)}
        for pair, kind in self.edges.items():
            out.setdefault(kind, []).append(pair)
        return out


def _number(prim: Any, name: str) -> float | None:
    if not prim.HasAttribute(name):
        return None
    v = prim.GetAttribute(name).Get()
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _gpu_ids(rack: str, n: int) -> list[str]:
    from twin.facility import gpu_ids

    return gpu_ids(rack, n)
