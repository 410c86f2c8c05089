"""Reading a parsed YAML/JSON document field by field, so every mistake names the file, line and field."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from twin.errors import BlueprintError, did_you_mean
from twin.yamlsafe import Lines

SCALARS = (str, int, float, bool, type(None))


def line_map(text: str) -> Lines:
    """Field path (tuple of keys and list indices) -> its 1-based line in the YAML text (see `twin.yamlsafe.Lines`)."""
    return Lines(text)


@dataclass
class Doc:
    """A parsed document plus where it came from, for messages like `hall.yaml:12: halls[0].rows.count: ...`."""

    origin: str
    source: str | None = None
    data: Any = field(default=None, repr=False)
    """The parsed document, so messages can name the id of the entry a field belongs to."""
    _lines: Lines | dict | None = field(default=None, repr=False)

    @property
    def lines(self) -> Lines | dict:
        """Field path -> line, composed from the text only when a message needs it."""
        if self._lines is None:
            self._lines = line_map(self.source) if self.source is not None else {}
        return self._lines

    def error(self, path: tuple, message: str, fix: str) -> BlueprintError:
        where = self.origin
        line = self._line(path)
        if line:
            where += f":{line}"
        return BlueprintError(f"{where}: {self.where(path) or '(top level)'}: {message}; {fix}")

    def where(self, path: tuple) -> str:
        """The field path with the node id of the innermost listed entry it lies in (ids of enclosing entries
        joined by `/`, as the graph names rows and racks): `halls[0].rows[1].racks[3] (hall-a/r02/r3).x_m`."""
        ids, node, value = [], None, self.data
        for i, part in enumerate(path):
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                break
            entry_id = value.get("id") if isinstance(part, int) and isinstance(value, dict) else None
            if isinstance(entry_id, str) and entry_id:
                ids.append(entry_id)
                node = (i, "/".join(ids))
        if node is None:
            return format_path(path)
        rest = format_path(path[node[0] + 1:])
        return f"{format_path(path[:node[0] + 1])} ({node[1]}){'.' if rest and rest[0] != '[' else ''}{rest}"

    def line(self, path: tuple) -> int | None:
        """The line of a field (or of the nearest enclosing one that has a line)."""
        return self._line(path)

    def _line(self, path: tuple) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def mapping(self, value: Any, path: tuple, allowed: Iterable[str] | None = None) -> dict:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping (key: value), got {type_name(value)}", "write it as `key: value` lines")
        for key in value:
            if not isinstance(key, str):
                raise self.error(path, f"key {key!r} is not a string", "use text keys")
            if allowed is not None and key not in allowed:
                raise self.error(path + (key,), f"unknown field {key!r}", did_you_mean(key, allowed))
        return value

    def sequence(self, value: Any, path: tuple) -> list:
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {type_name(value)}", "write it as a YAML list (`- item` lines or [a, b])")
        return value

    def text(self, m: dict, key: str, path: tuple, *, required: bool = False, default: str | None = None) -> str | None:
        value = self._value(m, key, path, required, default)
        if value is not None and not isinstance(value, str):
            raise self.error(path + (key,), f"expected text, got {type_name(value)} {value!r}", "quote it or give a name")
        if isinstance(value, str) and not value:
            raise self.error(path + (key,), "is empty", "give a non-empty name")
        return value

    def number(
        self, m: dict, key: str, path: tuple, *, required: bool = False, default: float | None = None,
        positive: bool = False, minimum: float | None = None, integer: bool = False,
    ) -> Any:
        value = self._value(m, key, path, required, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(path + (key,), f"expected a number, got {type_name(value)} {value!r}", "write a plain number")
        if not _finite(value):
            shown = f"{value!r}" if isinstance(value, float) else f"a {len(str(abs(value)))}-digit number"
            raise self.error(path + (key,), f"expected a finite number, got {shown}", "write a plain finite number")
        if integer and value != int(value):
            raise self.error(path + (key,), f"expected a whole number, got {value!r}", "write an integer")
        if positive and value <= 0:
            raise self.error(path + (key,), f"must be positive, got {value!r}", "write a number above zero")
        if minimum is not None and value < minimum:
            raise self.error(path + (key,), f"must be at least {minimum}, got {value!r}", f"write a number >= {minimum}")
        return int(value) if integer else value

    def flag(self, m: dict, key: str, path: tuple, *, default: bool | None = None) -> bool | None:
        value = self._value(m, key, path, False, default)
        if value is not None and not isinstance(value, bool):
            raise self.error(path + (key,), f"expected true or false, got {type_name(value)} {value!r}",
                             f"write `{key}: true` or `{key}: false`")
        return value

    def names(self, m: dict, key: str, path: tuple) -> list[str]:
        value = m.get(key, [])
        if isinstance(value, str):
            value = [value]
        value = self.sequence(value, path + (key,))
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise self.error(path + (key, i), f"expected a node id, got {type_name(item)} {item!r}", "write the id as text")
        return value

    def attributes(self, m: dict, path: tuple, skip: Iterable[str], mappings: Iterable[str] = ()) -> dict[str, Any]:
        """Free-form node attributes: scalars or lists of scalars (so they survive YAML and JSON); keys in
        `mappings` may also hold a mapping of those (one level, e.g. a site's `workload` with its `tier_mix`)."""
        skip = set(skip)
        out = {}
        for key, value in m.items():
            if key in skip:
                continue
            if key in mappings and isinstance(value, dict):
                out[key] = self._nested(value, path + (key,), depth=2)
                continue
            ok = isinstance(value, SCALARS) or (isinstance(value, list) and all(isinstance(v, SCALARS) for v in value))
            if not ok:
                raise self.error(path + (key,), f"attribute values are numbers, text, true/false or lists of them; got {type_name(value)}",
                                 "flatten the value")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not _finite(value):
                raise self.error(path + (key,), f"is {value!r}" if isinstance(value, float) else "is too large for a number",
                                 "write a finite number")
            if isinstance(value, list) and any(isinstance(v, float) and not _finite(v) for v in value):
                raise self.error(path + (key,), f"holds {value!r}", "write finite numbers")
            out[key] = value
        return out

    def _nested(self, value: dict, path: tuple, depth: int) -> dict[str, Any]:
        """A mapping attribute: its values are attributes, or (while `depth` lasts) mappings of them."""
        out = {}
        for key, inner in self.mapping(value, path).items():
            if isinstance(inner, dict) and depth > 1:
                out[key] = self._nested(inner, path + (key,), depth - 1)
            else:
                out[key] = self.attributes({key: inner}, path, ())[key]
        return out

    def _value(self, m: dict, key: str, path: tuple, required: bool, default: Any) -> Any:
        if key not in m or m[key] is None:
            typo = difflib.get_close_matches(key, [k for k in m if isinstance(k, str) and k != key], n=1, cutoff=0.75)
            if required and key not in m and typo:
                raise self.error(path + (typo[0],), f"unknown field {typo[0]!r}", f"did you mean {key!r}?")
            if required:
                raise self.error(path + (key,) if key in m else path, f"missing required field {key!r}", f"add `{key}: ...`")
            return default
        return m[key]


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float range
        return False


def format_path(path: tuple) -> str:
    """('halls', 0, 'rows') -> 'halls[0].rows'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )
