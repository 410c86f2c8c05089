"""What commands print: tables that fit the terminal and never cut an id or a number, or the same tables as
CSV, JSON or Markdown (`--format`), ids shortened only on request (`--short`).

A command builds `Output`s (a pandas DataFrame of raw values plus how to show it) and hands them to `show`;
the `tabular` decorator gives the command its `--format` and `--short` options. In a terminal a table
too wide for it is printed in parts of whole columns, each repeating the id column; piped to a file it is
printed as wide as it needs to be. CSV/JSON carry the raw values (full precision, machine names); while
they are written to stdout, every other message of the command goes to stderr.

>>> import pandas as pd
>>> out = Output("racks", pd.DataFrame({"kw": [132.0, 40.8]}, index=pd.Index(["hall-a/row-01/rack-01", "r2"], name="rack")))
>>> print(render(out, "csv").strip())
rack,kw
hall-a/row-01/rack-01,132.0
r2,40.8
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd
from rich.console import Console
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

FORMATS = ("table", "csv", "json", "md")
FORMAT_HELP = ("table (fits the terminal; piped, as wide as it needs), csv, json (a list of records; several "
               "tables: an object of them; missing values null, unbounded ones Infinity) or md (Markdown).")
UNITS = {"kw": "kW", "mw": "MW", "w": "W", "c": "°C", "m2": "m²", "mwh": "MWh", "kwh": "kWh", "usd": "USD", "h": "h"}
"""Unit words in column names, as a header shows them (`rack_kw` -> 'rack kW')."""


@dataclass
class Output:
    """One table a command prints: raw values in `frame` (its index, when named, is the first column, an id).

    `labels` are headers for people (default: the column name with spaces and units); `display` formats a
    column's values for people (default `number` for numbers); `ids` are more id columns besides the index;
    `vertical` shows one line per column (a record of KPIs), one value column per row of `frame`.
    """

    name: str
    frame: pd.DataFrame
    title: str | None = None
    caption: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    display: dict[str, Callable[[Any], str]] = field(default_factory=dict)
    ids: Sequence[str] = ()
    vertical: bool = False

    @property
    def index(self) -> bool:
        return self.frame.index.name is not None

    def label(self, column: Any) -> str:
        return self.labels.get(str(column), header(str(column)))

    def cell(self, column: Any, value: Any) -> str:
        show = self.display.get(str(column))
        return show(value) if show is not None else number(value)

    def records(self) -> pd.DataFrame:
        """The raw values with the index as an ordinary first column: what CSV and JSON carry."""
        return self.frame.reset_index() if self.index else self.frame


def record(name: str, values: dict[str, Any], title: str | None = None, *, labels: dict[str, str] | None = None,
           display: dict[str, Callable[[Any], str]] | None = None, caption: str | None = None) -> Output:
    """A single record of named values (a summary, KPIs) shown one per line; machine formats get one row."""
    frame = pd.DataFrame([{k: _plain(v) for k, v in values.items()}])
    return Output(name, frame, title, caption, labels or {}, display or {}, vertical=True)


def header(name: str) -> str:
    """A column name as a header people read: 'nameplate_kw' -> 'nameplate kW', 'gpu_tdp_w' -> 'gpu tdp W'."""
    words = name.split("_")
    if len(words) > 1 and words[-1] in UNITS:
        words[-1] = UNITS[words[-1]]
    return " ".join(words)


def number(value: Any) -> str:
    """A value for people, never cut: 4,608; 8.448; 40.8; 0.00123; 1.235e+16; text as it is.

    >>> [number(v) for v in (4608, 8.4476, 40.8, 131.99, 0.001234, 1.2345e16, float("nan"))]
    ['4,608', '8.448', '40.8', '132', '0.00123', '1.234e+16', '-']
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "-" if math.isnan(v) else str(v)
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 1e15:
            return f"{v:.4g}"
        if a >= 100:
            return f"{v:,.0f}"
        if a >= 0.01:
            return f"{v:,.3f}".rstrip("0").rstrip(".")
        return f"{v:.3g}"
    return str(value)


# --------------------------------------------------------------------------- machine formats
def render(out: Output | Sequence[Output], fmt: str) -> str:
    """Tables as one CSV, JSON or Markdown document (several CSV tables: `# name` sections, a blank line apart)."""
    outs = [out] if isinstance(out, Output) else list(out)
    if fmt == "csv":
        parts = [o.records().to_csv(index=False, lineterminator="\n") for o in outs]
        if len(outs) == 1:
            return parts[0]
        return "\n".join(f"# {o.name}\n{p}" for o, p in zip(outs, parts))
    if fmt == "json":
        docs = {o.name: [{str(k): _json_value(v) for k, v in row.items()} for row in o.records().to_dict("records")]
                for o in outs}
        doc = next(iter(docs.values())) if len(outs) == 1 else docs
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if fmt == "md":
        return "\n".join(markdown(o) for o in outs)
    raise ValueError(f"unknown format {fmt!r}")


def markdown(out: Output) -> str:
    """A GitHub-flavoured Markdown table with the title above and the caption below."""
    head, rows = _cells(out, short=False)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [f"**{esc(out.title)}**", ""] if out.title else []
    right = _right(out, len(head))
    lines.append("| " + " | ".join(esc(h) for h in head) + " |")
    lines.append("|" + "|".join("---:" if r else "---" for r in right) + "|")
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    if out.caption:
        lines += ["", f"*{esc(out.caption)}*"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- tables for people
def _cells(out: Output, short: bool) -> tuple[list[str], list[list[str]]]:
    """Header and rows of display strings, turned for vertical tables; ids shortened when `short`."""
    frame = out.frame
    if out.vertical:
        head = [""] + ([str(i) for i in frame.index] if out.index or len(frame) > 1 else ["value"])
        rows = [[out.label(c)] + [out.cell(c, v) for v in frame[c].tolist()] for c in frame.columns]
        return head, rows
    cols = list(frame.columns)
    head = ([out.label(frame.index.name)] if out.index else []) + [out.label(c) for c in cols]
    index = [str(i) for i in frame.index]
    id_cols = [c for c in cols if c in out.ids]
    values = {c: [out.cell(c, v) for v in frame[c].tolist()] for c in cols}
    if short:
        if out.index:
            index = shorten(index)
        for c in id_cols:
            values[c] = shorten(values[c])
    rows = [([index[i]] if out.index else []) + [values[c][i] for c in cols] for i in range(len(frame))]
    return head, rows


def _right(out: Output, n: int) -> list[bool]:
    """Which displayed columns are right-aligned: numbers (and every value column of a vertical table)."""
    if out.vertical:
        return [False] + [True] * (n - 1)
    numeric = [pd.api.types.is_numeric_dtype(out.frame[c]) and not pd.api.types.is_bool_dtype(out.frame[c])
               for c in out.frame.columns]
    return ([False] if out.index else []) + numeric


def shorten(ids: Sequence[str]) -> list[str]:
    """Ids without the path segments they all share: ['hall-a/row-01/rack-01', 'hall-a/row-02/rack-01'] ->
    ['row-01/rack-01', 'row-02/rack-01'] (nothing is dropped from an id that would be left empty)."""
    parts = [str(i).split("/") for i in ids]
    if not parts:
        return []
    common = 0
    while all(len(p) > common + 1 for p in parts) and len({p[common] for p in parts}) == 1:
        common += 1
    return ["/".join(p[common:]) for p in parts]


@dataclass
class _Grid:
    """A table's display cells with each column's natural width (no wrapping) and its narrowest (wrapped at spaces)."""

    head: list[str]
    rows: list[list[str]]
    right: list[bool]
    prose: list[bool]
    natural: list[int]
    narrowest: list[int]
    keys: int

    @classmethod
    def of(cls, out: Output, short: bool) -> _Grid:
        head, rows = _cells(out, short)
        columns = [[r[i] for r in rows] for i in range(len(head))]
        right = _right(out, len(head))
        keys = 1 if out.vertical or out.index else 0
        prose = [(out.vertical and i == 0) or (not out.vertical and not right[i] and i >= keys
                                                and any(" " in c for c in col)) for i, col in enumerate(columns)]
        natural = [max([_longest_line(head[i])] + [_longest_line(c) for c in col]) for i, col in enumerate(columns)]
        narrowest = [max([_longest_word(head[i])] + [(_longest_word if prose[i] else _longest_line)(c) for c in col])
                     for i, col in enumerate(columns)]
        return cls(head, rows, right, prose, natural, narrowest, keys)

    def widths(self, columns: Sequence[int], width: int) -> list[int] | None:
        """Column widths that fit `width` (borders and padding included) without cutting a word, or None."""
        room = width - (3 * len(columns) + 1)
        natural = [self.natural[i] for i in columns]
        if sum(natural) <= room:
            return natural
        least = [self.narrowest[i] for i in columns]
        if sum(least) > room:
            return None
        spare, give = room - sum(least), [n - m for n, m in zip(natural, least)]
        out = [m + (g * spare) // sum(give) for m, g in zip(least, give)]
        for j in sorted(range(len(out)), key=lambda j: give[j] - (out[j] - least[j]), reverse=True)[: room - sum(out)]:
            out[j] += 1
        return out


def _longest_line(text: str) -> int:
    return max(cell_len(line) for line in str(text).split("\n"))


def _longest_word(text: str) -> int:
    return max([cell_len(w) for w in str(text).split()] or [0])


def rich_table(out: Output, short: bool = False, columns: Sequence[int] | None = None,
               widths: Sequence[int] | None = None) -> Table:
    """The table for a terminal: ids and numbers never wrap, free text and headers wrap at spaces.

    `columns` picks a part of the table; `widths` fixes their widths (from `_Grid.widths`).
    """
    grid = _Grid.of(out, short)
    pick = list(range(len(grid.head))) if columns is None else list(columns)
    single = out.vertical and len(grid.head) == 2 and grid.head[1] == "value"
    table = Table(title=out.title, caption=out.caption, show_header=not single, caption_justify="left")
    for j, i in enumerate(pick):
        table.add_column(Text(grid.head[i], no_wrap=False, overflow="fold"), justify="right" if grid.right[i] else "left",
                         width=widths[j] if widths is not None else None, no_wrap=not grid.prose[i], overflow="fold",
                         style="bold" if out.vertical and i == 0 else None)
    for r in grid.rows:
        table.add_row(*(Text(r[i]) for i in pick))
    return table


def print_table(out: Output, console: Console, short: bool = False) -> None:
    """Fit the console's width; in a terminal split a table too wide into parts, piped print it wide."""
    grid = _Grid.of(out, short)
    parts = _parts(grid, console.width) if console.is_terminal else [list(range(len(grid.head)))]
    for part in parts:
        widths = grid.widths(part, console.width)
        if widths is not None:
            console.print(rich_table(out, short, part, widths))
        else:  # as wide as it needs: piped, or one column wider than the terminal (which then wraps the lines)
            natural = [grid.natural[i] for i in part]
            wide = Console(file=console.file, width=3 * len(part) + 1 + sum(natural), color_system=None,
                           highlight=False, force_terminal=False)
            wide.print(rich_table(out, short, part, natural))


def _parts(grid: _Grid, width: int) -> Iterator[list[int]]:
    """Groups of whole columns, each led by the id column, that fit `width` (a lone column that cannot stays whole)."""
    keys = list(range(grid.keys))
    part: list[int] = []
    for i in range(len(keys), len(grid.head)):
        if part and grid.widths(keys + part + [i], width) is None:
            yield keys + part
            part = []
        part.append(i)
    if part or not keys:
        yield keys + part


# --------------------------------------------------------------------------- the command's side
@dataclass
class _Run:
    format: str
    short: bool
    console: Console
    shown: list[Output] = field(default_factory=list)


_run: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("twin_output", default=None)


def show(out: Output, console: Console | None = None) -> None:
    """Print a table now (format 'table') or keep it for the machine-readable document written at the end."""
    run = _run.get()
    if run is not None and run.format != "table":
        run.shown.append(out)
        return
    print_table(out, console or (run.console if run else Console()), short=run.short if run else False)


def machine() -> bool:
    """True while a command writes CSV/JSON/Markdown to stdout (messages then go to stderr)."""
    run = _run.get()
    return run is not None and run.format != "table"


def tabular(console: Console) -> Callable[[Callable], Callable]:
    """Give a command `--format table|csv|json|md` and `--short`; `console` carries its other messages."""
    import typer

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)
        extra = [
            inspect.Parameter("output_format", inspect.Parameter.KEYWORD_ONLY, annotation=str,
                              default=typer.Option("table", "--format", help=FORMAT_HELP)),
            inspect.Parameter("short_ids", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                              default=typer.Option(False, "--short", help="Shorten ids in tables (drop the path they share).")),
        ]

        @functools.wraps(command)
        def wrapper(*args: Any, output_format: str = "table", short_ids: bool = False, **kwargs: Any) -> Any:
            if output_format not in FORMATS:
                raise typer.BadParameter(f"{output_format!r} is not one of {', '.join(FORMATS)}", param_hint="--format")
            run = _Run(output_format, short_ids, console)
            token = _run.set(run)
            own = getattr(console, "_file", None)  # None: the console follows sys.stdout wherever it points
            if output_format != "table":
                console.file = sys.stderr
            try:
                return command(*args, **kwargs)
            finally:
                console.file = own
                _run.reset(token)
                if run.shown:
                    sys.stdout.write(render(run.shown, output_format))
                    sys.stdout.flush()

        wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])
        wrapper.__annotations__ = {**getattr(command, "__annotations__", {}), "output_format": str, "short_ids": bool}
        return wrapper

    return decorate


def _json_value(value: Any) -> Any:
    """A cell as JSON: missing -> null, infinite -> Infinity (as Python and pandas read it), times as ISO text."""
    value = _plain(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if value is pd.NaT:
        return None
    return value


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, so a record frame keeps int columns int."""
    return value.item() if isinstance(value, np.generic) else value


__all__ = ["Output", "record", "show", "tabular", "machine", "render", "markdown", "number", "header", "shorten",
           "print_table", "rich_table", "FORMATS"]
