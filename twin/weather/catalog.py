"""The packaged climate catalog (twin/data/climates.yaml): site lookup, aliases and design conditions."""

from __future__ import annotations

import copy
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from twin.errors import did_you_mean
from twin.weather.base import UnknownClimate, WeatherError

CATALOG_PATH = Path(__file__).resolve().parent.parent / "data" / "climates.yaml"
WEATHER_DIR = Path(__file__).resolve().parent.parent / "data" / "weather"

# Generic climate names -> the packaged site that stands for them.
ALIASES: dict[str, str] = {
    # subarctic (Dfc); cooling-season air is cool and holds little water: 0.4 % design 23.9 °C DB / 17.2 °C MCWB
    "cold-dry": "lulea",
    # temperate oceanic (Cfb), the textbook temperate class: 0.4 % design 32.1 °C DB / 20.0 °C MCWB
    "temperate": "frankfurt",
    # hot desert (BWh): 0.4 % design 43.6 °C DB / 20.7 °C MCWB
    "hot-dry": "phoenix",
    # tropical rainforest (Af): 0.4 % design 33.2 °C DB / 26.3 °C MCWB, dew point ~24-25 °C all year
    "hot-humid": "singapore",
}


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is ~10x faster when present
        raw = yaml.load(CATALOG_PATH.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise WeatherError(f"{CATALOG_PATH}: packaged climate catalog unreadable ({exc})") from None
    sites = {s["id"]: s for s in raw["sites"]}
    return {"meta": raw["meta"], "sites": sites, "by_reference": {s["reference_id"]: s["id"] for s in raw["sites"]}}


def site_ids() -> list[str]:
    """The packaged climate ids (monthly normals) in catalog order."""
    return list(_catalog()["sites"])


@lru_cache(maxsize=1)
def epw_files() -> dict[str, dict[str, Any]]:
    """Packaged typical-year files by site id (twin/data/weather/files.yaml): file, site, kind, from, licence."""
    import yaml

    index = WEATHER_DIR / "files.yaml"
    try:
        raw = yaml.safe_load(index.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WeatherError(f"{index}: packaged weather index unreadable ({exc})") from None
    return {f["id"]: dict(f, path=str(WEATHER_DIR / f["file"])) for f in raw["files"]}


def file_only_ids() -> list[str]:
    """Sites with a packaged typical-year file but no monthly normals (they cannot be synthesized)."""
    return [k for k in epw_files() if k not in _catalog()["sites"]]


def _normalize(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", text.strip().lower())


def resolve(name: str) -> str:
    """The site id for a site id, alias or reference id (case- and accent-insensitive), else UnknownClimate."""
    cat = _catalog()
    key = _normalize(name)
    candidates = [key, key.replace("_", "-").replace(" ", "-"), key.replace("-", "_").replace(" ", "_")]
    for k in candidates:
        if k in cat["sites"]:
            return k
        if k in ALIASES:
            return ALIASES[k]
        if k in cat["by_reference"]:
            return cat["by_reference"][k]
        if k in epw_files():
            return k
    known = list(cat["sites"]) + file_only_ids() + list(ALIASES)
    raise UnknownClimate(f"unknown climate {name!r}: {did_you_mean(key, known)} (or pass a path to an .epw or .csv file)")


def site(name: str) -> dict[str, Any]:
    """The catalog entry of a name (not a copy; callers must not mutate it)."""
    return _catalog()["sites"][resolve(name)]


def design_value(entry: dict[str, Any], key: str) -> tuple[float | None, str | None]:
    """The newest edition's value of a design field, with that edition's name (editions are stored newest first)."""
    for edition in entry.get("design") or []:
        value = edition.get(key)
        if value is not None:
            return float(value), str(edition["edition"])
    return None, None


def cooling_design_db(entry: dict[str, Any]) -> tuple[float, str, str]:
    """(value, field, edition) of the cooling design dry-bulb: 0.4 %, else the most extreme percentile given."""
    for key in ("cooling_db_0_4_c", "cooling_db_1_c", "cooling_db_2_c"):
        value, edition = design_value(entry, key)
        if value is not None:
            return value, key, edition or ""
    raise WeatherError(f"climate {entry['id']!r}: the catalog gives no ASHRAE cooling design dry-bulb")


def _source_text(sources: list[Any]) -> str:
    parts = []
    for s in sources:
        if isinstance(s, dict):
            parts.append(f"{s.get('url', '')} ({s.get('what', '')})".strip())
        else:
            parts.append(str(s))
    return "; ".join(parts)


def info(name: str) -> dict[str, Any]:
    """A deep copy of the catalog entry in the shape weather.climate_info documents."""
    sid = resolve(name)
    entry = _catalog()["sites"][sid]
    key = _normalize(name).replace("_", "-").replace(" ", "-")
    design_db, design_key, design_edition = cooling_design_db(entry)
    mcwb, mcwb_edition = design_value(entry, "cooling_mcwb_0_4_c")
    out = {
        "id": sid,
        "requested": str(name),
        "alias": key if key in ALIASES else None,
        "reference_id": entry["reference_id"],
        "location": {
            "name": entry["name"],
            "lat": entry["lat"],
            "lon": entry["lon"],
            "elevation_m": entry["elevation_m"],
            "station": entry.get("station"),
            "note": entry.get("location_note"),
        },
        "koppen": entry.get("koppen"),
        "koppen_source": entry.get("koppen_source") or entry.get("koppen_reason"),
        "ashrae_climate_zone": entry.get("ashrae_climate_zone"),
        "design_ambient_c": design_db,
        "design_ambient_basis": f"{design_key} from {design_edition}",
        "cooling_db_0_4_c": design_db if design_key == "cooling_db_0_4_c" else None,
        "cooling_mcwb_0_4_c": mcwb,
        "cooling_mcwb_0_4_edition": mcwb_edition,
        "design": entry["design"][0] if entry.get("design") else None,
        "design_editions": entry.get("design") or [],
        "design_note": entry.get("design_note"),
        "monthly": entry["monthly"],
        "source": _source_text(entry.get("sources") or []),
        "sources": entry.get("sources") or [],
        "evidence": entry.get("evidence"),
        "evidence_tags": {
            "monthly": entry["monthly"].get("evidence_tag"),
            "design": entry["design"][0].get("evidence_tag") if entry.get("design") else None,
        },
    }
    return copy.deepcopy(out)
