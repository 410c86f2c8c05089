"""Reference facility blueprints shipped with the project, loadable by name or from any path.

>>> import blueprints
>>> "ai-factory-hall" in blueprints.names()
True
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from twin.errors import BlueprintError, did_you_mean

if TYPE_CHECKING:
    from twin.catalog import Catalog
    from twin.facility import Facility

DEFAULT = "ai-factory-hall"


def names() -> list[str]:
    """Names of the packaged blueprints."""
    return sorted(p.name[: -len(".yaml")] for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))


def path(name: str) -> Path:
    """The file behind a packaged blueprint name (or the given path, if it is a file)."""
    candidate = Path(name)
    if candidate.suffix.lower() in (".yaml", ".yml", ".json"):
        if not candidate.is_file():
            raise BlueprintError(f"{name}: no such blueprint file; check the path")
        return candidate
    if name not in names():
        raise BlueprintError(f"unknown blueprint {name!r}; {did_you_mean(name, names())} (or give a path to a .yaml file)")
    return Path(str(resources.files(__name__) / f"{name}.yaml"))


def load(name_or_path: str | Path = DEFAULT, *, validate: bool = True, catalog: Catalog | None = None) -> Facility:
    """Load a packaged blueprint by name, or a blueprint/JSON file by path; validated unless told not to."""
    from twin.io import load as load_file

    facility = load_file(path(str(name_or_path)), catalog=catalog)
    if validate:
        facility.validate()
    return facility


__all__ = ["DEFAULT", "load", "names", "path"]
