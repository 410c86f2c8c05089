"""What reading telemetry found and did: gaps, duplicates, clock problems, outliers, unmapped series.

Every finding names where (a file or a series), how many samples, the first file line when there is one,
and what was done. The report travels with the Dataset (attribute `telemetry_report`, JSON) so it
survives NetCDF; `twin.telemetry.report(ds)` gives it back as a table.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: finding kinds, in the order tables list them
KINDS = ("unmapped", "unit", "missing", "flagged", "duplicates", "conflicting_duplicates", "dst_repeated",
         "dst_nonexistent", "clock_step", "clock_skew", "clock_offset", "out_of_range", "outliers", "gaps_filled",
         "gaps_open", "partial", "note")


@dataclass
class Finding:
    kind: str
    where: str
    count: int
    line: int | None
    detail: str


@dataclass
class Report:
    """The findings of one import."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, where: str, count: int, line: int | None, detail: str) -> None:
        if count:
            self.findings.append(Finding(kind, str(where), int(count), None if line is None else int(line), detail))

    def note(self, where: str, detail: str) -> None:
        self.findings.append(Finding("note", str(where), 0, None, detail))

    def counts(self) -> dict[str, int]:
        """Samples affected per kind of finding."""
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.kind] = out.get(f.kind, 0) + f.count
        return out

    def table(self) -> pd.DataFrame:
        import pandas as pd

        rows = sorted(self.findings, key=lambda f: (KINDS.index(f.kind) if f.kind in KINDS else len(KINDS), f.where))
        return pd.DataFrame([asdict(f) for f in rows], columns=["kind", "where", "count", "line", "detail"])

    def to_json(self) -> str:
        return json.dumps([asdict(f) for f in self.findings], separators=(",", ":"))

    @classmethod
    def from_json(cls, text: Any) -> Report:
        return cls([Finding(**f) for f in json.loads(text or "[]")])

    def __str__(self) -> str:
        if not self.findings:
            return "no findings"
        return "\n".join(f"{f.kind}: {f.where}" + (f":{f.line}" if f.line else "") + f": {f.detail}" for f in self.findings)


__all__ = ["Finding", "Report", "KINDS"]
