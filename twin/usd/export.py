"""`export_usd`: a facility as an OpenUSD stage (.usda, .usdc, .usdz), written atomically.

Stage layout (Z up, metres): the default prim is the site; halls are its children, rows theirs, racks theirs;
devices sit under the hall or row their id starts with, else under `Equipment`. Every such prim carries the
node's attributes under `twin:`; racks and devices are instances of a few prototypes (one per system, density,
cap, cooling and feed count; per kind, model, rating and ports) that hold the SimReady `aif:*` metadata and the
`ConnectionPoints` scope, and a node's links are `twin:connectedTo:<port>` on its own prim (see
`twin.usd.ports`). Each hall's racks are drawn by one `PointInstancer` and all devices by another, so a 1 GW
site stays a small file. With a simulation state, per-rack and per-device series become time-sampled
arrays on those instancers (and the rack colours follow them), site series time-sampled values on the site.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.errors import BlueprintError
from twin.usd import geometry, metadata, ports, values
from twin.usd.schema import (
    CONNECTED_TO, CP, END, EQUIPMENT, EQUIPMENT_GEOMETRY, FACILITY, FORMAT, GPUS, ID, KIND, MANIFOLDS, MEMBERS,
    OTHER_ATTRIBUTES, OTHER_EDGES, OTHER_NODES, PAIRED, PROTOTYPES, RACK_GEOMETRY, ROLE, SCOPE, Port, derived_id, prim_name,
    unique,
)
from twin.usd.writer import Writer

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

SUFFIXES = (".usda", ".usdc", ".usd", ".usdz")
RACK_SHARED = ("system", "nodes", "power_cap_w", "width_m", "depth_m", "height_m")
"""Rack attributes kept once per prototype rather than on every rack."""
DEVICE_SHARED = ("model", "rating_kw", "width_m", "depth_m", "height_m")
"""Device attributes its prototype's metadata and ports depend on (they stay on the device too)."""
POSITION = ("x_m", "y_m", "z_m")
STRUCTURE_CHILDREN = {"site": {EQUIPMENT, PROTOTYPES, MANIFOLDS, EQUIPMENT_GEOMETRY, RACK_GEOMETRY},
                      "hall": {"Floor", RACK_GEOMETRY, MANIFOLDS}, "row": set()}


def export_usd(facility: Facility, path: str | Path, state: xr.Dataset | None = None, *,
               color_by: str = "rack_power_kw") -> Path:
    """Write `facility` (and optionally a `twin.simulate` state, as time samples) to a .usda/.usdc/.usdz file.

    >>> import blueprints, twin
    >>> twin.export_usd(blueprints.load("ai-factory-hall"), "hall.usdc")   # doctest: +SKIP
    """
    from pxr import Sdf, UsdUtils

    from twin.atomic import atomic_output

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BlueprintError(f"{path}: unknown USD file type {suffix!r}; write .usda (text), .usdc/.usd (binary) "
                             "or .usdz (package)")
    layer = build_layer(facility, state, color_by=color_by)
    with atomic_output(path) as tmp:
        if suffix == ".usdz":
            inner = tmp.with_suffix(".usdc")
            ok = layer.Export(str(inner)) and UsdUtils.CreateNewUsdzPackage(Sdf.AssetPath(str(inner)), str(tmp))
            inner.unlink(missing_ok=True)
        else:
            ok = layer.Export(str(tmp))
        if not ok:
            raise BlueprintError(f"{path}: USD could not write the file; check the folder is writable")
    return path


def build_layer(facility: Facility, state: xr.Dataset | None = None, *, color_by: str = "rack_power_kw") -> Any:
    """The facility as an anonymous Sdf layer (what `export_usd` saves)."""
    from pxr import Sdf

    from twin.graph import bulk
    from twin.views.layout import layout

    with bulk():
        plan = ports.build(facility)
        lay = layout(facility)
        layer = Sdf.Layer.CreateAnonymous(".usda")
        with Sdf.ChangeBlock():
            stage = _Stage(facility, plan, lay, Writer(layer))
            stage.write()
            geometry.draw(stage, facility, state, color_by)
            if state is not None:
                from twin.usd import samples

                samples.write(stage, state)
    return layer


class _Stage:
    """One export: where each node's prim goes, and the writing of prims, ports, links and manifolds."""

    def __init__(self, facility: Facility, plan: ports.Ports, lay: Any, w: Writer):
        self.facility, self.plan, self.lay, self.w = facility, plan, lay, w
        self.is_identifier = w.Sdf.Path.IsValidNamespacedIdentifier
        self.path: dict[str, str] = {}
        self.node_specs: dict[str, Any] = {}
        self.taken: dict[str, set[str]] = {}
        self.flows = _flows()

    # ------------------------------------------------------------------------------------------ top level
    def write(self) -> None:
        f, w = self.facility, self.w
        g = f.graph
        root_name = prim_name(f.name) if f.name else "Facility"
        self.root = w.prim(w.layer, root_name, "Xform", kind="assembly")
        self.root_path = "/" + root_name
        w.layer.defaultPrim = root_name
        meta = w.layer.pseudoRoot
        meta.SetInfo("upAxis", "Z")
        meta.SetInfo("metersPerUnit", 1.0)
        meta.SetInfo("documentation", f"{f.name}: facility exported by aifactory-twin ({FORMAT})")
        from twin import __version__

        w.layer.customLayerData = {"twin": {"format": FORMAT, "generator": f"aifactory-twin {__version__}"}}
        self.taken[self.root_path] = set(STRUCTURE_CHILDREN["site"])
        from twin.facility import SITE

        self.path[SITE] = self.root_path
        typed, other = values.split(dict(g.graph), self.is_identifier, "facility", FACILITY)
        w.attrs(self.root, typed)
        if other is not None:
            w.attr(self.root, FACILITY + "otherAttributes", "string", other, custom=True)
        if SITE in g:
            self._node_attrs(self.root, SITE, g.nodes[SITE], skip=("kind",))
            w.attr(self.root, ID, "string", SITE, custom=True)
            w.attr(self.root, KIND, "token", "site", custom=True)
        self._halls_rows()
        self.proto_scope = w.prim(self.root, PROTOTYPES, "Scope", specifier="class")
        self._racks()
        self._devices()
        self._links()
        self._manifolds()
        if self.plan.other_nodes:
            w.attr(self.root, OTHER_NODES, "string", _json(self.plan.other_nodes, "nodes"), custom=True)
        if self.plan.other_edges:
            w.attr(self.root, OTHER_EDGES, "string", _json(self.plan.other_edges, "edges"), custom=True)

    def _place(self, node: str, parent: str) -> tuple[str, bool]:
        """Name a node's prim under its parent's (from the id's last part); True if the id must be written."""
        parent_path = self.path[parent]
        parent_id = None if parent_path == self.root_path else parent
        rest = node[len(parent) + 1:] if parent_id and node.startswith(parent + "/") else node
        name = unique(prim_name(rest), self.taken.setdefault(parent_path, set()))
        path = f"{parent_path}/{name}"
        self.path[node] = path
        return name, derived_id(parent_id, name) != node

    def _parent_spec(self, node_path: str) -> Any:
        return self.w.layer.GetPrimAtPath(node_path)

    def _node_attrs(self, spec: Any, node: str, attrs: dict, skip: tuple = ()) -> None:
        keep = {k: v for k, v in attrs.items() if k not in skip}
        typed, other = values.split(keep, self.is_identifier, f"node {node!r}")
        self.w.attrs(spec, typed)
        if other is not None:
            self.w.attr(spec, OTHER_ATTRIBUTES, "string", other, custom=True)

    # ------------------------------------------------------------------------------------------ halls, rows
    def _halls_rows(self) -> None:
        f, w, plan = self.facility, self.w, self.plan
        nodes = f.graph.nodes
        for kind in ("hall", "row"):
            for node in f.nodes_of(kind):
                parent = plan.parent.get(node)
                if parent is None or parent not in self.path:
                    raise BlueprintError(f"{kind} {node!r} is not inside a {'site' if kind == 'hall' else 'hall'}; "
                                         "USD export needs every hall in the site and every row in a hall")
                name, needs_id = self._place(node, parent)
                spec = w.prim(self._parent_spec(self.path[parent]), name, "Xform", kind="group")
                self.taken[self.path[node]] = set(STRUCTURE_CHILDREN[kind])
                w.attr(spec, KIND, "token", kind, custom=True)
                if needs_id:
                    w.attr(spec, ID, "string", node, custom=True)
                self._node_attrs(spec, node, nodes[node], skip=("kind",))

    # ------------------------------------------------------------------------------------------ racks
    def _racks(self) -> None:
        f, w, plan = self.facility, self.w, self.plan
        nodes = f.graph.nodes
        table = self.lay.racks
        cat = f.catalog
        protos: dict[tuple, str] = {}
        cooling = table["cooling"].tolist() if "cooling" in table else [None] * len(table)
        for i, rack in enumerate(table.index):
            parent = plan.parent.get(rack)
            if parent is None or parent not in self.path:
                raise BlueprintError(f"rack {rack!r} is not inside a row; USD export needs every rack in a row")
            attrs = nodes[rack]
            shared = {k: attrs[k] for k in RACK_SHARED if k in attrs and isinstance(attrs[k], (str, int, float, type(None)))}
            key = (tuple((k, type(v).__name__, v) for k, v in shared.items()), plan.rack_links[rack], cooling[i],
                   plan.gpus[rack])
            proto = protos.get(key)
            if proto is None:
                proto = protos[key] = self._rack_prototype(len(protos), shared, rack, table.iloc[i], cat)
            name, needs_id = self._place(rack, parent)
            spec = w.prim(self._parent_spec(self.path[parent]), name, "Xform", instanceable=True)
            w.reference(spec, proto)
            own = {k: v for k, v in attrs.items() if k != "kind" and k not in shared}
            xyz = [own.get(k) for k in POSITION]
            if all(type(v) is float for v in xyz):
                for k in POSITION:
                    own.pop(k)
            else:
                xyz = [table[k].iat[i] for k in POSITION]
            w.translate(spec, tuple(xyz), order=False)
            if needs_id:
                w.attr(spec, ID, "string", rack, custom=True)
            if own:
                self._node_attrs(spec, rack, own)

    def _rack_prototype(self, index: int, shared: dict, rack: str, row: Any, cat: Any) -> str:
        w = self.w
        name = f"Rack_{index}"
        spec = w.prim(self.proto_scope, name, "Xform", kind="component")
        w.attr(spec, "xformOpOrder", "token[]", ["xformOp:translate"], uniform=True)
        w.attr(spec, KIND, "token", "rack", custom=True)
        w.attr(spec, GPUS, "int64", int(self.plan.gpus[rack]), custom=True)
        self._node_attrs(spec, rack, shared)
        w.attrs(spec, metadata.rack(row, cat))
        n_in, links = self.plan.rack_links[rack]
        size = (float(row["width_m"]), float(row["depth_m"]), float(row["height_m"]))
        kw = float(row.get("nameplate_kw") or 0.0)
        liquid = float(row.get("liquid_fraction") or 0.0)
        tech = cat.cooling.get(row.get("cooling")) if isinstance(row.get("cooling"), str) else None
        heat = {"tcs": kw * liquid, "air": kw * (1.0 - liquid)}
        self._ports(spec, ports.rack_ports(n_in, links), size, kw, heat, tech)
        return f"{self.root_path}/{PROTOTYPES}/{name}"

    # ------------------------------------------------------------------------------------------ devices
    def _devices(self) -> None:
        f, w = self.facility, self.w
        nodes = f.graph.nodes
        dev = self.lay.devices
        structure = {n for k in ("hall", "row") for n in f.nodes_of(k)}
        protos: dict[tuple, str] = {}
        equipment = None
        for node, kind, x, y, z, dw, dd, dh in zip(dev.index, dev["kind"], dev["x_m"], dev["y_m"], dev["z_m"],
                                                  dev["width_m"], dev["depth_m"], dev["height_m"]):
            parent = _prefix(node, structure)
            if parent is None:
                if equipment is None:
                    equipment = w.prim(self.root, EQUIPMENT, "Scope", kind="group")
                parent_path, rest = f"{self.root_path}/{EQUIPMENT}", node
            else:
                parent_path, rest = self.path[parent], node[len(parent) + 1:]
            name = unique(prim_name(rest.replace("/", "__")), self.taken.setdefault(parent_path, set()))
            self.path[node] = f"{parent_path}/{name}"
            attrs = nodes[node]
            own = self.plan.ports.get(node, {})
            size = (round(float(dw), 6), round(float(dd), 6), round(float(dh), 6))
            identity = tuple((k, type(attrs.get(k)).__name__, attrs.get(k)) for k in DEVICE_SHARED
                             if isinstance(attrs.get(k), (str, int, float, type(None))))
            key = (kind, identity, tuple(own), size)
            proto = protos.get(key)
            if proto is None:
                proto = protos[key] = self._device_prototype(len(protos), kind, attrs, own, size)
            spec = w.prim(self._parent_spec(parent_path), name, "Xform", instanceable=True)
            w.reference(spec, proto)
            w.translate(spec, (x, y, z), order=False)
            w.attr(spec, ID, "string", node, custom=True)
            self._node_attrs(spec, node, attrs, skip=("kind",))
            self.node_specs[node] = spec

    def _device_prototype(self, index: int, kind: str, attrs: dict, own: dict[str, Port], size: tuple) -> str:
        w = self.w
        name = f"{prim_name(kind).title().replace('_', '')}_{index}"
        spec = w.prim(self.proto_scope, name, "Xform", kind="component")
        w.attr(spec, "xformOpOrder", "token[]", ["xformOp:translate"], uniform=True)
        w.attr(spec, KIND, "token", kind, custom=True)
        w.attrs(spec, metadata.device(kind, attrs, self.facility.catalog))
        if own:
            rating = attrs.get("rating_kw")
            kw = float(rating) if isinstance(rating, (int, float)) and not isinstance(rating, bool) else None
            self._ports(spec, own, size, kw, None, None)
        return f"{self.root_path}/{PROTOTYPES}/{name}"

    # ------------------------------------------------------------------------------------------ ports
    def _ports(self, owner: Any, own: dict[str, Port], size: tuple, kw: float | None, heat: dict | None,
               tech: Any) -> None:
        """The `ConnectionPoints` scope: one guide Xform per port with SimReady properties and ours."""
        w = self.w
        scope = w.prim(owner, SCOPE, "Scope")
        n_in = sum(1 for p in own.values() if p.domain == "electrical" and p.end == "target")
        for name, port in own.items():
            spec = w.prim(scope, name, "Xform")
            w.attr(spec, "purpose", "token", "guide", uniform=True)
            w.translate(spec, geometry.port_offset(port, size, n_in))
            for prop, value in (("domain", port.domain), ("direction", port.direction), ("system", port.system),
                                ("disconnectType", port.disconnect)):
                w.attr(spec, CP + prop, "token", value, custom=True)
            w.attr(spec, END, "token", port.end or PAIRED, custom=True)
            self._rating(spec, port, kw, heat, tech)

    def _rating(self, spec: Any, port: Port, kw: float | None, heat: dict | None, tech: Any) -> None:
        """Rated power (W) of electrical ports; design flow (L/s, m3/s) of thermal and airflow ports."""
        w = self.w
        if port.domain == "electrical":
            if kw is not None:
                w.attr(spec, CP + "electrical:ratedPower", "float", kw * 1000.0, custom=True)
            return
        line = port.name.split("_")[0]
        q = heat.get(line) if heat is not None else kw
        if q is not None:
            flow = q * self.flows[line]
            name = "airflow:designAirflowRate" if port.domain == "airflow" else "thermal:designFlowRate"
            w.attr(spec, CP + name, "float", flow, custom=True)
        if tech is not None and port.direction in ("supply", "input") and port.end is None:
            if (port.domain == "thermal") == (tech.medium == "liquid"):
                key = "thermal:designTemperature" if port.domain == "thermal" else "airflow:designTemperature"
                w.attr(spec, CP + key, "float", float(tech.supply_temp_c), custom=True)

    # ------------------------------------------------------------------------------------------ links
    def _links(self) -> None:
        """Each source port's links, as `twin:connectedTo:<port>` on its node's prim (ports live in prototypes)."""
        for (u, name), targets in self.plan.links.items():
            self.w.rel(self.node_specs[u], f"{CONNECTED_TO}:{name}", [f"{self.path[v]}/{SCOPE}/{p}" for v, p in targets])

    def _manifolds(self) -> None:
        w, plan = self.w, self.plan
        if not plan.manifolds:
            return
        racks = self.lay.racks
        hall_of = racks["hall"] if "hall" in racks else None
        scopes: dict[str, Any] = {}
        for m in plan.manifolds:
            halls = set(hall_of.loc[m.racks]) if hall_of is not None else set()
            hall = halls.pop() if len(halls) == 1 else None
            owner = self.path[hall] if hall in self.path else self.root_path
            scope = scopes.get(owner)
            if scope is None:
                scope = scopes[owner] = w.prim(self._parent_spec(owner), MANIFOLDS, "Scope")
            name = unique(m.link.system.lower(), self.taken.setdefault(owner + "/" + MANIFOLDS, set()))
            spec = w.prim(scope, name, "Xform")
            sel = racks.loc[m.racks]
            w.translate(spec, (sel["x_m"].mean(), sel["y_m"].mean(), float((sel["z_m"] + sel["height_m"]).max())))
            w.attr(spec, ROLE, "token", "manifold", custom=True)
            w.attr(spec, CP + "domain", "token", m.link.source.domain, custom=True)
            w.attr(spec, CP + "system", "token", m.link.system, custom=True)
            w.rel(spec, MEMBERS, [f"{self.path[r]}/{SCOPE}/{m.link.source.name}" for r in m.racks])
            w.rel(spec, CONNECTED_TO, [f"{self.path[t]}/{SCOPE}/{m.link.target.name}" for t in m.targets])


def _prefix(node: str, structure: set[str]) -> str | None:
    """The longest hall or row id that `node` starts with (followed by '/'), if any."""
    parts = node.split("/")
    for k in range(len(parts) - 1, 0, -1):
        head = "/".join(parts[:k])
        if head in structure:
            return head
    return None


def _json(items: list, what: str) -> str:
    try:
        return json.dumps(items, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise BlueprintError(f"facility {what} the USD stage keeps verbatim cannot be written ({exc}); use numbers, "
                             "text, true/false or lists of them") from None


def _flows() -> dict[str, float]:
    """Design flow per kW of heat by line (tcs, fws, chw, cw: L/s; air: m3/s), from the packaged data file."""
    from twin.usd.schema import flow_table

    return {k: v["value"] for k, v in flow_table().items()}


__all__ = ["export_usd", "build_layer", "SUFFIXES"]
