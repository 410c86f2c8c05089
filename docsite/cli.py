"""The command-line reference page, generated from the `twin` application's own commands and options."""

from __future__ import annotations

from typing import Any


def _flags(param: Any) -> str:
    names = list(param.opts) + list(getattr(param, "secondary_opts", []))
    return " / ".join(f"`{n}`" for n in names) if param.param_type_name == "option" else f"`{param.name.upper()}`"


def _default(param: Any) -> str:
    if getattr(param, "required", False):
        return "required"
    value = param.default
    if callable(value) or value is None or value == () or value == [] or getattr(param, "is_flag", False) and value is False:
        return ""
    return f"`{value}`"


def _command(path: list[str], command: Any, out: list[str]) -> None:
    if hasattr(command, "commands"):                   # a group (typer has its own copy of click: no isinstance)
        for name in sorted(command.commands):
            _command(path + [name], command.commands[name], out)
        return
    params = [p for p in command.params if p.name not in ("help",)]
    usage = " ".join(["twin", *path] + [p.name.upper() for p in params if p.param_type_name == "argument"])
    out += [f"## `twin {' '.join(path)}`", "", (command.help or "").strip(), "", f"```\n{usage} [OPTIONS]\n```", ""]
    rows = [(_flags(p), (getattr(p, "help", None) or "").replace("|", "\\|").replace("\n", " "), _default(p))
            for p in params]
    if rows:
        out += ["| argument or option | what | default |", "|---|---|---|"]
        out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        out.append("")


def cli_reference() -> str:
    """Every `twin` command and subcommand: what it does, its usage and each argument and option."""
    import typer

    from twin.cli import app

    group = typer.main.get_command(app)
    out = ["# Command line", "",
           "`twin --help` and `twin COMMAND --help` print the same in the terminal. Every command that prints a "
           "table takes `--format table|csv|json|md` and `--short`; every command that reads a blueprint also "
           "takes an OpenUSD stage (`.usda`/`.usdc`/`.usdz`).", ""]
    _command([], group, out)
    return "\n".join(out)


__all__ = ["cli_reference"]
