"""Delimited text exports as pandas tables, with the real line number of every row kept.

Exports start with preamble lines (report titles, site names), use ',', ';' or tabs, put spaces after
the delimiter, repeat their header when runs are concatenated, and in ';' files write decimal commas.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from twin.telemetry.errors import TelemetryError

HEAD_LINES = 60
#: cell texts read as missing (pandas matches them exactly, so the usual casings are listed)
NA_TEXTS = ["", "N/A", "n/a", "[N/A]", "NA", "NaN", "nan", "null", "NULL", "None", "none", "---", "--", "-", "?",
            "[Not Supported]", "[Unknown Error]", "ERR!", "#N/A", "No Data", "Offline"]


def read_text(path: str | Path) -> str:
    """A file's text (UTF-8, BOM and Windows line ends tolerated, Latin-1 as a fallback)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TelemetryError(str(path), None, None, f"cannot read ({exc.strerror or exc})", "check the path") from None
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def header_row(lines: list[str], is_header: Callable[[list[str]], bool]) -> tuple[int, str]:
    """(index, delimiter) of the first line among the head that `is_header` accepts once split."""
    for i, line in enumerate(lines[:HEAD_LINES]):
        for delim in (",", ";", "\t"):
            if delim in line:
                cells = [c.strip().strip('"') for c in next(csv.reader([line], delimiter=delim))]
                if is_header(cells):
                    return i, delim
    return -1, ","


def load(path: str, text: str, is_header: Callable[[list[str]], bool], what: str) -> tuple[pd.DataFrame, np.ndarray, bool]:
    """The table under the first accepted header: (frame, file line of each row, decimal comma).

    Clean numeric columns come back as floats (missing markers as NaN), others as text. Rows identical to
    the header (concatenated exports) and empty rows are dropped.
    """
    lines = text.splitlines()
    at, delim = header_row(lines, is_header)
    if at < 0:
        raise TelemetryError(path, 1, None, f"no header line of a {what} among the first {HEAD_LINES} lines",
                             "export with a header row (for nvidia-smi use --format=csv, not noheader)")
    body = "\n".join(lines[at:])
    try:
        frame = pd.read_csv(io.StringIO(body), sep=delim, keep_default_na=False, na_values=NA_TEXTS,
                            skipinitialspace=True, skip_blank_lines=False, engine="c", quotechar='"', low_memory=False,
                            decimal="," if delim == ";" else ".")
    except (pd.errors.ParserError, ValueError) as exc:
        line = _parser_line(str(exc))
        raise TelemetryError(path, at + line if line else None, None, f"malformed {what} row ({exc})".replace("\n", " "),
                             "every row needs as many cells as the header") from None
    frame.columns = [str(c).strip().strip('"') for c in frame.columns]
    rows = np.arange(len(frame)) + at + 2
    header = list(frame.columns)
    blank = frame.isna().all(axis=1).to_numpy()
    repeat = np.zeros(len(frame), dtype=bool)
    if len(frame) and not pd.api.types.is_numeric_dtype(frame[header[0]]):
        maybe = frame[header[0]].astype(str).str.strip().to_numpy() == header[0]
        if maybe.any():
            cells = frame[maybe].astype(str).apply(lambda c: c.str.strip().str.strip('"'))
            repeat[maybe] = (cells.to_numpy() == np.array(header, dtype=object)).all(axis=1)
    keep = ~(blank | repeat)
    return frame[keep].reset_index(drop=True), rows[keep], delim == ";"


def _parser_line(message: str) -> int | None:
    import re

    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    """The first column whose name matches one of `names` (case and spaces ignored)."""
    want = {n.lower().replace(" ", "").replace("_", "") for n in names}
    for c in frame.columns:
        if c.lower().replace(" ", "").replace("_", "") in want:
            return c
    return None


__all__ = ["read_text", "header_row", "load", "column", "HEAD_LINES"]
