"""Uncertainty of the twin's inputs: spreads from evidence tags, space-filling samples, bands and sensitivity.

The runs themselves (simulate, optimize, compare over samples on dask) are `solvers.uncertainty`.

>>> from twin.uncertainty import Spread, band
>>> [float(v) for v in band([1.0, 2.0, 3.0, 4.0, 5.0])]
[1.4, 3.0, 4.6]
"""

from __future__ import annotations

from twin.uncertainty.inputs import (
    CATALOG_FAMILIES, GLOBAL_FAMILIES, Input, catalog_inputs, catalog_overlay, global_inputs, overridden,
)
from twin.uncertainty.sampling import METHODS, saltelli, to_values, unit_points
from twin.uncertainty.spreads import TAG_HALF_WIDTH, Spread, as_spread, tag_spread
from twin.uncertainty.stats import QUANTILES, band, first_order, saltelli_indices, tornado

__all__ = ["Input", "Spread", "catalog_inputs", "global_inputs", "overridden", "catalog_overlay", "tag_spread",
           "as_spread", "unit_points", "to_values", "saltelli", "band", "first_order", "saltelli_indices", "tornado",
           "TAG_HALF_WIDTH", "QUANTILES", "METHODS", "CATALOG_FAMILIES", "GLOBAL_FAMILIES"]
