"""Graph attribute values <-> typed USD attributes under `twin:`, so a stage gives back exactly what was written.

bool, int (64-bit), float, str and homogeneous lists of them get their own USD type (bool, int64, double, string
and their arrays); None is an attribute declared without a value. Anything else (mixed lists, mappings, larger
integers, names that are not USD identifiers or that are ours) goes, as JSON, into one `twin:otherAttributes`
string per prim. Callers pass the `pxr` modules they imported, so this module imports nothing heavy.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from twin.errors import BlueprintError
from twin.usd.schema import NS, RESERVED

INT64 = (-(2 ** 63), 2 ** 63 - 1)
NONE_TYPE = "token"
"""The type of an attribute that records a None: declared, never given a value."""


def usd_type(value: Any) -> tuple[str, Any] | None:
    """(Sdf value type name, value to author) for a value with a USD type of its own, else None (JSON)."""
    if value is None:
        return NONE_TYPE, None
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    if isinstance(value, list):
        if not value:
            return "string[]", []
        scalars = [_scalar(v) for v in value]
        kinds = {s[0] if s is not None else None for s in scalars}
        if len(kinds) == 1 and None not in kinds:
            return f"{kinds.pop()}[]", [s[1] for s in scalars]
    return None


def _scalar(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, bool):
        return "bool", value
    if isinstance(value, numbers.Integral):
        return ("int64", int(value)) if INT64[0] <= value <= INT64[1] else None
    if isinstance(value, numbers.Real):
        return "double", float(value)
    if isinstance(value, str):
        return "string", value
    return None


def split(attrs: dict[str, Any], is_identifier, where: str, prefix: str = NS) -> tuple[dict[str, tuple[str, Any]], str | None]:
    """Typed `<prefix><key>` attributes, and the JSON text of those that need it (or None)."""
    typed: dict[str, tuple[str, Any]] = {}
    other: dict[str, Any] = {}
    for key, value in attrs.items():
        spec = usd_type(value) if str(key).split(":")[0] not in RESERVED and is_identifier(prefix + str(key)) else None
        if spec is None:
            other[key] = value
        else:
            typed[prefix + key] = spec
    if not other:
        return typed, None
    try:
        text = json.dumps(other, allow_nan=True, sort_keys=False)
    except (TypeError, ValueError) as exc:
        raise BlueprintError(f"{where}: attribute values cannot be written to USD ({exc}); use numbers, text, "
                             "true/false or lists of them") from None
    return typed, text


def plain(value: Any) -> Any:
    """A value read back from USD as the plain Python the graph holds (Vt arrays become lists)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        return [plain(v) for v in value]
    return value


def other(text: str, where: str) -> dict[str, Any]:
    """The attributes kept in a `twin:otherAttributes` JSON text."""
    try:
        data = json.loads(text, parse_constant=lambda c: {"NaN": math.nan, "Infinity": math.inf,
                                                           "-Infinity": -math.inf}[c])
    except (json.JSONDecodeError, TypeError) as exc:
        raise BlueprintError(f"{where}: twin:otherAttributes is not JSON ({exc}); rewrite it as a JSON object") from None
    if not isinstance(data, dict):
        raise BlueprintError(f"{where}: twin:otherAttributes is not a JSON object; rewrite it as one")
    return data
