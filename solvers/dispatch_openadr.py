"""Grid events from OpenADR 3 messages: an `event` object (or a list of them) whose intervals carry an
`IMPORT_CAPACITY_LIMIT` payload becomes one curtailment `Event` per interval (target in MW).

What is read (OpenADR 3.0.1 `event` schema): `id`, `eventName`, `createdDateTime` (the notice is start minus it),
`intervalPeriod` {`start`, `duration` (ISO 8601, e.g. PT3H)} as the default of each interval, `payloadDescriptors`
(`units` KW or MW of the capacity limit, default KW), and `intervals` [{`id`, optional `intervalPeriod`, `payloads`
[{`type`, `values`}]}]; an interval without a period starts where the previous one ended. Times with an offset
are converted to UTC, which is then compared with the dispatch's own clock. Payload types other than the capacity
limit (PRICE, SIMPLE, GHG, ...) are not curtailment targets and are refused by name.

>>> msg = {"id": "ev-7", "createdDateTime": "2025-01-07T13:00:00Z", "programID": "feeder-12",
...        "payloadDescriptors": [{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "MW"}],
...        "intervalPeriod": {"start": "2025-01-07T15:00:00Z", "duration": "PT3H"},
...        "intervals": [{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [6.0]}]}]}
>>> [(e.id, str(e.start), e.duration_h, e.target_mw, e.notice_h) for e in events_from_openadr(msg)]
[('ev-7/0', '2025-01-07T15:00:00', 3.0, 6.0, 2.0)]
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import numpy as np

from solvers.dispatch_inputs import DispatchInputError, Event

LIMIT = "IMPORT_CAPACITY_LIMIT"
UNITS_KW = {"KW": 1.0, "MW": 1000.0, "W": 1e-3}
_DURATION = re.compile(r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
                       r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def is_openadr(raw: Any) -> bool:
    """True for an OpenADR event object (it has `intervals`)."""
    return isinstance(raw, dict) and "intervals" in raw


def events_from_openadr(raw: Any) -> list[Event]:
    """Curtailment events from one OpenADR 3 event object or a list of them."""
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return [e for i, item in enumerate(items) for e in _event(item, f"openadr[{i}]" if len(items) > 1 else "openadr")]


def _event(raw: Any, where: str) -> list[Event]:
    if not is_openadr(raw):
        raise DispatchInputError(f"{where}: an OpenADR event is a mapping with `intervals`")
    name = str(raw.get("id") or raw.get("eventName") or where)
    units = {d.get("payloadType"): str(d.get("units", "KW")).upper() for d in raw.get("payloadDescriptors") or []
             if isinstance(d, dict)}
    scale = UNITS_KW.get(units.get(LIMIT, "KW"))
    if scale is None:
        raise DispatchInputError(f"{where}.payloadDescriptors: units {units[LIMIT]!r} of {LIMIT} are not one of "
                                 f"{sorted(UNITS_KW)}")
    default = raw.get("intervalPeriod") or {}
    created = _time(raw["createdDateTime"], f"{where}.createdDateTime") if raw.get("createdDateTime") else None
    out, cursor = [], None
    for k, iv in enumerate(raw["intervals"] or []):
        at = f"{where}.intervals[{k}]"
        period = {**default, **(iv.get("intervalPeriod") or {})}
        if "start" in (iv.get("intervalPeriod") or {}) or cursor is None:
            if "start" not in period:
                raise DispatchInputError(f"{at}: no intervalPeriod.start here or on the event")
            start = _time(period["start"], f"{at}.intervalPeriod.start")
        else:
            start = cursor
        if "duration" not in period:
            raise DispatchInputError(f"{at}: no intervalPeriod.duration here or on the event")
        hours = _hours(period["duration"], f"{at}.intervalPeriod.duration")
        cursor = start + np.timedelta64(int(round(hours * 3600)), "s")
        payloads = {p.get("type"): p.get("values") for p in iv.get("payloads") or [] if isinstance(p, dict)}
        if LIMIT not in payloads:
            raise DispatchInputError(f"{at}: payload types {sorted(map(str, payloads))} carry no {LIMIT}; "
                                     "only capacity limits are curtailment targets")
        values = payloads[LIMIT]
        if not isinstance(values, list) or len(values) != 1 or isinstance(values[0], bool) \
                or not isinstance(values[0], (int, float)) or not np.isfinite(values[0]) or values[0] < 0:
            raise DispatchInputError(f"{at}: {LIMIT} values must be one number >= 0 (got {values!r})")
        notice = 0.0 if created is None else max(0.0, float((start - created) / np.timedelta64(1, "s")) / 3600.0)
        out.append(Event(f"{name}/{iv.get('id', k)}", start, hours, target_mw=float(values[0]) * scale / 1000.0,
                         notice_h=notice))
    if not out:
        raise DispatchInputError(f"{where}: the event has no intervals")
    return out


def _hours(text: Any, where: str) -> float:
    m = _DURATION.match(str(text))
    if not m or not any(m.groupdict().values()):
        raise DispatchInputError(f"{where}: {text!r} is not an ISO 8601 duration like PT3H or PT15M")
    g = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
    hours = 24 * g["d"] + g["h"] + g["m"] / 60 + g["s"] / 3600
    if hours <= 0:
        raise DispatchInputError(f"{where}: {text!r} must be longer than zero")
    return hours


def _time(text: Any, where: str) -> np.datetime64:
    try:
        t = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise DispatchInputError(f"{where}: {text!r} is not an RFC 3339 time like 2025-01-07T15:00:00Z") from None
    if t.tzinfo is not None:
        t = t.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return np.datetime64(t, "s")


__all__ = ["events_from_openadr", "is_openadr", "LIMIT"]
