"""What a facility earns and what it costs: the market it sells into and the finance that prices its capital.

Plain data with named fields (frozen dataclasses), so a caller can perturb any parameter with
`dataclasses.replace` or `Market.scaled(...)`; packaged defaults in `twin/data/market.yaml`, each number
sourced and tagged with its evidence; a blueprint's `site.market` and `site.finance` override any field.

>>> from twin.economics import default_market, default_finance
>>> round(float(default_market().shape("standard").mean()), 3)
0.818
>>> round(default_finance().crf("gpus"), 4)
0.2571
"""

from __future__ import annotations

from twin.economics.finance import ASSET_CLASSES, AssetClass, Finance, default_finance, finance_for, parse_finance
from twin.economics.market import (
    HOURS_PER_DAY, GpuHourMarket, Market, TierMarket, default_market, market_for, parse_market, validation_bands,
)

__all__ = ["Market", "TierMarket", "GpuHourMarket", "default_market", "market_for", "parse_market", "validation_bands", "HOURS_PER_DAY",
           "Finance", "AssetClass", "ASSET_CLASSES", "default_finance", "finance_for", "parse_finance"]
