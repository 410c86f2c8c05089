"""OpenUSD in and out: a facility as a stage with SimReady AI-factory metadata and connection points, and back.

>>> import blueprints, twin
>>> site = blueprints.load("ai-factory-hall")
>>> twin.export_usd(site, "hall.usdc")                 # doctest: +SKIP
>>> again = twin.import_usd("hall.usdc")                # doctest: +SKIP

`pxr` (the `usd-core` package) is imported on first use, so `import twin` stays fast. What is mapped, which
SimReady fields are read and written and what is ours: docs/usd.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import xarray as xr

    from twin.catalog import Catalog
    from twin.facility import Facility


def export_usd(facility: Facility, path: str | Path, state: xr.Dataset | None = None, **kwargs: Any) -> Path:
    """Write a facility (and optionally a simulation state as time samples) to .usda/.usdc/.usdz; see `twin.usd.export`."""
    from twin.usd.export import export_usd as run

    return run(facility, path, state, **kwargs)


def import_usd(path: str | Path, *, catalog: Catalog | None = None) -> Facility:
    """Read a facility from a USD stage that follows the twin's (and SimReady's) conventions; see `twin.usd.importer`."""
    from twin.usd.importer import import_usd as run

    return run(path, catalog=catalog)


__all__ = ["export_usd", "import_usd"]
