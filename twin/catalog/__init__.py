"""The sourced catalog: systems, cooling, power equipment, heat rejection, tiers, power caps, throughput.

Every entry carries `source` and an `evidence` tag (and per-field `provenance` where a field's
evidence differs); users extend the packaged data from their own YAML files.

>>> from twin.catalog import default_catalog
>>> cat = default_catalog()
>>> round(cat.system("gb200_nvl72").rack_power_kw(18, 1200))
132
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

from twin.catalog.entries import (
    ENTRY_TYPES, EVIDENCE_TAGS, CoolingTech, Entry, HeatRejection, PowerCapCurve, PowerEquipment, System, Tier,
)
from twin.catalog.loading import Raw, build_entry, check_doc, merge_all, parse_yaml
from twin.errors import CatalogError, UnknownEntry, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from twin.catalog.throughput import CurvePoints

__all__ = [
    "Catalog", "default_catalog", "System", "CoolingTech", "PowerEquipment", "HeatRejection", "Tier",
    "PowerCapCurve", "Entry", "EVIDENCE_TAGS",
]

PACKAGED_FILES = (
    "systems.yaml", "cooling.yaml", "power_equipment.yaml", "heat_rejection.yaml", "tiers.yaml",
    "power_cap_curves.yaml", "throughput.csv",
)
_TABLE_ALIASES = {
    "systems": "systems", "cooling": "cooling", "equipment": "power_equipment",
    "power_equipment": "power_equipment", "heat_rejection": "heat_rejection", "tiers": "tiers",
    "power_caps": "power_cap_curves", "power_cap_curves": "power_cap_curves", "throughput": "throughput",
}
_KIND = {
    "systems": "system", "cooling": "cooling technology", "power_equipment": "power equipment",
    "heat_rejection": "heat rejection unit", "tiers": "tier", "power_cap_curves": "power-cap curve",
}


class Catalog:
    """All catalog sections as read-only dicts id -> entry, plus the throughput table.

    Build with `default_catalog()`, `Catalog.from_files(...)` or `catalog.extend(user_file)`.
    """

    def __init__(self, raw: Mapping[str, Mapping[str, Raw]], throughput_sources: tuple = (), *,
                 base: Catalog | None = None):
        """`base`: a catalog whose entries are reused where this one's raw entry is the very same (unmerged) one."""
        self._raw = {s: dict(raw.get(s, {})) for s in ENTRY_TYPES}
        self._throughput_sources = tuple(throughput_sources)
        self._entries: dict[str, Mapping[str, Any]] = {
            section: MappingProxyType({ident: _entry(cls, r, section, base) for ident, r in self._raw[section].items()})
            for section, cls in ENTRY_TYPES.items()
        }
        self._check_references()

    # construction -----------------------------------------------------------------------------
    @classmethod
    def from_files(cls, *paths: str | Path) -> Catalog:
        """A catalog from YAML files (sections by name) and throughput CSV files; later files override."""
        return cls({}, ())._extended([(Path(p).read_text(encoding="utf-8"), str(p)) for p in paths])

    def extend(self, path_or_mapping: str | Path | Mapping[str, Any]) -> Catalog:
        """A NEW catalog with user entries merged in: same id overrides field by field, new ids add.

        Each user entry must carry `source` and `evidence`; its overridden fields get that provenance.
        """
        if isinstance(path_or_mapping, Mapping):
            return self._extended([(dict(path_or_mapping), "<mapping>")])
        path = Path(path_or_mapping)
        if not path.is_file():
            raise CatalogError(f"catalog file {path} does not exist")
        return self._extended([(path.read_text(encoding="utf-8"), str(path))])

    def _extended(self, docs: list[tuple[Any, str]]) -> Catalog:
        raw = {s: dict(v) for s, v in self._raw.items()}
        sources = list(self._throughput_sources)
        for content, origin in docs:
            if isinstance(content, str) and origin.lower().endswith(".csv"):
                sources.append((content, origin))
                continue
            doc = parse_yaml(content, origin) if isinstance(content, str) else check_doc(content, origin)
            rows: list = []
            merge_all(raw, doc, origin, rows)
            sources.extend(rows)
        new = Catalog(raw, tuple(sources), base=self)
        if "_throughput" in self.__dict__ and len(sources) == len(self._throughput_sources) and all(
                self.systems.get(i) is not None and (s.throughput_system, dict(s.throughput_multiplier)) ==
                (self.systems[i].throughput_system, dict(self.systems[i].throughput_multiplier))
                for i, s in new.systems.items()):
            new.__dict__["_throughput"] = self._throughput   # same rows and same derivations: share the table
            new.__dict__["_curves"] = self._curves           # and what is read off it
        return new

    def _check_references(self) -> None:
        for s in self.systems.values():
            origin = self._raw["systems"][s.id].origins
            for tech in s.cooling:
                if tech not in self.cooling:
                    raise CatalogError(f"catalog file {origin.get('cooling')}, section 'systems', id {s.id!r}, "
                                       f"field 'cooling': unknown cooling technology {tech!r}; "
                                       f"{did_you_mean(tech, self.cooling)}")
            if s.throughput_system not in self.systems:
                raise CatalogError(f"catalog file {origin.get('throughput_system')}, section 'systems', id {s.id!r}, "
                                   f"field 'throughput_system': unknown system {s.throughput_system!r}; "
                                   f"{did_you_mean(s.throughput_system, self.systems)}")

    # sections ---------------------------------------------------------------------------------
    @property
    def systems(self) -> Mapping[str, System]:
        return self._entries["systems"]

    @property
    def cooling(self) -> Mapping[str, CoolingTech]:
        return self._entries["cooling"]

    @property
    def power_equipment(self) -> Mapping[str, PowerEquipment]:
        return self._entries["power_equipment"]

    @property
    def heat_rejection_units(self) -> Mapping[str, HeatRejection]:
        return self._entries["heat_rejection"]

    @property
    def tiers(self) -> Mapping[str, Tier]:
        return self._entries["tiers"]

    @property
    def power_cap_curves(self) -> Mapping[str, PowerCapCurve]:
        return self._entries["power_cap_curves"]

    def _get(self, section: str, ident: str) -> Any:
        entries = self._entries[section]
        if ident not in entries:
            raise UnknownEntry(f"unknown {_KIND[section]} {ident!r}: {did_you_mean(ident, entries)}")
        return entries[ident]

    def system(self, ident: str) -> System:
        return self._get("systems", ident)

    def cooling_tech(self, ident: str) -> CoolingTech:
        return self._get("cooling", ident)

    def equipment(self, ident: str) -> PowerEquipment:
        return self._get("power_equipment", ident)

    def heat_rejection(self, ident: str) -> HeatRejection:
        return self._get("heat_rejection", ident)

    def tier(self, ident: str) -> Tier:
        return self._get("tiers", ident)

    def power_cap_curve(self, ident: str) -> PowerCapCurve:
        return self._get("power_cap_curves", ident)

    # throughput -------------------------------------------------------------------------------
    @property
    def throughput(self) -> pd.DataFrame:
        """Pareto points per (system, llm, precision, isl, osl); derived rows carry their multiplier (a copy)."""
        return self._throughput.copy()

    @functools.cached_property
    def _throughput(self) -> pd.DataFrame:
        from twin.catalog.throughput import build_table, read_rows

        frames = [read_rows(content, origin, self.systems) for content, origin in self._throughput_sources]
        return build_table(frames, self.systems)

    @functools.cached_property
    def _curves(self) -> dict[tuple, CurvePoints]:
        return {}

    def curve_points(self, system: str, llm: str, precision: str, isl: int, osl: int) -> CurvePoints:
        """A system's Pareto points for one workload as arrays sorted by interactivity (empty when it has none),
        kept with the throughput table: catalogs that share the table (extensions that change no throughput row
        or derivation, such as sampled catalogs) read each curve once."""
        from twin.catalog.throughput import curve_points, workload_rows

        key = (system, llm, precision, isl, osl)
        points = self._curves.get(key)
        if points is None:
            self.system(system)
            points = self._curves[key] = curve_points(workload_rows(self._throughput, *key))
        return points

    def throughput_for(self, system: str) -> pd.DataFrame:
        """The throughput rows of one system id (measured or derived)."""
        self.system(system)
        df = self._throughput
        return df[df["system"] == system].reset_index(drop=True)

    def table(self, name: str) -> pd.DataFrame:
        """One section as a DataFrame for display: id, the key numbers, and evidence."""
        from twin.catalog.display import section_table

        section = _TABLE_ALIASES.get(name)
        if section is None:
            raise UnknownEntry(f"unknown catalog table {name!r}: {did_you_mean(name, _TABLE_ALIASES)}")
        if section == "throughput":
            return self.throughput
        return section_table(section, self._entries[section])

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={len(v)}" for s, v in self._entries.items())
        return f"Catalog({sizes})"


def _entry(cls: type[Entry], raw: Raw, section: str, base: Catalog | None) -> Entry:
    """The entry of one raw record: the base catalog's when it was built from this very record."""
    if base is not None and base._raw[section].get(raw.data["id"]) is raw:
        return base._entries[section][raw.data["id"]]
    return build_entry(cls, raw, section)


def _packaged_text(name: str) -> str:
    try:
        return (resources.files("twin") / "data" / name).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, TypeError):
        return (Path(__file__).resolve().parent.parent / "data" / name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The packaged catalog (cached): every number sourced and tagged with its evidence."""
    return Catalog({}, ())._extended([(_packaged_text(n), f"twin/data/{n}") for n in PACKAGED_FILES])
