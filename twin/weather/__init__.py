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
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from twin.weather import catalog, psychro
from twin.weather.base import VARIABLES, Record, UnknownClimate, WeatherError, to_dataset
from twin.weather.catalog import ALIASES

if TYPE_CHECKING:
    import xarray as xr

Source = Union[str, "os.PathLike[str]", "xr.Dataset"]
FILE_SUFFIXES = (".epw", ".csv")

__all__ = [
    "ALIASES",
    "VARIABLES",
    "UnknownClimate",
    "WeatherError",
    "climate_info",
    "design_ambient_c",
    "load",
    "names",
    "psychro",
    "synthesize",
]


def names() -> list[str]:
    """The 13 packaged site ids, then the aliases cold-dry, temperate, hot-dry, hot-humid."""
    return catalog.site_ids() + list(ALIASES)


def climate_info(name: str) -> dict[str, Any]:
    """Location, Köppen class, ASHRAE design conditions (all editions, newest first), monthly normals, source, evidence.

    Keys include: id, reference_id, location{name, lat, lon, elevation_m, station, note}, koppen,
    ashrae_climate_zone, design_ambient_c, cooling_db_0_4_c, cooling_mcwb_0_4_c, design (newest edition),
    design_editions, monthly{tmax_c, tmin_c, tmean_c, dewpoint_c, p_station_hpa, basis}, source, sources,
    evidence, evidence_tags{monthly, design}.
    """
    return catalog.info(name)


def design_ambient_c(name: Source) -> float:
    """Design ambient dry-bulb in °C: the site's ASHRAE 0.4 % cooling dry-bulb (newest edition giving it).

    For a file or Dataset it is the same statistic computed from its hours: the dry-bulb exceeded in 0.4 %
    of them (99.6th percentile).
    """
    kind = _kind(name)
    if kind == "name":
            return catalog.cooling_design_db(catalog.site(str(name)))[0]
    if kind == "dataset":
        from twin.weather.files import check_dataset

        values = check_dataset(name)["dry_bulb_c"].values  # type: ignore[arg-type]
    else:
        values = _read_file(Path(name)).values["dry_bulb_c"]  # type: ignore[arg-type]
    return float(np.quantile(values, 0.996))


def load(
    source: Source,
    hours: int = 8760,
    freq: str = "1h",
    start: str | datetime.datetime | np.datetime64 = "2025-01-01",
    seed: int = 0,
) -> xr.Dataset:
    """Hourly (or finer) weather for `hours` hours from `start`, as an xarray.Dataset over `time`.

    source: a climate name (see names()), a path to an .epw or .csv file, or an xarray.Dataset (checked,
    completed with any missing humidity variable and returned; hours/freq/start do not apply to it).
    A typical-year source (synthesized, or a file of the 8760 hours Jan 1..Dec 31) is aligned by calendar
    and wraps for hours beyond one year (Feb 29 repeats Feb 28); a shorter record starts at the row whose
    month/day/hour equals `start` and repeats. freq below 1 h interpolates the hourly values linearly
    (identical on the hour); freq of whole hours averages them. seed only affects synthesized climates.
    """
    kind = _kind(source)
    if kind == "dataset":
        from twin.weather.files import check_dataset

        return check_dataset(source)  # type: ignore[arg-type]
    if kind == "name":
        record = _synthesized(str(source), seed)
        where = f"weather.load({str(source)!r})"
    else:
        record = _read_file(Path(source))  # type: ignore[arg-type]
        where = str(source)
    return to_dataset(record, hours, freq, start, where)


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
    if suffix == ".epw":
        return read_epw(path)
    if suffix == ".csv":
        return read_csv(path)
    raise WeatherError(f"{path}: unsupported weather file type {suffix or '(none)'!r}; use .epw or .csv")


def _synthesized(name: str, seed: int) -> Record:
    from twin.weather import synth

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise WeatherError(f"seed={seed!r} must be a non-negative integer")
    entry = catalog.site(name)
    record = synth.typical_year(entry, int(seed))
    monthly = entry["monthly"]
    design_tag = entry["design"][0]["evidence_tag"] if entry.get("design") else "not_found"
    a = record.attrs
    record.attrs = {
        "site": entry["id"],
        "site_name": entry["name"],
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
