"""The market a facility sells into: token demand per tier over the day with a price response, and GPU-hour
demand with a contract mix. Defaults and their sources: `twin/data/market.yaml`.

Token tiers. Each tier has a peak-hour demand at its list price (tokens/s; given absolutely or per MW of the
site's grid limit), a 24-hour shape and a price response: points (price / list price, demand / demand at
list) of a downward demand curve. In each hour the seller picks the price that earns most from the
tokens it can serve; revenue at each point is price x demand, linear between points, so the revenue of
serving more tokens is concave (an LP can hold it exactly). A tier may instead give `sell_through`, the
share of its capacity that sells at list price each hour (x the shape). A tier the market does not name
sells every token at list price (unlimited demand).

GPU-hours. A share of the GPUs is reserved (take-or-pay at the reserved price, paid every hour); the rest
sells on demand at a premium while occupied. `GpuHourMarket.realized_factor` is the revenue per installed
GPU-hour over the system's reserved (3-year rental) price.

>>> m = default_market()
>>> m.peak_demand("standard", grid_mw=10) == 10 * m.tier("standard").demand_tokens_per_s_per_mw
True
>>> m.revenue_usd_per_year("standard", 0.0, grid_mw=10, list_usd_per_mtok=3.0)
0.0
>>> t = np.array(["2025-07-01T03", "2025-07-01T15"], dtype="datetime64[h]")
>>> [round(x) for x in m.demand_series("standard", t, grid_mw=1.0)]
[44850, 150000]
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from twin.errors import BlueprintError, did_you_mean

HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365.0
TIER_FIELDS = ("demand_tokens_per_s", "demand_tokens_per_s_per_mw", "daily_shape", "price_response", "sell_through",
               "commit_tokens_per_s")
GPU_HOUR_FIELDS = ("reserved_share", "reserved_price_factor", "on_demand_price_factor", "on_demand_occupancy")
SCALE_FIELDS = ("token_price_factor", "demand_factor", "gpu_hour_price_factor", "occupancy_factor")
MARKET_KEYS = ("tiers", "daily_shape", "gpu_hours", *SCALE_FIELDS)
Error = Callable[[tuple, str, str], Exception]


@dataclass(frozen=True)
class TierMarket:
    """Demand for one token tier: peak-hour tokens/s at list price, its daily shape and price response."""

    tier: str
    demand_tokens_per_s: float | None = None          # absolute peak-hour demand at list price
    demand_tokens_per_s_per_mw: float = math.inf      # used when no absolute demand is given
    daily_shape: tuple[float, ...] | None = None      # None: the market's shape
    price_response: tuple[tuple[float, float], ...] = ((1.0, 1.0),)
    sell_through: float | None = None                 # share of capacity sold at list price (instead of a demand)
    commit_tokens_per_s: float = 0.0                  # capacity the site must build for the tier
    evidence: str = "assumption"
    source: tuple[str, ...] = ()
    note: str = ""

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """(width, marginal price factor) of each revenue segment per unit of demand at list price."""
        q = np.array([0.0] + [d for _, d in self.price_response])
        r = np.array([0.0] + [p * d for p, d in self.price_response])
        width = np.diff(q)
        return width, np.diff(r) / np.where(width > 0, width, 1.0)


@dataclass(frozen=True)
class GpuHourMarket:
    """GPU-hour demand: reserved share, prices relative to the 3-year rental rate, on-demand occupancy."""

    reserved_share: float = 0.7
    reserved_price_factor: float = 1.0
    on_demand_price_factor: float = 1.6
    on_demand_occupancy: float = 0.65

    @property
    def realized_factor(self) -> float:
        """Revenue per installed GPU-hour / the reserved rental price."""
        r = self.reserved_share
        return r * self.reserved_price_factor + (1 - r) * self.on_demand_price_factor * self.on_demand_occupancy

    @property
    def occupancy(self) -> float:
        """Share of installed GPU-hours that run work (reserved GPUs assumed busy)."""
        return self.reserved_share + (1 - self.reserved_share) * self.on_demand_occupancy


@dataclass(frozen=True)
class Market:
    """Token tiers and GPU-hours, plus four scale knobs (1.0 = as sourced) for sensitivity studies."""

    daily_shape: tuple[float, ...]
    tiers: Mapping[str, TierMarket] = field(default_factory=lambda: MappingProxyType({}))
    gpu_hours: GpuHourMarket = GpuHourMarket()
    token_price_factor: float = 1.0      # x every tier's list price
    demand_factor: float = 1.0           # x every tier's demand (or sell-through)
    gpu_hour_price_factor: float = 1.0   # x every GPU-hour price
    occupancy_factor: float = 1.0        # x on-demand occupancy

    def tier(self, tier: str) -> TierMarket:
        """The tier's market (unlimited demand at list price when the market does not name it)."""
        return self.tiers.get(tier) or TierMarket(tier, note="not in the market: every token sells at list price")

    def limited(self, tier: str) -> bool:
        """True when the tier's sales are bounded (a demand or a sell-through)."""
        t = self.tier(tier)
        return t.sell_through is not None or math.isfinite(self._peak(t, 1.0))

    def shape(self, tier: str) -> np.ndarray:
        """(24,) demand in each hour as a share of the peak hour."""
        own = self.tier(tier).daily_shape
        return np.asarray(own if own is not None else self.daily_shape, dtype=float)

    def peak_demand(self, tier: str, grid_mw: float) -> float:
        """Peak-hour tokens/s demanded at list price (inf when unlimited)."""
        return self._peak(self.tier(tier), grid_mw) * self.demand_factor

    @staticmethod
    def _peak(t: TierMarket, grid_mw: float) -> float:
        return float(t.demand_tokens_per_s) if t.demand_tokens_per_s is not None else t.demand_tokens_per_s_per_mw * grid_mw

    def hourly_demand(self, tier: str, grid_mw: float) -> np.ndarray:
        """(24,) tokens/s demanded at list price in each hour of the day."""
        return self.peak_demand(tier, grid_mw) * self.shape(tier)

    def demand_series(self, tier: str, time: Any, grid_mw: float) -> np.ndarray:
        """Tokens/s demanded at list price at each time stamp (numpy datetime64; site-local hour of day)."""
        hours = (np.asarray(time, dtype="datetime64[h]").astype("int64") % HOURS_PER_DAY).astype(int)
        return self.hourly_demand(tier, grid_mw)[hours]

    def gpu_hour_factor(self) -> float:
        """Revenue per installed GPU-hour over the system's 3-year rental price, knobs applied."""
        g = dataclasses.replace(self.gpu_hours, on_demand_occupancy=min(1.0, self.gpu_hours.on_demand_occupancy
                                                                        * self.occupancy_factor))
        return g.realized_factor * self.gpu_hour_price_factor

    def revenue_usd_per_year(self, tier: str, capacity_tokens_per_s: float, *, grid_mw: float,
                             list_usd_per_mtok: float) -> float:
        """USD/year from `capacity_tokens_per_s` of serving capacity, each hour sold at its best price."""
        return float(self.hourly_sales(tier, capacity_tokens_per_s, grid_mw=grid_mw,
                                       list_usd_per_mtok=list_usd_per_mtok)[1].sum())

    def hourly_sales(self, tier: str, capacity_tokens_per_s: float, *, grid_mw: float,
                     list_usd_per_mtok: float) -> tuple[np.ndarray, np.ndarray]:
        """((24,) tokens/s sold, (24,) USD/year earned in that hour of every day) for a serving capacity.

        Revenue at the demand curve's points is price x demand, linear between them (what the design model
        holds exactly); capacity beyond the curve's last point stays unsold.
        """
        t = self.tier(tier)
        cap = max(float(capacity_tokens_per_s), 0.0)
        usd_per_token_year = list_usd_per_mtok * self.token_price_factor / 1e6 * 3600.0 * DAYS_PER_YEAR
        if t.sell_through is not None:
            sold = np.minimum(1.0, t.sell_through * self.demand_factor) * self.shape(tier) * cap
            return sold, sold * usd_per_token_year
        demand = self.hourly_demand(tier, grid_mw)
        if not np.all(np.isfinite(demand)):
            sold = np.full(HOURS_PER_DAY, cap)
            return sold, sold * usd_per_token_year
        q = np.array([0.0] + [d for _, d in t.price_response])
        r = np.array([0.0] + [p * d for p, d in t.price_response])
        top = int(np.argmax(r))            # selling beyond the best point earns less: keep the rest unsold
        sold = np.minimum(cap, q[top] * demand)
        earned = np.array([np.interp(s, q[: top + 1] * d, r[: top + 1] * d) if d > 0 else 0.0
                           for s, d in zip(sold, demand)])
        return sold, earned * usd_per_token_year

    def scaled(self, **factors: float) -> Market:
        """A copy with scale knobs multiplied: token_price_factor, demand_factor, gpu_hour_price_factor,
        occupancy_factor (e.g. `m.scaled(token_price_factor=0.8)`)."""
        unknown = set(factors) - set(SCALE_FIELDS)
        if unknown:
            raise BlueprintError(f"market scale {sorted(unknown)[0]!r} is unknown; use {', '.join(SCALE_FIELDS)}")
        return dataclasses.replace(self, **{k: getattr(self, k) * float(v) for k, v in factors.items()})


# ------------------------------------------------------------------------------------------------ parsing
def _plain(value: Any) -> Any:
    """A packaged record {value, evidence, source, note} or a plain value -> the value."""
    return value["value"] if isinstance(value, Mapping) and "value" in value else value


def _default_error(prefix: str) -> Error:
    def error(path: tuple, message: str, fix: str) -> Exception:
        where = ".".join([prefix, *(str(p) for p in path)])
        return BlueprintError(f"{where}: {message}; {fix}")
    return error


def _number(raw: Any, path: tuple, error: Error, lo: float = 0.0, hi: float = math.inf) -> float:
    value = _plain(raw)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (lo <= value <= hi):
        raise error(path, f"is {value!r}", f"give a number in [{lo:g}, {hi:g}]")
    return float(value)


def _shape(raw: Any, path: tuple, error: Error) -> tuple[float, ...]:
    value = _plain(raw)
    if not isinstance(value, (list, tuple)) or len(value) != HOURS_PER_DAY:
        raise error(path, f"needs {HOURS_PER_DAY} hourly shares (one per hour of the day), got {value!r}",
                    "list 24 numbers in [0, 1], the peak hour 1")
    shape = tuple(_number(v, path + (i,), error, 0.0, 1.0) for i, v in enumerate(value))
    if max(shape) <= 0:
        raise error(path, "is zero in every hour", "give the peak hour 1")
    return shape


def _curve(raw: Any, path: tuple, error: Error) -> tuple[tuple[float, float], ...]:
    value = _plain(raw)
    fix = "write [[price / list price, demand / demand at list], ...] with the price falling and demand rising, e.g. [[1, 1], [0.5, 2.5]]"
    if not isinstance(value, (list, tuple)) or not value:
        raise error(path, f"is {value!r}", fix)
    points = []
    for i, pt in enumerate(value):
        if not isinstance(pt, (list, tuple)) or len(pt) != 2:
            raise error(path + (i,), f"is {pt!r}", fix)
        points.append((_number(pt[0], path + (i, 0), error, 0.0), _number(pt[1], path + (i, 1), error, 0.0)))
    p = np.array([x for x, _ in points])
    d = np.array([y for _, y in points])
    if np.any(np.diff(p) >= 0) or np.any(np.diff(d) <= 0) or d[0] <= 0:
        raise error(path, f"{points} is not a downward demand curve", fix)
    width = np.diff(np.concatenate([[0.0], d]))
    slope = np.diff(np.concatenate([[0.0], p * d])) / width
    if np.any(np.diff(slope) > 1e-12):
        raise error(path, f"{points}: revenue (price x demand) must grow ever more slowly as the price falls",
                    "make demand rise less steeply at low prices (the design model needs concave revenue)")
    return tuple(points)


def _tier(name: str, raw: Any, base: TierMarket | None, path: tuple, error: Error) -> TierMarket:
    if not isinstance(raw, Mapping):
        raise error(path, f"is {raw!r}", f"give a mapping with some of {', '.join(TIER_FIELDS)}")
    known = set(TIER_FIELDS) | {"evidence", "source", "note"}
    for key in raw:
        if key not in known:
            raise error(path + (key,), "is not a tier market field", did_you_mean(str(key), TIER_FIELDS))
    out = base or TierMarket(name)
    changes: dict[str, Any] = {}
    if "demand_tokens_per_s" in raw:
        changes["demand_tokens_per_s"] = _number(raw["demand_tokens_per_s"], path + ("demand_tokens_per_s",), error)
    if "demand_tokens_per_s_per_mw" in raw:
        changes["demand_tokens_per_s_per_mw"] = _number(raw["demand_tokens_per_s_per_mw"],
                                                        path + ("demand_tokens_per_s_per_mw",), error)
        changes.setdefault("demand_tokens_per_s", None)
    if raw.get("daily_shape") is not None:
        changes["daily_shape"] = _shape(raw["daily_shape"], path + ("daily_shape",), error)
    if "price_response" in raw:
        changes["price_response"] = _curve(raw["price_response"], path + ("price_response",), error)
    if "sell_through" in raw:
        changes["sell_through"] = (None if raw["sell_through"] is None
                                   else _number(raw["sell_through"], path + ("sell_through",), error, 0.0, 1.0))
    if "commit_tokens_per_s" in raw:
        changes["commit_tokens_per_s"] = _number(raw["commit_tokens_per_s"], path + ("commit_tokens_per_s",), error)
    for key in ("evidence", "note"):
        if key in raw:
            changes[key] = str(raw[key])
    if "source" in raw:
        src = raw["source"]
        changes["source"] = tuple(src) if isinstance(src, (list, tuple)) else (str(src),)
    return dataclasses.replace(out, **changes)


def parse_market(raw: Any, base: Market | None = None, *, tiers: Any = None, error: Error | None = None) -> Market:
    """A `Market` from a mapping (the packaged file's `market:` or a blueprint's `site.market`) over `base`.

    Tier entries go under `tiers:`; a tier id at the top level is read as one too (the older flat form).
    `tiers` (ids) names the tiers a catalog knows, for a did-you-mean on a typo.
    """
    error = error or _default_error("site.market")
    if not isinstance(raw, Mapping):
        raise error((), f"is {raw!r}", "give a mapping: tiers, daily_shape, gpu_hours")
    known_tiers = set(tiers) if tiers is not None else None
    out = base or Market(daily_shape=(1.0,) * HOURS_PER_DAY)
    entries: dict[str, tuple[Any, tuple]] = {}
    for key, value in raw.items():
        if key == "tiers":
            if not isinstance(value, Mapping):
                raise error(("tiers",), f"is {value!r}", "give a mapping tier id -> demand")
            entries.update({str(t): (v, ("tiers", t)) for t, v in value.items()})
        elif key not in MARKET_KEYS:
            if known_tiers is not None and key not in known_tiers:
                raise error((key,), "is neither a market field nor a catalog tier",
                            did_you_mean(str(key), [*MARKET_KEYS, *sorted(known_tiers)]))
            entries[str(key)] = (value, (key,))
    for t, (_, path) in entries.items():
        if known_tiers is not None and t not in known_tiers:
            raise error(path, "names a tier the catalog lacks", did_you_mean(t, sorted(known_tiers)))
    changes: dict[str, Any] = {}
    if raw.get("daily_shape") is not None:
        changes["daily_shape"] = _shape(raw["daily_shape"], ("daily_shape",), error)
    if entries:
        merged = dict(out.tiers)
        for t, (value, path) in entries.items():
            merged[t] = _tier(t, value, merged.get(t), path, error)
        changes["tiers"] = MappingProxyType(merged)
    if raw.get("gpu_hours") is not None:
        g = raw["gpu_hours"]
        if not isinstance(g, Mapping):
            raise error(("gpu_hours",), f"is {g!r}", f"give a mapping with {', '.join(GPU_HOUR_FIELDS)}")
        for key in g:
            if key not in GPU_HOUR_FIELDS:
                raise error(("gpu_hours", key), "is not a GPU-hour market field", did_you_mean(str(key), GPU_HOUR_FIELDS))
        hi = {"reserved_share": 1.0, "on_demand_occupancy": 1.0}
        changes["gpu_hours"] = dataclasses.replace(out.gpu_hours, **{
            k: _number(v, ("gpu_hours", k), error, 0.0, hi.get(k, math.inf)) for k, v in g.items()})
    for key in SCALE_FIELDS:
        if raw.get(key) is not None:
            changes[key] = _number(raw[key], (key,), error)
    return dataclasses.replace(out, **changes)


@functools.lru_cache(maxsize=1)
def _packaged() -> dict[str, Any]:
    import yaml

    from twin.catalog import _packaged_text

    return yaml.safe_load(_packaged_text("market.yaml"))


def default_market() -> Market:
    """The packaged market (twin/data/market.yaml)."""
    raw = {k: v for k, v in _packaged()["market"].items() if k != "validation"}
    return parse_market(raw, error=_default_error("twin/data/market.yaml: market"))


def market_for(site: Mapping[str, Any], tiers: Any = None) -> Market:
    """The market a site sells into: the packaged default with the site's `market` mapping over it."""
    own = site.get("market")
    return default_market() if not own else parse_market(own, default_market(), tiers=tiers)


def validation_bands() -> dict[str, Any]:
    """The public ranges for realized revenue per GPU-hour (market.yaml `validation`)."""
    return dict(_packaged()["market"]["validation"])


__all__ = ["Market", "TierMarket", "GpuHourMarket", "default_market", "market_for", "parse_market",
           "validation_bands", "HOURS_PER_DAY", "DAYS_PER_YEAR", "SCALE_FIELDS"]
