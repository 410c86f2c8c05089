"""The documentation site builds with zero warnings, and its format reference lists every field the loaders accept.

The accepted fields are read from the loaders' code (their key tables, the keys their readers ask for, the
parametric builders' signatures, the site attributes the models read), not from the reference's own tables.
"""

from __future__ import annotations

import ast
import html
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READERS = {"text", "number", "names", "mapping", "attributes"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    assert "WARNING" not in run.stderr, run.stderr[-5000:]
    return out


def documented(site: Path, page: str) -> set[str]:
    """Names in the first column of the page's tables (`<td><code>name</code></td>`)."""
    text = (site / page / "index.html").read_text(encoding="utf-8")
    return {html.unescape(m) for m in re.findall(r"<tr>\s*<td><code>([^<]+)</code></td>", text)}


def loader_keys(path: Path) -> set[str]:
    """Field names a loader module reads: its *_KEYS tables, keys given to its readers, `.get` keys, looped key lists."""
    keys: set[str] = set()

    def strings(node: ast.AST) -> set[str]:
        items = node.elts if isinstance(node, (ast.Tuple, ast.List)) else [node]
        return {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}

    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
            if n.func.attr == "get" and n.args:
                keys |= strings(n.args[0])
            if n.func.attr in READERS:
                keys |= set().union(*(strings(a) for a in n.args[1:] if isinstance(a, (ast.Constant, ast.Tuple))))
        if isinstance(n, ast.For) and isinstance(n.iter, (ast.Tuple, ast.List)):
            keys |= strings(n.iter)
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id.endswith("_KEYS") for t in n.targets):
            keys |= strings(n.value)
    return keys


def site_attributes() -> set[str]:
    """Site attributes the code reads: `x.graph.graph.get("k")`, `["k"]`, or the same on a name bound to it."""
    keys: set[str] = set()

    def is_site(e: ast.AST) -> bool:
        return isinstance(e, ast.Attribute) and e.attr == "graph" and isinstance(e.value, ast.Attribute) and e.value.attr == "graph"

    for path in sorted(p for d in ("twin", "models", "solvers", "blueprints") for p in (ROOT / d).rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.Module)):
                continue
            bound = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and is_site(n.value)
                     for t in n.targets if isinstance(t, ast.Name)}

            def site(e: ast.AST) -> bool:
                return is_site(e) or isinstance(e, ast.Name) and e.id in bound

            for n in ast.walk(fn):
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" and site(n.func.value)
                        and n.args and isinstance(n.args[0], ast.Constant)):
                    keys.add(n.args[0].value)
                if isinstance(n, ast.Subscript) and site(n.value) and isinstance(n.slice, ast.Constant):
                    keys.add(n.slice.value)
    return keys


def test_the_docs_build_with_zero_warnings(site):
    for page in ("index.html", "getting-started/index.html", "concepts/index.html", "usd/index.html",
                 "reference/blueprint/index.html", "reference/workloads/index.html", "reference/scenarios/index.html",
                 "reference/cli/index.html", "api/twin/index.html", "api/solvers/index.html", "gallery/index.html",
                 "results/benchmarks/index.html", "results/published-figures/index.html"):
        assert (site / page).is_file(), page
    for package in ("twin", "models", "solvers", "blueprints"):   # every public function and class has its entry
        module = importlib.import_module(package)
        api = (site / "api" / package / "index.html").read_text(encoding="utf-8")
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) or inspect.isclass(value):
                assert f'id="{package}.{name}"' in api or f'id="{value.__module__}.{name}"' in api, (package, name)


def test_the_blueprint_reference_lists_every_field_the_loader_accepts(site):
    from blueprints import parametric
    from twin import blueprint

    listed = documented(site, "reference/blueprint")
    accepted = loader_keys(ROOT / "twin" / "blueprint.py") | loader_keys(ROOT / "blueprints" / "__init__.py")
    tables = {n for name, v in vars(blueprint).items() if name.endswith("_KEYS") for n in v}
    assert tables <= accepted                                   # the scan sees the tables themselves
    params = {p for b in parametric.BUILDERS.values() for p in inspect.signature(b).parameters}
    attributes = site_attributes()
    assert {"billing", "framing", "systems", "grid_limit_mw"} <= attributes   # the scan finds what the models read
    assert not accepted - listed, f"fields the loader reads but the reference omits: {sorted(accepted - listed)}"
    assert not params - listed, f"builder parameters missing: {sorted(params - listed)}"
    assert not attributes - listed, f"site attributes the code reads but the reference omits: {sorted(attributes - listed)}"
    assert {"cooling_options"} <= listed
    from docsite import formats

    strict = {f for section in formats.BLUEPRINT.values() for f in section}
    assert not strict - accepted - {"builder"}, f"documented but not read by the loader: {sorted(strict - accepted)}"


def test_the_workloads_and_scenario_references_list_every_key(site):
    from models import placement_data

    sweep = importlib.import_module("solvers.sweep")
    workloads = documented(site, "reference/workloads")
    assert not (placement_data.INFERENCE_FIELDS | placement_data.TRAINING_FIELDS) - workloads
    assert not set(sweep.KEYS) - documented(site, "reference/scenarios")


def test_the_cli_reference_has_every_command_and_option(site):
    import typer

    from twin.cli import app

    text = html.unescape((site / "reference" / "cli" / "index.html").read_text(encoding="utf-8"))

    def walk(command, path):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, path + [name])
        else:
            yield " ".join(path), command

    for name, command in walk(typer.main.get_command(app), ["twin"]):
        assert f"<code>{name}</code>" in text, name
        for param in command.params:
            for opt in param.opts if param.param_type_name == "option" else []:
                assert f"<code>{opt}</code>" in text, (name, opt)


def test_a_new_page_joins_the_nav_and_listed_pages_that_do_not_exist_are_left_out():
    from docsite import hooks

    pages = {"index.md", "getting-started.md", "reference/blueprint.md", "gallery.md", "new-topic.md"}
    nav = hooks._nav(pages)
    guide = next(v for entry in nav for k, v in entry.items() if k == "User guide")
    assert guide == ["getting-started.md", "new-topic.md"]
    flat = [p for entry in nav for v in entry.values() for p in ([v] if isinstance(v, str) else v)]
    assert sorted(flat) == sorted(pages)
