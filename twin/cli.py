"""The `twin` command line: the composition root that ties blueprints, the twin and the solvers together."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from twin.errors import TwinError, ValidationError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Digital twin and optimizer for AI factories.")
console = Console()
errors = Console(stderr=True)

BLUEPRINT_HELP = "A packaged blueprint name (see `twin blueprints`) or a path to a .yaml/.json file."


def friendly(command: Callable) -> Callable:
    """Turn our own exceptions into a clear message and exit status 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ValidationError as exc:
            errors.print(f"[bold red]invalid:[/] {len(exc.problems)} problem(s)")
            table = Table("where", "rule", "problem", "fix", show_lines=False)
            for p in exc.problems[:200]:
                table.add_row(p.where, p.rule, p.message, p.fix)
            errors.print(table)
            raise typer.Exit(1) from None
        except TwinError as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(1) from None

    return wrapper


def kv_table(title: str, rows: dict[str, Any]) -> Table:
    """A two-column table of named values, numbers formatted for people."""
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for key, value in rows.items():
        table.add_row(key, fmt(value))
    return table


def fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def frame_table(frame, title: str, index: bool = True) -> Table:
    """A pandas DataFrame as a rich table."""
    table = Table(title=title)
    cols = ([frame.index.name or "id"] if index else []) + [str(c) for c in frame.columns]
    for i, c in enumerate(cols):
        table.add_column(c, overflow="fold", no_wrap=i == 0)
    for idx, row in frame.iterrows():
        table.add_row(*(([str(idx)] if index else []) + [fmt(v) for v in row.tolist()]))
    return table


@app.command()
@friendly
def validate(blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP)) -> None:
    """Check a facility against every rule; list all problems at once."""
    import blueprints

    facility = blueprints.load(blueprint, validate=False)
    facility.validate()
    s = facility.summary()
    console.print(f"[green]valid:[/] {s['name']}: {s['racks']:,} racks, {s['gpus']:,} GPUs, "
                  f"{s['nameplate_it_mw']:.2f} MW nameplate IT")


@app.command()
@friendly
def show(blueprint: str = typer.Argument("ai-factory-hall", help=BLUEPRINT_HELP)) -> None:
    """Summarize a facility: counts, nameplate power, and one line per hall."""
    import blueprints

    facility = blueprints.load(blueprint)
    console.print(kv_table(f"facility {facility.name}", facility.summary()))
    racks = facility.table("rack")
    per_hall = racks.groupby("hall").agg(
        cooling=("cooling", "first"), racks=("gpus", "size"), gpus=("gpus", "sum"),
        nameplate_kw=("nameplate_kw", "sum"), max_rack_kw=("nameplate_kw", "max"),
    )
    console.print(frame_table(per_hall, "halls"))


@app.command()
@friendly
def catalog(
    section: str = typer.Argument("systems", help="systems, cooling, equipment, heat_rejection, tiers, power_caps or throughput"),
    extra: Optional[str] = typer.Option(None, "--extra", help="A YAML file of your own entries to add/override."),
) -> None:
    """Print a catalog section as a table (every entry with its evidence)."""
    from twin.catalog import default_catalog

    cat = default_catalog()
    if extra:
        cat = cat.extend(extra)
    console.print(frame_table(cat.table(section), f"catalog: {section}", index=False))


@app.command("blueprints")
def list_blueprints() -> None:
    """List the packaged blueprints."""
    import blueprints

    table = Table("name", "description")
    from twin.io import parse_yaml, read_text

    for name in blueprints.names():
        data, _ = parse_yaml(read_text(blueprints.path(name)), name)
        table.add_row(name, str(data.get("description", "")))
    console.print(table)


def _register_commands() -> None:
    """Import every module of `twin.commands`; each adds its subcommands to `app`."""
    import importlib
    import pkgutil

    import twin.commands

    for module in pkgutil.iter_modules(twin.commands.__path__):
        importlib.import_module(f"twin.commands.{module.name}")


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `twin` console script."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="twin")
