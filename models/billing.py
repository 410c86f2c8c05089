"""Compute-hour billing: what a GPU-hour sells for, per catalog system, and revenue per rack-hour under it.

The design model values a rack by the tokens it sells at tier prices (billing `tokens`, the AI-factory
framing). An AI datacenter bills GPU-hours instead (site attribute `billing: gpu_hours`). Prices are the
SemiAnalysis 3-year rental rates (USD per GPU-hour) used by InferenceX, copied from
reference/economics.yaml `gpu_tco_hourly` (column `rental_3yr`; analyst_estimate); systems the analyst
does not price carry a labelled assumption. A GPU running under a power cap delivers only the cap
curve's share of its throughput, so its hour sells at price x cap factor (assumption: rental prices are
for full-speed GPUs; selling a throttled hour at full price would reward caps for nothing).

>>> from twin.catalog import default_catalog
>>> gpu_hour_price(default_catalog(), "gb200_nvl72").usd
3.3
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np

from twin.errors import InfeasibleDesign, did_you_mean

if TYPE_CHECKING:
    from twin.catalog import Catalog

BILLINGS = ("tokens", "gpu_hours")
SEMIANALYSIS_TCO = "https://github.com/SemiAnalysisAI/InferenceX-app/blob/8647066e3705a1b68efa34fb34f325ce7d03edad/packages/app/src/lib/constants.ts"
RENTAL_3YR_USD = {
    "h100_hgx8": 1.30, "h200_hgx8": 1.60, "b200_hgx8": 2.90, "b300_hgx8": 3.48, "gb200_nvl72": 3.30,
    "gb300_nvl72": 3.96, "mi300x_8gpu": 1.55, "mi355x_8gpu": 2.10,
}
"""USD per GPU-hour, 3-year rental (reference/economics.yaml gpu_tco_hourly, SemiAnalysis 2026-04-02)."""
PLACEHOLDERS = {"b300_hgx8": "1.2 x B200", "gb300_nvl72": "1.2 x GB200"}
"""Entries the analyst marks as placeholders (evidence stays analyst_estimate, the note says so)."""
SCALE_FROM = "gb300_nvl72"
"""Systems without an analyst price: the GB300 price scaled by catalog capex per GPU (assumption)."""


class Price(NamedTuple):
    """A GPU-hour price with where it comes from."""

    usd: float
    source: str
    evidence: str
    note: str


def gpu_hour_price(catalog: Catalog, system: str) -> Price:
    """USD per GPU-hour a system rents for, with its source and evidence tag."""
    spec = catalog.system(system)
    if system in RENTAL_3YR_USD:
        note = "rental_3yr" + (f" ({PLACEHOLDERS[system]} placeholder)" if system in PLACEHOLDERS else "")
        return Price(RENTAL_3YR_USD[system], SEMIANALYSIS_TCO, "analyst_estimate", note)
    base = catalog.system(SCALE_FROM)
    usd = RENTAL_3YR_USD[SCALE_FROM] * spec.capex_usd_per_gpu / base.capex_usd_per_gpu
    return Price(round(usd, 4), SEMIANALYSIS_TCO, "assumption",
                 f"no analyst price: {SCALE_FROM} rental scaled by capex per GPU "
                 f"({spec.capex_usd_per_gpu:,.0f} / {base.capex_usd_per_gpu:,.0f} USD)")


def check_billing(billing: object) -> str:
    """The site's billing model (default `tokens`); a clear error for anything else."""
    value = "tokens" if billing is None else billing
    if value not in BILLINGS:
        raise InfeasibleDesign(f"site billing {billing!r} is not one of {list(BILLINGS)}; "
                               f"{did_you_mean(str(billing), BILLINGS)}")
    return str(value)


def rack_usd_per_hour(catalog: Catalog, options: Sequence[tuple[str, int, float]], factors: Sequence[float]) -> np.ndarray:
    """(option,) USD per rack-hour at full use under GPU-hour billing: GPUs x price x cap factor."""
    out = np.empty(len(options))
    for i, ((system, nodes, _), factor) in enumerate(zip(options, factors)):
        spec = catalog.system(system)
        out[i] = spec.gpus_per_rack(nodes) * gpu_hour_price(catalog, system).usd * float(factor)
    return out


def billed_usd_per_hour(catalog: Catalog, site: dict, options: list, tokens: list, token_usd: list,
                        cap_curve: str | None = None) -> list:
    """Revenue per rack-hour at list prices (option x tier) under the site's billing: the token prices
    unchanged for `tokens`; for `gpu_hours`, every tier a rack can serve pays the rack's GPU-hour price."""
    if check_billing(site.get("billing")) == "tokens" or not options:
        return token_usd
    from twin.physics import gpu

    curve = cap_curve or gpu.DEFAULT_CAP_CURVE
    factors = [float(gpu.cap_factor(catalog, cap, catalog.system(s).gpu_tdp_w, curve)) for s, _, cap in options]
    per_rack = rack_usd_per_hour(catalog, options, factors)
    return [[per_rack[i] if t > 0 else 0.0 for t in row] for i, row in enumerate(tokens)]


__all__ = ["BILLINGS", "RENTAL_3YR_USD", "Price", "gpu_hour_price", "check_billing", "rack_usd_per_hour",
           "billed_usd_per_hour"]
