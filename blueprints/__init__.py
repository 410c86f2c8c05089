"""Reference facility blueprints shipped with the project, loadable by name or from any path.

>>> import blueprints
>>> "ai-factory-hall" in blueprints.names()
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.errors import BlueprintError, did_you_mean

if TYPE_CHECKING:
    from twin.catalog import Catalog
    from twin.facility import Facility

DEFAULT = "ai-factory-hall"
BUILDER_TOP_KEYS = ("format", "name", "description", "gpu_nodes", "builder", "site")
"""Top-level keys of a parametric blueprint (one with a `builder:` section)."""


def names() -> list[str]:
    """Names of the packaged blueprints."""
    return sorted(p.name[: -len(".yaml")] for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))


def path(name: str) -> Path:
    """The file behind a packaged blueprint name (or the given path, if it is a file)."""
    candidate = Path(name)
    if candidate.suffix.lower() in (".yaml", ".yml", ".json", ".usda", ".usdc", ".usd", ".usdz"):
        if not candidate.is_file():
            raise BlueprintError(f"{name}: no such blueprint file; check the path")
        return candidate
    if name not in names():
        raise BlueprintError(f"unknown blueprint {name!r}; {did_you_mean(name, names())} (or give a path to a .yaml file)")
    return Path(str(resources.files(__name__) / f"{name}.yaml"))


def grid_mw(name: str) -> float | None:
    """The grid limit a blueprint declares (builder `grid_mw` or `site.grid_limit_mw`), read without building it.

    Lets callers pick blueprints by size (a 1 GW site takes minutes to save and reload in full).
    """
    from twin.io import parse_yaml, read_text

    file = path(name)
    if file.suffix.lower() not in (".yaml", ".yml"):
        return None
    data, _ = parse_yaml(read_text(file), str(file))
    if not isinstance(data, dict):
        return None
    value = (data.get("builder") or {}).get("grid_mw") or (data.get("site") or {}).get("grid_limit_mw")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def load(
    name_or_path: str | Path = DEFAULT,
    *,
    validate: bool = True,
    catalog: Catalog | str | Path | None = None,
    gpu_nodes: bool | None = None,
    **site: Any,
) -> Facility:
    """Load a packaged blueprint by name, or a blueprint/JSON file by path; validated unless told not to.

    Keyword arguments override site attributes (e.g. `climate="lulea"`, `grid_limit_mw=50`); a parametric
    blueprint (a file with a `builder:` section) passes them to its builder instead where the builder
    takes them (`climate`, `grid_mw`, `system`, ...). catalog: a Catalog, or the path of a catalog overlay file
    (for example the calibrated values `twin calibrate` writes) applied over the packaged catalog.
    gpu_nodes: build with (True) or without (False: a lean graph, `Facility.gpu_nodes`) one node per GPU, over
    the file's own `gpu_nodes:` (default true).
    """
    from twin import blueprint
    from twin.graph import bulk
    from twin.io import load as load_file
    from twin.io import parse_yaml, read_text

    if isinstance(catalog, (str, Path)):
        from twin.catalog import default_catalog

        catalog = default_catalog().extend(catalog)
    file = path(str(name_or_path))
    data = doc = None
    if file.suffix.lower() in (".yaml", ".yml"):
        data, doc = parse_yaml(read_text(file), str(file))
    if gpu_nodes is not None and not isinstance(gpu_nodes, bool):
        raise BlueprintError(f"{file}: gpu_nodes={gpu_nodes!r} is not true or false; pass gpu_nodes=True or False")
    if isinstance(data, dict) and "builder" in data:
        facility = _from_builder(data, doc, site, gpu_nodes)
    else:
        if doc is not None:
            with bulk():
                facility = blueprint.read(data, doc, base_dir=file.parent, catalog=catalog, gpu_nodes=gpu_nodes)
        else:
            facility = load_file(file, catalog=catalog)
            if gpu_nodes is not None and gpu_nodes != facility.gpu_nodes:
                facility.set_gpu_nodes(gpu_nodes)
        facility.graph.graph.update(site)
    if catalog is not None:
        facility._catalog = catalog
    if validate:
        facility.validate()
    return facility


def _sizing(doc: Any, value: Any) -> Any:
    """`sizing:` of a builder blueprint: a mapping of `blueprints.layout.Sizing` fields, each a positive number."""
    import dataclasses

    from blueprints.layout import Sizing

    path = ("builder", "sizing")
    fields = [f.name for f in dataclasses.fields(Sizing)]
    m = doc.mapping(value, path, tuple(fields))
    whole = {k for k in fields if isinstance(getattr(Sizing(), k), int)}
    return Sizing(**{k: (int if k in whole else float)(doc.number(m, k, path, positive=True, integer=k in whole)) for k in m})


def _from_builder(data: dict, doc: Any, overrides: dict[str, Any], gpu_nodes: bool | None) -> Facility:
    """A facility from a parametric blueprint: `builder: {name: ai_factory, grid_mw: 100, ...}` plus `site:`; a
    top-level `gpu_nodes:` (or `gpu_nodes=`) goes to the builder."""
    import inspect

    from blueprints import parametric
    from twin import blueprint

    top = doc.mapping(data, (), BUILDER_TOP_KEYS)
    spec = dict(doc.mapping(top["builder"], ("builder",)))
    own = doc.flag(top, "gpu_nodes", ())
    if own is not None and "gpu_nodes" in spec:
        raise doc.error(("builder", "gpu_nodes"), "is given twice (also at the top level)", "keep the top-level one")
    if gpu_nodes is not None or own is not None:
        spec["gpu_nodes"] = own if gpu_nodes is None else gpu_nodes
    name = doc.text(spec, "name", ("builder",), required=True)
    builder = parametric.BUILDERS.get(name)
    if builder is None:
        raise doc.error(("builder", "name"), f"unknown builder {name!r}", did_you_mean(name, parametric.BUILDERS))
    params = {k: v for k, v in spec.items() if k != "name"}
    accepted = inspect.signature(builder).parameters
    extra_site = dict(blueprint.site_section(top, doc))
    for key, value in overrides.items():
        (params if key in accepted else extra_site)[key] = value
    for key, value in params.items():
        if key not in accepted:
            raise doc.error(("builder", key), f"builder {name!r} takes no parameter {key!r}",
                            did_you_mean(key, [p for p in accepted if p != "sizing"]))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            doc.number(params, key, ("builder",))  # finite, and within float range
    if "sizing" in params:
        params["sizing"] = _sizing(doc, params["sizing"])
    try:
        facility = builder(**params, name=top.get("name") or name) if "name" in accepted else builder(**params)
    except (TypeError, ValueError) as exc:
        raise doc.error(("builder",), str(exc), "fix the builder parameters") from None
    facility.graph.graph.update(doc.attributes(extra_site, ("site",), skip=(), mappings=blueprint.SITE_NESTED))
    if top.get("description"):
        facility.graph.graph["description"] = str(top["description"])
    return facility


__all__ = ["DEFAULT", "grid_mw", "load", "names", "path"]
