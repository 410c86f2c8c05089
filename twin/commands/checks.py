"""Command-line inputs checked at the edge, before any work starts: numbers finite and in range, outputs with a
suffix we write into a folder that can take them, input files that exist. Each failure is one `InputError`
(or `WriteError`/`OutputError`) naming the option, the value and what to give instead."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from twin.errors import InputError, OutputError

if TYPE_CHECKING:
    import xarray as xr


def number(value: float | None, option: str, *, above: float | None = None, at_least: float | None = None,
           unit: str = "") -> float | None:
    """`value` unless it is NaN, infinite, not above `above` or below `at_least` (None passes through)."""
    if value is None:
        return None
    unit = f" {unit}" if unit else ""
    if not math.isfinite(value):
        raise InputError(f"{option} {value}: give a finite number{unit}")
    if above is not None and not value > above:
        raise InputError(f"{option} {value:g}: must be above {above:g}{unit}")
    if at_least is not None and value < at_least:
        raise InputError(f"{option} {value:g}: must be at least {at_least:g}{unit}")
    return value


def output(path: str | Path | None, option: str, suffixes: Iterable[str]) -> Path | None:
    """An output path with one of `suffixes` whose folder can be written (see `twin.atomic.check_writable`)."""
    from twin.atomic import check_writable

    if path is None:
        return None
    path, suffixes = Path(path), tuple(suffixes)
    if path.suffix.lower() not in suffixes:
        raise OutputError(f"{option} {path}: cannot write {path.suffix or 'a file without a suffix'!r} here; "
                          f"use one of {', '.join(suffixes)}")
    return check_writable(path)


def existing(path: str | Path | None, option: str) -> Path | None:
    """An input file that exists (and is a file)."""
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{option} {path}: " + ("is a folder; give a file" if path.is_dir() else "no such file"))
    return path


def simulation(path: str | Path | None, option: str) -> xr.Dataset | None:
    """A simulation result (.nc) given as an input, opened lazily; None stays None."""
    import xarray as xr

    path = existing(path, option)
    if path is None:
        return None
    try:
        return xr.open_dataset(path)
    except (OSError, ValueError):
        raise InputError(f"{option} {path}: not a NetCDF file; give the .nc that `twin simulate --per-rack --out` "
                         "wrote") from None


__all__ = ["existing", "number", "output", "simulation"]


def count_or_label(text: str | None) -> int | str | None:
    """An option that is a whole number or a label ('0.4%', an ISO time): the int, else the text as given."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text
