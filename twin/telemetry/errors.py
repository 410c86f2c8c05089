"""The error every telemetry reader raises: which file, which line, which field, what is wrong and the fix."""

from __future__ import annotations

from twin.errors import TwinError


class TelemetryError(ValueError, TwinError):
    """A telemetry or mapping file cannot be read as it stands; `file`, `line` and `field` say where.

    >>> str(TelemetryError("power.csv", 12, "power.draw [W]", "value 'abc' is not a number", "fix or delete the row"))
    "power.csv:12: field 'power.draw [W]': value 'abc' is not a number; fix or delete the row"
    """

    def __init__(self, file: str, line: int | None, field: str | None, problem: str, fix: str):
        self.file = str(file)
        self.line = line
        self.field = field
        where = self.file + (f":{line}" if line else "")
        what = f" field {field!r}:" if field else ""
        super().__init__(f"{where}:{what} {problem}; {fix}")


__all__ = ["TelemetryError"]
