"""The blueprint format: a declarative mapping <-> `Facility` (format described in blueprints/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin import limits
from twin.errors import TwinError, did_you_mean
from twin.facility import GPU_NODES, RACK_DEFAULTS, SITE, Facility
from twin.fields import Doc, format_path
from twin.graph import DEVICE_KINDS

if TYPE_CHECKING:
    from twin.catalog import Catalog

FORMAT = "twin-blueprint/1"
TOP_KEYS = ("format", "name", "description", "gpu_nodes", "site", "catalog", "equipment", "halls")
SITE_RESERVED = ("name", "description", "format")
SITE_MAPPINGS = ("market", "finance")
"""Site fields that are mappings (read and checked by `twin.economics`; see blueprints/README.md)."""
SITE_NESTED = ("workload",)
"""Site attributes that are mappings of plain values: `workload` (twin.physics.tokens.Workload fields, `tier_mix`
a mapping)."""
DEVICE_KEYS = ("id", "kind", "rating_kw", "fed_by", "rejects_to")
HALL_KEYS = ("id", "x_m", "y_m", "width_m", "depth_m", "cooling", "rows")
ROW_TEMPLATE_KEYS = (
    "count", "racks", "first_y_m", "spacing_m", "first_x_m", "pitch_m", "rack", "fed_by", "cooled_by", "busways",
    "busway_redundancy", "rack_units",
)
BUSWAY_KEYS = ("name", "kind", "rating_kw", "fed_by")
RACK_UNIT_KEYS = ("name", "kind", "rating_kw", "rejects_to")
RACK_SPEC_KEYS = ("system", "nodes", "power_cap_w", "width_m", "depth_m", "height_m")
RACK_EDGE_KEYS = ("fed_by", "cooled_by")


def read(data: Any, doc: Doc, *, base_dir: Path | None = None, catalog: Catalog | None = None,
         gpu_nodes: bool | None = None) -> Facility:
    """Build a facility from a parsed blueprint; every format mistake raises BlueprintError naming the field.

    gpu_nodes: build racks with (True) or without (False, a lean graph) GPU nodes, over the file's `gpu_nodes:`."""
    top = doc.mapping(data, (), TOP_KEYS)
    fmt = doc.text(top, "format", ())
    if fmt is not None and fmt != FORMAT:
        raise doc.error(("format",), f"unknown format {fmt!r}", f"use `format: {FORMAT}` or leave it out")
    own = doc.flag(top, GPU_NODES, (), default=True)
    gpu_nodes = own if gpu_nodes is None else gpu_nodes
    site = site_section(top, doc)
    attrs = doc.attributes(site, ("site",), skip=SITE_RESERVED + SITE_MAPPINGS, mappings=SITE_NESTED)
    attrs.update(_economics(site, doc))
    doc.number(site, "grid_limit_mw", ("site",), positive=True)
    climate = doc.text(site, "climate", ("site",))
    if climate is not None and base_dir is not None:
        from twin.weather import FILE_SUFFIXES

        if climate.strip().lower().endswith(FILE_SUFFIXES):  # a weather file, found beside the blueprint
            attrs["climate"] = str((base_dir / climate).resolve())
    catalog = _catalog(top, doc, base_dir, catalog)
    name = doc.text(top, "name", (), default="facility")
    facility = Facility(name, catalog=catalog, gpu_nodes=gpu_nodes, **{"grid_limit_mw": None, "climate": None, **attrs})
    if top.get("description") is not None:
        facility.graph.graph["description"] = doc.text(top, "description", ())

    _unique_ids(top, doc)
    power_edges: list[tuple[tuple, str, str]] = []
    heat_edges: list[tuple[tuple, str, str]] = []
    for i, raw in enumerate(doc.sequence(top.get("equipment") or [], ("equipment",))):
        path = ("equipment", i)
        _device(facility, doc, doc.mapping(raw, path), path, power_edges, heat_edges)
    for i, raw in enumerate(doc.sequence(top.get("halls") or [], ("halls",))):
        _hall(facility, doc, doc.mapping(raw, ("halls", i)), ("halls", i), power_edges, heat_edges)
    _connect(facility, doc, power_edges, "power")
    _connect(facility, doc, heat_edges, "heat")
    return facility


def site_section(top: dict, doc: Doc) -> dict:
    """The `site:` mapping; `gpu_nodes` there is refused (it is the file's build mode, a top-level key)."""
    site = doc.mapping(top.get("site") or {}, ("site",))
    if GPU_NODES in site:
        raise doc.error(("site", GPU_NODES), "is not a site attribute but how the file is built",
                        f"move `{GPU_NODES}: {str(site[GPU_NODES]).lower()}` to the top level of the blueprint")
    return site


def _unique_ids(top: dict, doc: Doc) -> None:
    """Refuse an id declared twice (the later entry would silently replace the first), naming both places.

    Reads the raw entries only; malformed ones are left to the field checks that follow."""
    seen: dict[str, tuple] = {}

    def claim(node: str, path: tuple, scope: dict = seen) -> None:
        first = scope.setdefault(node, path)
        if first != path:
            raise doc.error(path, f"id {node!r} is already used by {format_path(first[:-1])} (line {doc.line(first)})",
                            "give each entry its own id")

    def entries(value: Any, path: tuple) -> list[tuple[tuple, dict]]:
        items = enumerate(value) if isinstance(value, list) else ()
        return [(path + (i,), e) for i, e in items if isinstance(e, dict)]

    def name(entry: dict, key: str) -> str | None:
        value = entry.get(key)
        return value if isinstance(value, str) and value else None

    for path, device in entries(top.get("equipment"), ("equipment",)):
        if name(device, "id"):
            claim(device["id"], path + ("id",))
    for path, hall in entries(top.get("halls"), ("halls",)):
        if not name(hall, "id"):
            continue
        claim(hall["id"], path + ("id",))
        rows = hall.get("rows")
        if isinstance(rows, dict):
            for key, field in (("busways", "name"), ("rack_units", "name")):
                names: dict[str, tuple] = {}
                for q, part in entries(rows.get(key), path + ("rows", key)):
                    if name(part, field):
                        claim(part[field], q + (field,), names)
        for q, row in entries(rows, path + ("rows",)):
            if name(row, "id"):
                claim(f"{hall['id']}/{row['id']}", q + ("id",))
                for k, rack in entries(row.get("racks"), q + ("racks",)):
                    if name(rack, "id"):
                        claim(f"{hall['id']}/{row['id']}/{rack['id']}", k + ("id",))


def _economics(site: dict, doc: Doc) -> dict[str, Any]:
    """`site.market` and `site.finance` as given, after checking them against the packaged defaults."""
    from twin.economics import default_finance, default_market, parse_finance, parse_market

    out = {}
    if site.get("market") is not None:
        parse_market(site["market"], default_market(), error=lambda path, msg, fix: doc.error(("site", "market", *path), msg, fix))
        out["market"] = site["market"]
    if site.get("finance") is not None:
        try:
            parse_finance(site["finance"], default_finance())
        except TwinError as exc:
            raise doc.error(("site", "finance"), str(exc).removeprefix("site.finance"), "see blueprints/README.md (Economics)") from None
        out["finance"] = site["finance"]
    return out


def _catalog(top: dict, doc: Doc, base_dir: Path | None, catalog: Catalog | None) -> Catalog | None:
    extra = doc.names(top, "catalog", ())
    if not extra:
        return catalog
    if catalog is None:
        from twin.catalog import default_catalog

        catalog = default_catalog()
    for i, rel in enumerate(extra):
        path = _inside(doc, ("catalog", i), base_dir, rel, "catalog file")
        if not path.is_file():
            raise doc.error(("catalog", i), f"catalog file {str(path)!r} does not exist", "give a path relative to the blueprint")
        catalog = catalog.extend(path)
    return catalog


def _inside(doc: Doc, path: tuple, base_dir: Path | None, rel: str, what: str) -> Path:
    """A file a blueprint names: relative to the blueprint's folder and inside it (a blueprint from elsewhere
    must not open /etc/passwd); files outside are passed by the caller (`blueprints.load(catalog=...)`)."""
    folder = (base_dir or Path.cwd()).resolve()
    target = (folder / rel).resolve()
    if not target.is_relative_to(folder):
        raise doc.error(path, f"{what} {rel!r} lies outside the blueprint's folder {str(folder)!r}",
                        "put the file beside the blueprint (or below it), or pass it to the loader yourself")
    return target


def _device(facility: Facility, doc: Doc, m: dict, path: tuple, power: list, heat: list) -> str:
    node = doc.text(m, "id", path, required=True)
    kind = doc.text(m, "kind", path, required=True)
    if kind not in DEVICE_KINDS:
        raise doc.error(path + ("kind",), f"unknown device kind {kind!r}", did_you_mean(kind, DEVICE_KINDS))
    rating = doc.number(m, "rating_kw", path, required=True, positive=True)
    for key in ("model", "group", "redundancy"):
        doc.text(m, key, path)
    attrs = doc.attributes(m, path, skip=DEVICE_KEYS)
    _add(doc, path, lambda: facility.add_device(node, kind, rating_kw=rating, **attrs))
    power += [(path + ("fed_by",), src, node) for src in doc.names(m, "fed_by", path)]
    heat += [(path + ("rejects_to",), node, dst) for dst in doc.names(m, "rejects_to", path)]
    return node


def _hall(facility: Facility, doc: Doc, m: dict, path: tuple, power: list, heat: list) -> None:
    hall = doc.text(m, "id", path, required=True)
    geometry = {k: doc.number(m, k, path, required=k in ("width_m", "depth_m"), default=0.0, positive=k in ("width_m", "depth_m"))
                for k in ("x_m", "y_m", "width_m", "depth_m")}
    cooling = doc.text(m, "cooling", path, required=True)
    attrs = doc.attributes(m, path, skip=HALL_KEYS)
    _add(doc, path, lambda: facility.add_hall(hall, cooling=cooling, **geometry, **attrs))
    rows = m.get("rows") or []
    if isinstance(rows, dict):
        _row_template(facility, doc, doc.mapping(rows, path + ("rows",), ROW_TEMPLATE_KEYS), hall, geometry, path + ("rows",), power, heat)
        return
    for i, raw in enumerate(doc.sequence(rows, path + ("rows",))):
        rpath = path + ("rows", i)
        r = doc.mapping(raw, rpath)
        name = doc.text(r, "id", rpath, required=True)
        row = _add(doc, rpath, lambda: facility.add_row(hall, name, **doc.attributes(r, rpath, skip=("id", "racks"))))
        racks = doc.sequence(r.get("racks") or [], rpath + ("racks",))
        _explicit_racks(facility, doc, racks, row, rpath + ("racks",), power, heat)


def _explicit_racks(facility: Facility, doc: Doc, racks: list, row: str, path: tuple, power: list, heat: list) -> None:
    specs = []
    for j, raw in enumerate(racks):
        p = path + (j,)
        r = doc.mapping(raw, p)
        name = doc.text(r, "id", p, required=True)
        for k in ("x_m", "y_m"):
            doc.number(r, k, p, required=True)
        specs.append((p, name, r))
    ids = _add(doc, path, lambda: facility.add_racks(
        row, names=[s[1] for s in specs], x_m=[s[2]["x_m"] for s in specs], y_m=[s[2]["y_m"] for s in specs]))
    groups: dict[tuple, tuple[tuple, list[str]]] = {}
    for (p, _, r), rack in zip(specs, ids):
        key = _rack_spec(doc, r, p)
        facility.graph.nodes[rack].update(doc.attributes(r, p, skip=("id", "system", "nodes", "power_cap_w") + RACK_EDGE_KEYS))
        if key[0] is not None:
            groups.setdefault(key, (p, []))[1].append(rack)
        power += [(p + ("fed_by",), src, rack) for src in doc.names(r, "fed_by", p)]
        heat += [(p + ("cooled_by",), rack, dst) for dst in doc.names(r, "cooled_by", p)]
    for (system, nodes, cap), (p, members) in groups.items():
        _add(doc, p, lambda: facility.populate(members, system, nodes=nodes, power_cap_w=cap))


def _rack_spec(doc: Doc, r: dict, path: tuple) -> tuple:
    """(system, nodes, power_cap_w) of a rack entry, checked."""
    system = doc.text(r, "system", path)
    nodes = doc.number(r, "nodes", path, positive=True, integer=True)
    cap = doc.number(r, "power_cap_w", path, positive=True)
    return (system, nodes, cap)


def _row_template(facility: Facility, doc: Doc, t: dict, hall: str, geometry: dict, path: tuple, power: list, heat: list) -> None:
    count = doc.number(t, "count", path, required=True, positive=True, integer=True)
    per_row = doc.number(t, "racks", path, required=True, positive=True, integer=True)
    rack = doc.mapping(t.get("rack") or {}, path + ("rack",), RACK_SPEC_KEYS)
    system, nodes, cap = _rack_spec(doc, rack, path + ("rack",))
    dims = {k: doc.number(rack, k, path + ("rack",), positive=True, default=RACK_DEFAULTS[k]) for k in RACK_DEFAULTS}
    pitch = doc.number(t, "pitch_m", path, positive=True, default=dims["width_m"])
    spacing = doc.number(t, "spacing_m", path, positive=True, default=dims["depth_m"] * 2 + 1.2)
    first_x = doc.number(t, "first_x_m", path, default=geometry["x_m"] + 1.2 + dims["width_m"] / 2)
    first_y = doc.number(t, "first_y_m", path, default=geometry["y_m"] + 1.2 + dims["depth_m"] / 2)
    fed_by, cooled_by = doc.names(t, "fed_by", path), doc.names(t, "cooled_by", path)
    busways = [doc.mapping(b, path + ("busways", i), BUSWAY_KEYS)
               for i, b in enumerate(doc.sequence(t.get("busways") or [], path + ("busways",)))]
    redundancy = doc.text(t, "busway_redundancy", path)
    rack_units = [doc.mapping(u, path + ("rack_units", i), RACK_UNIT_KEYS)
                  for i, u in enumerate(doc.sequence(t.get("rack_units") or [], path + ("rack_units",)))]
    _check_template_size(facility, doc, path, count, per_row, system, nodes, len(busways), len(rack_units))
    for i in range(count):
        row = _add(doc, path, lambda: facility.add_row(hall, f"row-{i + 1:02d}", y_m=first_y + i * spacing))
        feeds = list(fed_by)
        for j, b in enumerate(busways):
            bpath = path + ("busways", j)
            bid = f"{row}/{doc.text(b, 'name', bpath, required=True)}"
            extra = {"group": f"{row}/busways", "redundancy": redundancy} if redundancy and len(busways) > 1 else {}
            _add(doc, bpath, lambda: facility.add_device(
                bid, doc.text(b, "kind", bpath, default="busway"), rating_kw=doc.number(b, "rating_kw", bpath, required=True, positive=True), **extra))
            power += [(bpath + ("fed_by",), src, bid) for src in doc.names(b, "fed_by", bpath)]
            feeds.append(bid)
        ids = _add(doc, path, lambda: facility.add_racks(row, per_row, x_m=first_x, pitch_m=pitch, **dims))
        power += [(path + ("fed_by",), src, r) for src in feeds for r in ids]
        heat += [(path + ("cooled_by",), r, dst) for dst in cooled_by for r in ids]
        for j, u in enumerate(rack_units):
            upath = path + ("rack_units", j)
            name, kind = doc.text(u, "name", upath, required=True), doc.text(u, "kind", upath, default="rdhx")
            rating = doc.number(u, "rating_kw", upath, required=True, positive=True)
            sinks = doc.names(u, "rejects_to", upath)
            for r in ids:
                unit = _add(doc, upath, lambda: facility.add_device(f"{r}/{name}", kind, rating_kw=rating))
                heat += [(upath, r, unit)] + [(upath + ("rejects_to",), unit, dst) for dst in sinks]
        if system is not None:
            _add(doc, path + ("rack",), lambda: facility.populate(ids, system, nodes=nodes, power_cap_w=cap))


def _check_template_size(facility: Facility, doc: Doc, path: tuple, count: int, per_row: int, system: str | None,
                         nodes: int | None, busways: int, rack_units: int) -> None:
    """Refuse a row template whose counts would build more nodes than `twin.limits` allows, before building any."""
    gpus = 0
    if system is not None and facility.gpu_nodes:
        spec = _add(doc, path + ("rack", "system"), lambda: facility.catalog.system(system))
        gpus = spec.gpus_per_rack(spec.nodes_per_rack[0] if nodes is None else nodes)
    per_rack = 1 + gpus + rack_units
    total = len(facility.graph) + count * (1 + busways + per_row * per_rack)
    try:
        limits.check_nodes(total, gpus=count * per_row * gpus,
                           what=f"{count:,} rows of {per_row:,} racks ({per_rack:,} graph nodes each)")
    except limits.SizeLimitError as exc:
        raise doc.error(path, exc.problem, exc.fix) from None


def _connect(facility: Facility, doc: Doc, edges: list, kind: str) -> None:
    nodes = facility.graph.nodes
    for path, src, dst in edges:
        for end in (src, dst):
            if end not in nodes:
                known = [n for n, k in facility.graph.nodes(data="kind") if k in DEVICE_KINDS]
                raise doc.error(path, f"{kind} link {src!r} -> {dst!r} names {end!r}, which is not in the blueprint",
                                did_you_mean(end, known))
    facility.connect_many([(s, d) for _, s, d in edges], kind)


def _add(doc: Doc, path: tuple, build):
    """Run one builder call, turning its TwinError into a BlueprintError at this field."""
    try:
        return build()
    except TwinError as exc:
        raise doc.error(path, str(exc), "fix this entry") from None


def write(facility: Facility) -> dict[str, Any]:
    """The explicit blueprint of a facility (every row and rack listed); `read` gives back the same graph."""
    g = facility.graph
    site = {k: v for k, v in g.graph.items() if k not in SITE_RESERVED and k != GPU_NODES}
    out: dict[str, Any] = {"format": FORMAT, "name": facility.name}
    if g.graph.get("description") is not None:
        out["description"] = g.graph["description"]
    if not facility.gpu_nodes:
        out[GPU_NODES] = False
    out["site"] = {k: v for k, v in site.items() if k != "description"}
    kinds = dict(g.nodes(data="kind"))

    def ins(node, edge):
        return [u for u, d in g.pred[node].items() if d.get("kind") == edge]

    def outs(node, edge):
        return [v for v, d in g.succ[node].items() if d.get("kind") == edge]

    def children(node, kind):
        return [c for c in outs(node, "contains") if kinds.get(c) == kind]

    equipment = []
    for node, kind in kinds.items():
        if kind in DEVICE_KINDS:
            entry = {"id": node, **dict(g.nodes[node])}
            _edges(entry, "fed_by", ins(node, "power"))
            _edges(entry, "rejects_to", outs(node, "heat"))
            equipment.append(entry)
    out["equipment"] = equipment
    halls = []
    for hall in children(SITE, "hall"):
        entry = {"id": hall, **{k: v for k, v in g.nodes[hall].items() if k != "kind"}, "rows": []}
        for row in children(hall, "row"):
            rentry = {"id": row[len(hall) + 1:], **{k: v for k, v in g.nodes[row].items() if k != "kind"}, "racks": []}
            for rack in children(row, "rack"):
                r = {"id": rack[len(row) + 1:], **{k: v for k, v in g.nodes[rack].items() if k != "kind"}}
                _edges(r, "fed_by", ins(rack, "power"))
                _edges(r, "cooled_by", outs(rack, "heat"))
                rentry["racks"].append(r)
            entry["rows"].append(rentry)
        halls.append(entry)
    out["halls"] = halls
    return out


def _edges(entry: dict, key: str, ends: list[str]) -> None:
    if ends:
        entry[key] = ends
