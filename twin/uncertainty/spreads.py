"""How wide an input's spread is, from the evidence behind it: one default per evidence tag, each an assumption
with its reasoning, and the distribution family (symmetric triangular) that turns a spread into samples.

A spread is relative (a factor on the catalog value, median 1) or absolute (an offset, median 0). Symmetric
triangular distributions keep the median at the catalog value, so the deterministic answer is the answer at the
inputs' medians; the half-width is the largest deviation a sample can take.

>>> s = Spread(0.1)
>>> [round(float(x), 3) for x in s.ppf([0.0, 0.5, 1.0])]
[0.9, 1.0, 1.1]
>>> round(s.mean, 6), round(s.variance, 8)
(1.0, 0.00166667)
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from twin.errors import TwinError, did_you_mean


@dataclass(frozen=True)
class Spread:
    """A triangular distribution on [center - low, center + high] with its mode at `center` (1 for a factor,
    0 for an offset). `why` says where the width comes from (an assumption's reasoning or a source)."""

    half_width: float
    center: float = 1.0
    why: str = ""
    high: float | None = None        # an asymmetric upper half-width (None: the same as the lower)

    def __post_init__(self) -> None:
        hi = self.half_width if self.high is None else self.high
        if not (self.half_width >= 0 and hi >= 0) or (self.center == 1.0 and self.half_width >= 1.0):
            raise TwinError(f"spread half-width {self.half_width!r} (upper {hi!r}) must be >= 0, and below 1 for a "
                            "factor (a factor must stay positive); give e.g. 0.1 for +-10 %")

    @property
    def low_value(self) -> float:
        return self.center - self.half_width

    @property
    def high_value(self) -> float:
        return self.center + (self.half_width if self.high is None else self.high)

    def ppf(self, u: Any) -> np.ndarray:
        """Values at quantiles u in [0, 1] (inverse CDF of the triangular distribution); vectorized."""
        u = np.asarray(u, dtype=float)
        a, c, b = self.low_value, self.center, self.high_value
        if b - a <= 0:
            return np.full(u.shape, c)
        fc = (c - a) / (b - a)
        lower = a + np.sqrt(np.clip(u, 0, 1) * (b - a) * (c - a))
        upper = b - np.sqrt(np.clip(1 - u, 0, 1) * (b - a) * (b - c))
        return np.where(u < fc, lower, upper)

    @property
    def median(self) -> float:
        return float(self.ppf(0.5))

    @property
    def mean(self) -> float:
        return (self.low_value + self.center + self.high_value) / 3.0

    @property
    def variance(self) -> float:
        a, c, b = self.low_value, self.center, self.high_value
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0


TAG_HALF_WIDTH: Mapping[str, tuple[float, str]] = MappingProxyType({
    "standard": (0.02, "assumption: a figure a standard fixes (ASHRAE limits, unit definitions) moves only with "
                       "the edition and the site's reading of it"),
    "measured": (0.05, "assumption: run-to-run scatter of a measured figure and the site-to-site spread of "
                       "identical hardware; RAPS (ExaDigiT) reports its power predictions as +-5 % bands"),
    "calibrated": (0.05, "assumption: a fit to the user's own telemetry is as good as a measurement"),
    "official_statistics": (0.10, "assumption: published averages (EIA prices) hide the spread between sites "
                                  "and years that one site faces"),
    "vendor_spec": (0.10, "assumption: datasheet figures are nominal; delivered systems differ by SKU, firmware "
                          "and configuration"),
    "secondary": (0.15, "assumption: a figure restated or derived by a third party carries its derivation's error"),
    "analyst_estimate": (0.25, "assumption: analysts disagree on capex and prices by a quarter or more"),
    "vendor_claim": (0.30, "assumption: a vendor's claim is a best case; the field often delivers a third less"),
    "assumption": (0.30, "assumption: the twin's own assumption, not sourced; a wide spread says so"),
})
"""Default half-width of a factor's triangular spread per evidence tag (every width an assumption, reasoned)."""

THROUGHPUT_HALF_WIDTH = (0.15, "assumption: measured curves move with each serving-software release (public "
                               "benchmark fronts rose 30-60 % in a quarter); +-15 % spans about a month of releases "
                               "either way around the measured nightly run")
UTILIZATION_HALF_WIDTH = (0.15, "assumption: delivered utilization of serving capacity; on-demand occupancy runs "
                                "45-65 % and best-in-class 85 %+ (market.yaml), so +-15 % around the profile")
WEATHER_OFFSET_C = (1.5, "assumption: a year's mean temperature differs from the typical year's by up to about "
                         "1.5 K (interannual variability of annual means at mid-latitude sites is ~0.5-1 K standard "
                         "deviation); applied to dry bulb, wet bulb and dew point alike")


def tag_spread(tag: str, widths: Mapping[str, float] | None = None) -> Spread:
    """The default factor spread of an evidence tag (with `widths` overriding per tag)."""
    if widths and tag in widths:
        return Spread(float(widths[tag]), why=f"given for evidence {tag!r}")
    if tag not in TAG_HALF_WIDTH:
        raise TwinError(f"no default spread for evidence {tag!r}; {did_you_mean(tag, TAG_HALF_WIDTH)}")
    width, why = TAG_HALF_WIDTH[tag]
    return Spread(width, why=f"{tag}: {why}")


def as_spread(value: Any, center: float, where: str) -> Spread:
    """A user's override: a half-width (0.2), a (low, high) pair of values, or a Spread."""
    if isinstance(value, Spread):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Spread(float(value), center=center, why=f"given for {where}")
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        lo, hi = (float(v) for v in value)
        if not lo <= center <= hi:
            raise TwinError(f"spread of {where}: ({lo:g}, {hi:g}) must contain the median {center:g}; "
                            f"give (low, high) with low <= {center:g} <= high")
        return Spread(center - lo, center=center, high=hi - center, why=f"given for {where}")
    raise TwinError(f"spread of {where}: {value!r} is neither a half-width (0.2) nor a (low, high) pair; "
                    "give e.g. 0.2 or [0.8, 1.3]")


__all__ = ["Spread", "TAG_HALF_WIDTH", "tag_spread", "as_spread", "THROUGHPUT_HALF_WIDTH", "UTILIZATION_HALF_WIDTH",
           "WEATHER_OFFSET_C"]
