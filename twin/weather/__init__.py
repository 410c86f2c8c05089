"""Hourly weather for the twin as xarray: packaged site climates, EPW/CSV files, or a caller's Dataset.

Every Dataset has dims (time,) and variables dry_bulb_c, wet_bulb_c, dew_point_c, relative_humidity_pct
with CF attributes, and attrs site, source, evidence and generator saying where the numbers come from.

>>> from twin import weather
>>> ds = weather.load("phoenix", hours=48, freq="15min")
>>> ds.sizes["time"], ds.attrs["site"]
(192, 'phoenix')

Sites (twin/data/climates.yaml, extracted from reference/climates.yaml): ashburn, phoenix, dallas,
columbus, abilene, lulea, dublin, singapore, golden, denver, frankfurt, mumbai, hyderabad. Aliases:
cold-dry -> lulea, temperate -> frankfurt, hot-dry -> phoenix, hot-humid -> singapore.

Real weather by default: a name with a packaged typical-year file (twin/data/weather/: TMY3/TMYx EPW of
phoenix, dallas, ashburn, golden, denver and 14 more US sites such as houston, chicago, seattle) loads that
file; the other climates are synthesized from their monthly normals (`synthesized=True` forces synthesis).
`ds.attrs["weather_kind"]` says which: "typical-year file (TMY3)", "synthesized from monthly normals",
"weather file" (a path given) or "user Dataset".
"""

from __future__ import annotations

import datetime
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from twin.weather import catalog, psychro
from twin.weather.base import VARIABLES, Record, UnknownClimate, WeatherError, to_dataset
from twin.weather.catalog import ALIASES

if TYPE_CHECKING:
    import xarray as xr

Source = Union[str, "os.PathLike[str]", "xr.Dataset"]
FILE_SUFFIXES = (".epw", ".epw.gz", ".csv")
SYNTHESIZED = "synthesized from monthly normals"

__all__ = [
    "ALIASES",
    "VARIABLES",
    "UnknownClimate",
    "WeatherError",
    "climate_info",
    "design_ambient_c",
    "kind_of",
    "load",
    "names",
    "psychro",
    "synthesize",
]


def names() -> list[str]:
    """The 13 climate ids, the sites that only have a packaged file, then the aliases (cold-dry, ...)."""
    return catalog.site_ids() + catalog.file_only_ids() + list(ALIASES)


def kind_of(name: str) -> str:
    """What `load(name)` uses for a climate name: 'typical-year file (TMY3)' or the synthesis."""
    entry = catalog.epw_files().get(catalog.resolve(name))
    return f"typical-year file ({entry['kind']})" if entry else SYNTHESIZED


def climate_info(name: str) -> dict[str, Any]:
    """Location, Köppen class, ASHRAE design conditions (all editions, newest first), monthly normals, source, evidence.

    Keys include: id, reference_id, location{name, lat, lon, elevation_m, station, note}, koppen,
    ashrae_climate_zone, design_ambient_c, cooling_db_0_4_c, cooling_mcwb_0_4_c, design (newest edition),
    design_editions, monthly{tmax_c, tmin_c, tmean_c, dewpoint_c, p_station_hpa, basis}, source, sources,
    evidence, evidence_tags{monthly, design}, weather_kind (what `load(name)` uses). A site with only a
    packaged file gives what its EPW header holds (location, ASHRAE 0.4 % design conditions) and no monthly
    normals.
    """
    sid = catalog.resolve(name)
    if sid not in catalog.file_only_ids():
        return {**catalog.info(name), "weather_kind": kind_of(name)}
    a = _packaged(sid).attrs
    return {
        "id": sid, "requested": str(name), "alias": None, "reference_id": None,
        "location": {"name": a["site_name"], "lat": a["latitude"], "lon": a["longitude"], "elevation_m": a["elevation_m"],
                     "station": a["weather_file"], "note": None},
        "design_ambient_c": _design_from_file(_packaged(sid)),
        "design_ambient_basis": f"cooling 0.4 % dry bulb from the EPW header ({a.get('design_conditions', '')})",
        "cooling_db_0_4_c": a.get("design_db_0_4_c"), "cooling_mcwb_0_4_c": a.get("design_mcwb_0_4_c"),
        "monthly": None, "source": a["source"], "sources": [a["source"]], "licence": a["licence"],
        "evidence": "measured (typical-year selection of observed hours)", "weather_kind": a["weather_kind"],
    }


def design_ambient_c(name: Source) -> float:
    """Design ambient dry-bulb in °C: the site's ASHRAE 0.4 % cooling dry-bulb (newest edition giving it).

    For a file or Dataset it is the same statistic computed from its hours: the dry-bulb exceeded in 0.4 %
    of them (99.6th percentile).
    """
    kind = _kind(name)
    if kind == "name":
        sid = catalog.resolve(str(name))
        if sid in catalog.file_only_ids():
            return _design_from_file(_packaged(sid))
        return catalog.cooling_design_db(catalog.site(str(name)))[0]
    if kind == "dataset":
        from twin.weather.files import check_dataset

        values = check_dataset(name)["dry_bulb_c"].values  # type: ignore[arg-type]
    else:
        return _design_from_file(_read_file(Path(name)))  # type: ignore[arg-type]
    return float(np.quantile(values, 0.996))


def _design_from_file(record: Record) -> float:
    """A file's ASHRAE 0.4 % cooling dry bulb from its header, else the 99.6th percentile of its hours."""
    given = record.attrs.get("design_db_0_4_c")
    return float(given) if given is not None else float(np.quantile(record.values["dry_bulb_c"], 0.996))


def load(
    source: Source,
    hours: int = 8760,
    freq: str = "1h",
    start: str | datetime.datetime | np.datetime64 = "2025-01-01",
    seed: int = 0,
    *,
    synthesized: bool = False,
) -> xr.Dataset:
    """Hourly (or finer) weather for `hours` hours from `start`, as an xarray.Dataset over `time`.

    source: a climate name (see names()), a path to an .epw or .csv file, or an xarray.Dataset (checked,
    completed with any missing humidity variable and returned; hours/freq/start do not apply to it).
    A typical-year source (synthesized, or a file of the 8760 hours Jan 1..Dec 31) is aligned by calendar
    and wraps for hours beyond one year (Feb 29 repeats Feb 28); a shorter record starts at the row whose
    month/day/hour equals `start` and repeats. freq below 1 h interpolates the hourly values linearly
    (identical on the hour); freq of whole hours averages them. A climate name reads its packaged
    typical-year file when there is one, else (or with synthesized=True) synthesizes the year from monthly
    normals; seed only affects synthesized climates. attrs["weather_kind"] says which was used.
    """
    kind = _kind(source)
    if kind == "dataset":
        from twin.weather.files import check_dataset

        ds = check_dataset(source)  # type: ignore[arg-type]
        ds.attrs.setdefault("weather_kind", "user Dataset")
        return ds
    if kind == "name":
        _check_seed(seed)
        sid = catalog.resolve(str(source))
        where = f"weather.load({str(source)!r})"
        if sid in catalog.epw_files() and not synthesized:
            record = _packaged(sid)
        elif sid in catalog.file_only_ids():
            raise WeatherError(f"{where}: site {sid!r} has a packaged typical-year file but no monthly normals to "
                               "synthesize from; drop synthesized=True")
        else:
            record = _synthesized(str(source), seed)
    else:
        record = _read_file(Path(source))  # type: ignore[arg-type]
        record = Record(record.values, record.month, record.day, record.hour, {**record.attrs, "weather_kind": "weather file"})
        where = str(source)
    return to_dataset(record, hours, freq, start, where)


@lru_cache(maxsize=32)
def _packaged(sid: str) -> Record:
    """A packaged typical-year file, read once per process, with its provenance in the attrs."""
    from twin.weather.files import read_epw

    entry = catalog.epw_files()[sid]
    record = read_epw(Path(entry["path"]))
    attrs = dict(record.attrs)
    attrs.update({
        "site": sid,
        "site_name": entry["site"],
        "weather_kind": f"typical-year file ({entry['kind']})",
        "weather_file": entry["file"],
        "source": f"{entry['kind']} typical year {entry['file']} ({entry['site']}), from {entry['from']}",
        "licence": entry["licence"],
    })
    return Record(record.values, record.month, record.day, record.hour, attrs)


def synthesize(name: str, hours: int = 8760, seed: int = 0) -> xr.Dataset:
    """Deterministic hourly typical year of a packaged climate from its monthly normals (from 2025-01-01 00:00).

    See twin.weather.synth for the method and the noise amplitudes; the amplitudes actually used are in
    ds.attrs (noise_sigma_*).
    """
    if _kind(name) != "name":
        raise WeatherError(f"weather.synthesize: {name!r} is not a climate name; use weather.load for files")
    return to_dataset(_synthesized(str(name), seed), hours, "1h", "2025-01-01", f"weather.synthesize({name!r})")


def _kind(source: Any) -> str:
    """'name', 'file' or 'dataset'; anything else is a WeatherError."""
    if isinstance(source, os.PathLike):
        return "file"
    if isinstance(source, str):
        return "file" if source.strip().lower().endswith(FILE_SUFFIXES) else "name"
    if type(source).__name__ == "Dataset" and type(source).__module__.startswith("xarray"):
        return "dataset"
    raise WeatherError(
        f"weather source must be a climate name, a path to an .epw/.csv file or an xarray.Dataset,"
        f" not {type(source).__name__}"
    )


def _read_file(path: Path) -> Record:
    from twin.weather.files import read_csv, read_epw

    suffix = path.suffix.lower()
    if suffix == ".epw" or path.name.lower().endswith(".epw.gz"):
        return read_epw(path)
    if suffix == ".csv":
        return read_csv(path)
    raise WeatherError(f"{path}: unsupported weather file type {suffix or '(none)'!r}; use .epw, .epw.gz or .csv")


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise WeatherError(f"seed={seed!r} must be a non-negative integer")


def _synthesized(name: str, seed: int) -> Record:
    from twin.weather import synth

    _check_seed(seed)
    entry = catalog.site(name)
    record = synth.typical_year(entry, int(seed))
    monthly = entry["monthly"]
    design_tag = entry["design"][0]["evidence_tag"] if entry.get("design") else "not_found"
    a = record.attrs
    record.attrs = {
        "site": entry["id"],
        "site_name": entry["name"],
        "weather_kind": SYNTHESIZED,
        "source": f"{catalog.CATALOG_PATH.name} site {entry['id']!r}: monthly normals ({monthly['basis']});"
        f" sources: {catalog.info(entry['id'])['source']}",
        "evidence": f"synthetic hourly series (model output) from {monthly['evidence_tag']} monthly normals and"
        f" {design_tag} ASHRAE design conditions. Catalog evidence: {entry['evidence']}",
        "generator": (
            "twin.weather.synth: mean-preserving periodic interpolation of monthly tmax/tmin/dew point;"
            " half-cosine diurnal cycle, min 06:00, max 15:00; periodic AR(1) daily anomalies"
            f" (phi={a['noise_phi']}, seed={a['seed']}) with sigma {a['noise_sigma_cold_c']} °C (coldest season)"
            f" to {a['noise_sigma_hot_c']} °C (month {a['hottest_month']}) scaled so the 99.6th percentile of"
            f" hourly dry-bulb equals {a['design_dry_bulb_target_c']} °C ({a['design_dry_bulb_field']}),"
            f" dew point sigma {a['noise_sigma_dew_point_c']} °C with correlation"
            f" {a['noise_dew_point_dry_bulb_correlation']} to the dry-bulb anomaly and afternoon dip"
            f" {a['dew_point_afternoon_dip_per_c']} °C/°C, fitted to the ASHRAE evaporation and coincident wet-bulbs;"
            " RH by Magnus (Alduchov & Eskridge 1996),"
            " wet-bulb by Stull (2011)"
        ),
        "latitude": entry["lat"],
        "longitude": entry["lon"],
        "elevation_m": entry["elevation_m"],
        "koppen": entry.get("koppen"),
        **{k: v for k, v in a.items() if v is not None},
    }
    return record
