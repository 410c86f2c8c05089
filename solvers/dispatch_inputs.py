"""What a dispatch is given: energy prices, grid events, tier demand and token prices, read and checked.

Prices: a number (USD/MWh, flat), an array over the steps, or a CSV with columns `time, price_usd_per_mwh`
(each step takes the last price at or before it). Events: a YAML/JSON file or a list of mappings, each a
curtailment request (start, duration, target, notice, payment), or OpenADR 3 event messages with capacity-limit
intervals, see `read_events`. Tier demand and token prices come from `tier_market`: the one place to
switch to the market model when it lands (until then: the catalog's tier prices and a demand series).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from twin.errors import TwinError

if TYPE_CHECKING:
    import pandas as pd

EVENT_FIELDS = {"id", "start", "duration_h", "end", "target_mw", "reduce_mw", "reduce_pct", "notice_h",
                "payment_usd_per_mwh", "penalty_usd_per_mwh"}


class DispatchInputError(ValueError, TwinError):
    """A price series, event or demand given to a dispatch is unusable; the message names it and the fix."""


@dataclass(frozen=True)
class Event:
    """A grid curtailment request: from `start` for `duration_h`, import at most a target (MW, or a cut in MW or
    % of the site's import without the event); known `notice_h` ahead; paid per MWh cut; penalized per MWh over."""

    id: str
    start: np.datetime64
    duration_h: float
    target_mw: float | None = None
    reduce_mw: float | None = None
    reduce_pct: float | None = None
    notice_h: float = 0.0
    payment_usd_per_mwh: float = 0.0
    penalty_usd_per_mwh: float | None = None

    def mask(self, time: np.ndarray, step_h: np.ndarray) -> np.ndarray:
        """Steps that overlap the event."""
        t0 = self.start.astype("datetime64[s]").astype(np.int64)
        t1 = t0 + int(round(self.duration_h * 3600))
        s = time.astype("datetime64[s]").astype(np.int64)
        e = s + np.round(step_h * 3600).astype(np.int64)
        return (s < t1) & (e > t0)

    def notice_step(self, time: np.ndarray) -> int:
        """Index of the first step that starts at or after the site learns of the event."""
        told = self.start.astype("datetime64[s]") - np.timedelta64(int(round(self.notice_h * 3600)), "s")
        return int(np.searchsorted(time.astype("datetime64[s]"), told, side="left"))

    def target_kw(self, baseline_kw: np.ndarray, limit_kw: float) -> np.ndarray:
        """Import allowed during the event, per step, given the import without it (`baseline_kw`)."""
        if self.target_mw is not None:
            return np.full(baseline_kw.shape, self.target_mw * 1000.0)
        if self.reduce_mw is not None:
            return np.maximum(baseline_kw - self.reduce_mw * 1000.0, 0.0)
        return baseline_kw * (1.0 - self.reduce_pct / 100.0)


def read_events(source: Any) -> list[Event]:
    """Events from a YAML/JSON path, a mapping with an `events` list, or a list of mappings.

    Each event: `start` (ISO time), `duration_h` (or `end`), exactly one of `target_mw`, `reduce_mw`,
    `reduce_pct`; optional `id`, `notice_h` (default 0), `payment_usd_per_mwh`, `penalty_usd_per_mwh`. An OpenADR 3
    event object (one with `intervals`) gives one event per interval (`solvers.dispatch_openadr`).
    """
    if source is None:
        return []
    if isinstance(source, (str, Path)):
        from twin.io import parse_yaml, read_text

        source, _ = parse_yaml(read_text(source), str(source))
    from solvers.dispatch_openadr import events_from_openadr, is_openadr

    if isinstance(source, dict):
        source = [source] if is_openadr(source) else source.get("events", None)
    if not isinstance(source, (list, tuple)):
        raise DispatchInputError("events: give a list of events (or a mapping with an `events` list)")
    return [x for i, e in enumerate(source)
            for x in (events_from_openadr(e) if is_openadr(e) else [_event(e, i)])]


def _event(raw: Any, i: int) -> Event:
    where = f"events[{i}]"
    if isinstance(raw, Event):
        return raw
    if not isinstance(raw, dict):
        raise DispatchInputError(f"{where}: an event is a mapping with start, duration_h and a target")
    unknown = set(raw) - EVENT_FIELDS
    if unknown:
        raise DispatchInputError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(EVENT_FIELDS)}")
    start = _time(raw.get("start"), f"{where}.start")
    if "duration_h" in raw:
        duration = _number(raw["duration_h"], f"{where}.duration_h", low=0.0, strict=True)
    elif "end" in raw:
        duration = float((_time(raw["end"], f"{where}.end") - start) / np.timedelta64(1, "s")) / 3600.0
        if duration <= 0:
            raise DispatchInputError(f"{where}: end must be after start")
    else:
        raise DispatchInputError(f"{where}: give duration_h (hours) or end")
    targets = [k for k in ("target_mw", "reduce_mw", "reduce_pct") if raw.get(k) is not None]
    if len(targets) != 1:
        raise DispatchInputError(f"{where}: give exactly one of target_mw, reduce_mw, reduce_pct (got {targets or 'none'})")
    values = {k: _number(raw[k], f"{where}.{k}", low=0.0) for k in targets}
    if "reduce_pct" in values and values["reduce_pct"] > 100:
        raise DispatchInputError(f"{where}.reduce_pct {values['reduce_pct']:g} is above 100")
    penalty = raw.get("penalty_usd_per_mwh")
    return Event(str(raw.get("id", f"event-{i + 1}")), start, duration, **values,
                 notice_h=_number(raw.get("notice_h", 0.0), f"{where}.notice_h", low=0.0),
                 payment_usd_per_mwh=_number(raw.get("payment_usd_per_mwh", 0.0), f"{where}.payment_usd_per_mwh", low=0.0),
                 penalty_usd_per_mwh=None if penalty is None else _number(penalty, f"{where}.penalty_usd_per_mwh", low=0.0))


def read_prices(source: Any, time: np.ndarray, default_usd_per_kwh: float) -> np.ndarray:
    """Energy price per step, USD/kWh, from a number (USD/MWh), an array (USD/MWh) or a CSV file."""
    n = time.size
    if source is None:
        return np.full(n, float(default_usd_per_kwh))
    if isinstance(source, (int, float)) and not isinstance(source, bool):
        return np.full(n, _number(source, "prices", low=-1e4) / 1000.0)
    if isinstance(source, (str, Path)):
        return _price_file(Path(source), time)
    arr = np.asarray(source, dtype=float)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise DispatchInputError(f"prices: an array needs {n} finite values (USD/MWh, one per step), got shape {arr.shape}")
    return arr / 1000.0


def read_csv(path: Path, what: str) -> pd.DataFrame:
    """A dispatch input's CSV file (`what`: price, headroom) as a DataFrame; a missing or unreadable file says so."""
    import pandas as pd

    if not path.is_file():
        raise DispatchInputError(f"{path}: no such {what} file")
    try:
        return pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise DispatchInputError(f"{path}: not a readable CSV ({exc})") from None


def _price_file(path: Path, time: np.ndarray) -> np.ndarray:
    import pandas as pd

    df = read_csv(path, "price")
    need = {"time", "price_usd_per_mwh"}
    if not need <= set(df.columns):
        raise DispatchInputError(f"{path}: needs columns time, price_usd_per_mwh; has {list(df.columns)}")
    t = pd.to_datetime(df["time"], errors="coerce")
    p = pd.to_numeric(df["price_usd_per_mwh"], errors="coerce")
    bad = t.isna() | p.isna() | ~np.isfinite(p.to_numpy(float))
    if bad.any():
        raise DispatchInputError(f"{path}: row {int(np.flatnonzero(bad.to_numpy())[0]) + 2} has no valid time or price")
    order = np.argsort(t.to_numpy())
    tv = t.to_numpy()[order].astype("datetime64[s]")
    pv = p.to_numpy(float)[order]
    idx = np.searchsorted(tv, time.astype("datetime64[s]"), side="right") - 1
    if idx.min() < 0:
        raise DispatchInputError(f"{path}: the first price ({tv[0]}) is after the first step ({time[0]}); "
                                 "add a price at or before the start")
    return pv[idx] / 1000.0


def _time(value: Any, where: str) -> np.datetime64:
    if isinstance(value, (datetime.datetime, datetime.date)):
        return np.datetime64(value, "s")
    try:
        return np.datetime64(str(value), "s")
    except ValueError:
        raise DispatchInputError(f"{where}: {value!r} is not an ISO time like 2025-01-02T14:00") from None


def _number(value: Any, where: str, *, low: float | None = None, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
        raise DispatchInputError(f"{where}: {value!r} is not a finite number")
    if low is not None and (value < low or (strict and value <= low)):
        raise DispatchInputError(f"{where}: {value!r} must be {'>' if strict else '>='} {low:g}")
    return float(value)


def tier_market(catalog, tiers: Sequence[str], capacity_tokens_per_s: np.ndarray, time: np.ndarray,
                demand: Any = None) -> np.ndarray:
    """Demand per tier and step, tokens/s: a given (time, tier) array, a number (share of capacity), or by default
    each tier's capacity share shaped by the twin's diurnal inference profile (an assumption, see
    `twin.physics.profiles.DIURNAL`). The market model of the economics work replaces the default here."""
    from twin.physics import profiles

    n, j = time.size, len(tiers)
    if demand is None:
        return profiles.diurnal(time)[:, None] * capacity_tokens_per_s[None, :]
    if isinstance(demand, (int, float)) and not isinstance(demand, bool):
        return np.full((n, j), _number(demand, "demand", low=0.0)) * capacity_tokens_per_s[None, :]
    if type(demand).__name__ == "DataArray":
        demand = demand.sel(tier=list(tiers)).transpose("time", "tier").values
    arr = np.asarray(demand, dtype=float)
    if arr.shape != (n, j) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DispatchInputError(f"demand: needs a (time, tier) array of {n} x {j} tokens/s >= 0 for tiers {list(tiers)}, "
                                 f"got shape {arr.shape}")
    return arr


__all__ = ["Event", "read_csv", "read_events", "read_prices", "tier_market", "DispatchInputError", "EVENT_FIELDS"]
