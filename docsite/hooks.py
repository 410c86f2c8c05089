"""MkDocs hooks of the documentation site: generated pages, repository pages included as they are, the nav.

Generated: the format references (docsite/formats.py), the CLI reference (docsite/cli.py), the gallery
(docsite/gallery.py) and the API pages. Included: Markdown files that live beside their code (blueprints,
catalog data, benchmark results, validation figures). Every page in docs/ is in the nav: pages not named in
NAV join the user guide, so a new page needs no change here. Links between repository files are rewritten to
the pages they became; a link to a file that is not a page becomes its path in code.
"""

from __future__ import annotations

import logging
import posixpath
import re
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from docsite import cli, formats, gallery  # noqa: E402

log = logging.getLogger("mkdocs.hooks.docsite")

API = {
    "api/twin.md": ("twin", ["twin", "twin.simulation.simulate", "twin.state.TwinAccessor", "twin.views.render",
                             "twin.usd.export_usd", "twin.usd.import_usd", "twin.calibration.calibrate",
                             "twin.catalog.default_catalog", "twin.catalog.Catalog", "twin.weather.load",
                             "twin.progress"]),
    "api/models.md": ("models", ["models"]),
    "api/solvers.md": ("solvers", ["solvers"]),
    "api/blueprints.md": ("blueprints", ["blueprints", "blueprints.parametric"]),
}
"""API page -> (title, the objects documented: a package shows its `__all__`)."""


def api_page(title: str, objects: list[str]) -> str:
    """An API page; a public function or class named like a submodule (`solvers.sweep`) is shown from its module."""
    import importlib
    import inspect

    shown = []
    for name in objects:
        shown.append(name)
        try:
            module = importlib.import_module(name)
        except ImportError:                              # a function or class, not a module
            continue
        if not hasattr(module, "__path__"):
            continue
        for public in getattr(module, "__all__", []):
            value = getattr(module, public)
            own = getattr(value, "__module__", None)
            if (inspect.isfunction(value) or inspect.isclass(value)) and own and own.endswith(f".{public}"):
                shown.append(f"{own}.{public}")
    return "\n\n".join([f"# `{title}`"] + [f"::: {o}" for o in shown])


INCLUDED = {
    "blueprints/README.md": "guide/blueprints.md",
    "twin/data/README.md": "reference/catalog.md",
    "twin/data/weather/README.md": "reference/weather.md",
    "benchmarks/RESULTS.md": "results/benchmarks.md",
    "tests/validation/README.md": "results/published-figures.md",
}
"""Repository Markdown file -> the page it is in the site."""

GENERATED: dict[str, Callable[[], str]] = {
    "reference/blueprint.md": lambda: formats.blueprint_reference(log.warning),
    "reference/workloads.md": lambda: formats.workloads_reference(log.warning),
    "reference/scenarios.md": lambda: formats.scenarios_reference(log.warning),
    "reference/cli.md": cli.cli_reference,
    "gallery.md": gallery.gallery_page,
    **{page: (lambda title=title, objects=objects: api_page(title, objects)) for page, (title, objects) in API.items()},
}

NAV = [
    {"Home": "index.md"},
    {"User guide": ["getting-started.md", "concepts.md", "guide/blueprints.md", "usd.md", "telemetry.md"]},
    {"Format reference": ["reference/blueprint.md", "reference/workloads.md", "reference/scenarios.md",
                          "reference/catalog.md", "reference/weather.md"]},
    {"Command line": "reference/cli.md"},
    {"API reference": list(API)},
    {"Gallery": "gallery.md"},
    {"Benchmarks and validation": ["results/benchmarks.md", "results/published-figures.md"]},
]
"""The nav; a listed page that does not exist is left out, a page that exists and is not listed joins the guide."""


def _docs_pages(docs_dir: Path) -> list[str]:
    return sorted(p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md"))


def _nav(pages: set[str]) -> list[dict[str, Any]]:
    listed = {p for entry in NAV for v in entry.values() for p in ([v] if isinstance(v, str) else v)}
    extra = sorted(pages - listed)
    nav = []
    for entry in NAV:
        (title, value), = entry.items()
        if isinstance(value, str):
            if value in pages:
                nav.append({title: value})
            continue
        kept = [p for p in value if p in pages] + (extra if title == "User guide" else [])
        if kept:
            nav.append({title: kept})
    return nav


def on_config(config: Any) -> Any:
    """The nav from NAV, with every page of docs/ and every generated or included page."""
    pages = set(_docs_pages(Path(config["docs_dir"]))) | set(GENERATED) | set(INCLUDED.values())
    config["nav"] = _nav(pages)
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages and the included repository pages."""
    from mkdocs.structure.files import File

    for uri, make in GENERATED.items():
        files.append(File.generated(config, uri, content=make()))
    for source, uri in INCLUDED.items():
        files.append(File.generated(config, uri, abs_src_path=str(ROOT / source)))
    return files


def _repo_path(page: Any, docs_dir: Path) -> str | None:
    """Where the page's Markdown lives in the repository (None for a generated page)."""
    uri = page.file.src_uri
    for source, target in INCLUDED.items():
        if target == uri:
            return source
    if uri in GENERATED:
        return None
    return (docs_dir.relative_to(ROOT) / uri).as_posix()


LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
FENCE = re.compile(r"(^```.*?^```)", re.S | re.M)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Rewrite relative links written for the repository (GitHub-style) into links between site pages."""
    docs_dir = Path(config["docs_dir"]).resolve()
    here = _repo_path(page, docs_dir)
    if here is None:
        return markdown
    site_of = {source: uri for source, uri in INCLUDED.items()}
    site_of.update({(docs_dir.relative_to(ROOT) / p).as_posix(): p for p in _docs_pages(docs_dir)})
    page_dir = posixpath.dirname(page.file.src_uri)

    def fix(match: re.Match) -> str:
        bang, text, link = match.groups()
        if re.match(r"^[a-z]+:|^#|^/", link):
            return match.group(0)
        path, _, anchor = link.partition("#")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(here), path))
        if target in site_of:
            rel = posixpath.relpath(site_of[target], page_dir or ".")
            return f"{bang}[{text}]({rel}{'#' + anchor if anchor else ''})"
        if not bang and (ROOT / target).exists() and not target.startswith(".."):
            shown = text.strip("`")
            return f"`{target}`" if shown == target or shown == path else f"{text} (`{target}`)"
        return match.group(0)

    parts = FENCE.split(markdown)
    return "".join(part if part.startswith("```") else LINK.sub(fix, part) for part in parts)


__all__ = ["on_config", "on_files", "on_page_markdown", "NAV", "GENERATED", "INCLUDED", "API"]
