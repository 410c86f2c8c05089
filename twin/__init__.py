"""An open digital twin of AI factories: facility graph, sourced catalog, physics, optimization, 3D views.

>>> import twin
>>> f = twin.Facility("empty", grid_limit_mw=10)
>>> f.name
'empty'
"""

from __future__ import annotations

import importlib
from typing import Any

from twin.errors import (
    BlueprintError, CatalogError, GraphError, InfeasibleDesign, Problem, TwinError, UnknownEntry, ValidationError,
    WriteError,
)
from twin.facility import Facility

__version__ = "0.1.0"

_LAZY_MODULES = ("catalog", "weather", "blueprint", "io", "tables", "validation", "physics", "views", "state", "usd",
                 "telemetry", "calibration", "design_year")
_LAZY_FUNCTIONS = {"simulate": "twin.simulation", "render": "twin.views", "export_usd": "twin.usd",
                   "import_usd": "twin.usd", "calibrate": "twin.calibration", "check": "twin.design_year"}


def __getattr__(name: str) -> Any:
    """Import heavier submodules (and `simulate`, `render`, `check`, `export_usd`, ...) on first use so `import twin` stays fast."""
    if name in _LAZY_MODULES:
        return importlib.import_module(f"twin.{name}")
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(_LAZY_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'twin' has no attribute {name!r}")


__all__ = [
    "Facility", "TwinError", "BlueprintError", "CatalogError", "GraphError", "InfeasibleDesign", "Problem",
    "UnknownEntry", "ValidationError", "WriteError", "__version__",
]
