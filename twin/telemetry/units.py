"""Units of measured values: spelled the many ways exports spell them, checked against what a variable measures.

Each unit belongs to one dimension (power, temperature, fraction, frequency, flow) and converts to that
dimension's base linearly: base = value x scale + offset. A value may only be converted within its
dimension; anything else is an error naming where the unit came from.

>>> convert([1500.0], "W", "kW").tolist()
[1.5]
>>> round(float(convert(212.0, "degF", "degC")), 6)
100.0
>>> convert([87.0], "%", "1").tolist()
[0.87]
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np


class Unit(NamedTuple):
    """A unit: its dimension, and base = value x scale + offset."""

    dimension: str
    scale: float
    offset: float = 0.0


_W = Unit("power", 1.0)
_KW = Unit("power", 1e3)
_MW = Unit("power", 1e6)
_C = Unit("temperature", 1.0)
_F = Unit("temperature", 5.0 / 9.0, -32.0 * 5.0 / 9.0)
_PCT = Unit("fraction", 0.01)
_ONE = Unit("fraction", 1.0)
_LH = Unit("flow", 1.0)

#: unit spellings seen in nvidia-smi, DCGM, Prometheus, Redfish (incl. UCUM) and BMS exports; case matters
#: where a prefix does (MW megawatt, mW milliwatt), so lower-case 'mw' is refused as ambiguous
UNITS: dict[str, Unit] = {
    **{s: _W for s in ("W", "w", "Watts", "watts", "Watt", "watt", "WATTS", "WATT")},
    **{s: _KW for s in ("kW", "KW", "kw", "Kw", "kilowatt", "kilowatts", "Kilowatts", "KILOWATTS", "kWe")},
    **{s: _MW for s in ("MW", "megawatt", "megawatts", "Megawatts", "MWe")},
    "mW": Unit("power", 1e-3),
    "GW": Unit("power", 1e9),
    **{s: Unit("power", 0.29307107) for s in ("BTU/h", "Btu/h", "BTU/hr", "Btu/hr", "btu/h", "BTUH", "MBH")},
    **{s: _C for s in ("C", "°C", "degC", "deg C", "DegC", "degrees C", "Celsius", "celsius", "Cel", "℃", "c", "DEGC")},
    **{s: _F for s in ("F", "°F", "degF", "deg F", "DegF", "degrees F", "Fahrenheit", "fahrenheit", "℉", "DEGF")},
    **{s: Unit("temperature", 1.0, -273.15) for s in ("K", "kelvin", "Kelvin")},
    **{s: _PCT for s in ("%", "percent", "Percent", "PERCENT", "pct", "%RH", "% RH", "%rh", "RH%")},
    **{s: _ONE for s in ("1", "ratio", "fraction", "-", "none", "unitless")},
    **{s: Unit("frequency", 1.0) for s in ("Hz", "hz")},
    **{s: Unit("frequency", 1e6) for s in ("MHz", "Mhz", "mhz", "MHZ")},
    **{s: Unit("frequency", 1e9) for s in ("GHz", "Ghz", "ghz")},
    **{s: _LH for s in ("L/h", "l/h", "L/hr", "l/hr", "lph", "LPH")},
    **{s: Unit("flow", 60.0) for s in ("L/min", "l/min", "lpm", "LPM")},
    **{s: Unit("flow", 1000.0) for s in ("m3/h", "m³/h", "m3/hr", "cmh")},
    **{s: Unit("flow", 227.12470704) for s in ("gpm", "GPM", "gal/min", "USgpm")},
    **{s: Unit("flow", 3.785411784) for s in ("gal/h", "gph", "GPH")},
    **{s: Unit("tokens", 1.0) for s in ("tokens/s", "tok/s", "s-1", "1/s")},
}
#: spellings that name a quantity the twin does not read as this dimension (with what they are instead)
REFUSED = {
    "mw": "lower-case 'mw' could be mW or MW",
    **{s: "apparent power, not real power" for s in ("VA", "kVA", "KVA", "kva", "MVA")},
    **{s: "energy, not power (export a power reading or a rate)" for s in ("J", "mJ", "kJ", "Wh", "kWh", "KWH", "kwh", "MWh")},
    **{s: "a fan speed in revolutions per minute" for s in ("RPM", "rpm", "{rev}/min")},
}
_BRACKETS = re.compile(r"^\s*[\[(](.*)[\])]\s*$")


def normalize(text: Any) -> str:
    """A unit spelling cleaned of brackets, spaces and the mojibake degree sign ('Â°C')."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = str(text).strip().replace("Â°", "°").replace("º", "°")
    m = _BRACKETS.match(s)
    return (m.group(1) if m else s).strip()


def lookup(text: Any) -> Unit | None:
    """The Unit a spelling names, or None when unknown (see `problem` for why)."""
    s = normalize(text)
    return UNITS.get(s)


def problem(text: Any, dimension: str) -> str | None:
    """Why `text` cannot be a unit of `dimension` (None when it can)."""
    s = normalize(text)
    if s in REFUSED:
        return f"unit {s!r} is {REFUSED[s]}"
    unit = UNITS.get(s)
    if unit is None:
        known = sorted({k for k, u in UNITS.items() if u.dimension == dimension and k})[:10]
        return f"unit {s!r} is unknown; units of {dimension}: {', '.join(known)}"
    if unit.dimension != dimension:
        return f"unit {s!r} measures {unit.dimension}, not {dimension}"
    return None


def factor(source: str, target: str) -> tuple[float, float]:
    """(a, b) with target_value = a x source_value + b; both units must share a dimension."""
    u, v = UNITS[normalize(source)], UNITS[normalize(target)]
    if u.dimension != v.dimension:
        raise ValueError(f"cannot convert {source!r} ({u.dimension}) to {target!r} ({v.dimension})")
    return u.scale / v.scale, (u.offset - v.offset) / v.scale


def convert(values: Any, source: str, target: str) -> np.ndarray:
    """Values in `source` units expressed in `target` units (vectorized)."""
    a, b = factor(source, target)
    return np.asarray(values, dtype=float) * a + b


__all__ = ["Unit", "UNITS", "REFUSED", "normalize", "lookup", "problem", "factor", "convert"]
