"""The `twin` command line: the composition root that ties blueprints, the twin and the solvers together."""

from __future__ import annotations

import functools
import sys
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.markup import escape

from twin.commands import output
from twin.errors import TwinError, ValidationError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Digital twin and optimizer for AI factories.")
console = Console()
errors = Console(stderr=True)
tabular = output.tabular(console)
"""Decorator giving a command that prints tables `--format` and `--short` (see `twin.commands.output`)."""
MAX_PROBLEMS_SHOWN = 200

BLUEPRINT_HELP = "A packaged blueprint name (see `twin blueprints`) or a path to a .yaml/.json file."


def friendly(command: Callable) -> Callable:
    """Turn our own exceptions into a clear message and exit status 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ValidationError as exc:
            import pandas as pd

            errors.print(f"[bold red]invalid:[/] {len(exc.problems)} problem(s)")
            shown = exc.problems if output.machine() else exc.problems[:MAX_PROBLEMS_SHOWN]
            frame = pd.DataFrame([(p.where, p.rule, p.message, p.fix) for p in shown],
                                 columns=["where", "rule", "problem", "fix"])
            more = len(exc.problems) - len(shown)
            caption = f"first {len(shown)} of {len(exc.problems)}; --format csv lists them all" if more else None
            output.show(output.Output("problems", frame, caption=caption, ids=("where",)), errors)
            raise typer.Exit(1) from None
        except TwinError as exc:
            errors.print(f"[bold red]error:[/] {escape(getattr(exc, 'cli_message', None) or str(exc))}")
            raise typer.Exit(1) from None

    return wrapper


@app.command()
@tabular
@friendly
def validate(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    year: bool = typer.Option(True, "--year/--no-year", help="Also simulate the design year at full load (as `twin check`)."),
) -> None:
    """Check a facility against every rule; list all problems at once (exit 1 if any), then say whether it
    holds its design year at full load (exit 1 if not; `twin check` tells the worst hour and what binds)."""
    import blueprints

    facility = blueprints.load(blueprint, validate=False)
    facility.validate()
    s = facility.summary()
    console.print(f"[green]valid:[/] {s['name']}: {s['racks']:,} racks, {s['gpus']:,} GPUs, "
                  f"{s['nameplate_it_mw']:.2f} MW nameplate IT")
    if year:
        from twin.design_year import check

        with console.status("simulating the design year at full load"):
            result = check(facility, explain=False)
        if not result.ok:
            errors.print(f"[bold red]{escape(str(result))}[/]; `twin check {escape(blueprint)}` shows the worst "
                         "hour and what binds")
            raise typer.Exit(1)
        console.print(f"[green]{escape(str(result))}")


@app.command()
@tabular
@friendly
def show(blueprint: str = typer.Argument("ai-factory-hall", help=BLUEPRINT_HELP)) -> None:
    """Summarize a facility: counts, nameplate power, and one line per hall."""
    import blueprints

    facility = blueprints.load(blueprint)
    output.show(output.record("facility", facility.summary(), f"facility {facility.name}"))
    racks = facility.table("rack")
    per_hall = racks.groupby("hall").agg(
        cooling=("cooling", "first"), racks=("gpus", "size"), gpus=("gpus", "sum"),
        nameplate_kw=("nameplate_kw", "sum"), max_rack_kw=("nameplate_kw", "max"),
    )
    output.show(output.Output("halls", per_hall, "halls"))


@app.command()
@tabular
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
    table = cat.table(section)
    output.show(output.Output(section, table.set_index("id") if "id" in table.columns else table, f"catalog: {section}"))


@app.command("blueprints")
@tabular
@friendly
def list_blueprints() -> None:
    """List the packaged blueprints."""
    import pandas as pd

    import blueprints
    from twin.io import parse_yaml, read_text

    rows = {name: str(parse_yaml(read_text(blueprints.path(name)), name)[0].get("description", ""))
            for name in blueprints.names()}
    output.show(output.Output("blueprints", pd.DataFrame({"description": rows}).rename_axis("name"), "packaged blueprints"))


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
