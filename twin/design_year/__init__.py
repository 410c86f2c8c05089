"""The design weather year: every hour a facility must hold at full load, which hours can bind, and
`check` (a facility through its year: hours over the grid limit, throttled, over temperature).

Submodules: `hours` (non-dominated hours, exceedance), `assess` (`check`: the year at full load),
`sizing` (free-cooling plant sized for the year).

>>> from twin import design_year
>>> ds = design_year.design_weather("phoenix")
>>> ds.sizes["time"]
8760
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twin.design_year.assess import YearCheck, check
from twin.design_year.hours import EXCEEDANCE, binding_hours, dominators, exceedance_hours, non_dominated

if TYPE_CHECKING:
    import xarray as xr

YEAR_HOURS = 8760
DEFAULT_CLIMATE = "temperate"
"""The climate a facility without one is designed for (as the design model has always assumed)."""


def design_weather(source: Any) -> xr.Dataset:
    """The design weather year: a facility's climate (or a climate name, .epw/.csv file or Dataset),
    as `twin.weather.load` gives it for 8,760 hours from Jan 1 (a Dataset is taken as it is)."""
    from twin import weather

    if hasattr(source, "graph") and hasattr(source, "climate"):
        source = source.climate or DEFAULT_CLIMATE
    return weather.load(source, hours=YEAR_HOURS)


__all__ = ["EXCEEDANCE", "YEAR_HOURS", "YearCheck", "binding_hours", "check", "design_weather", "dominators",
           "exceedance_hours", "non_dominated"]
