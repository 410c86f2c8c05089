"""`twin render FILE`: a 3D view of a facility as PNG, interactive HTML or an animation, optionally of a simulated state."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly
from twin.commands import checks
from twin.errors import TwinError


def _size(text: str) -> tuple[int, int]:
    """'1600x1000' -> (1600, 1000)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise TwinError(f"--size {text!r}: give width x height in pixels, e.g. 1600x1000") from None
    if width < 64 or height < 64:
        raise TwinError(f"--size {text!r}: at least 64x64 pixels")
    return width, height



@app.command()
@friendly
def render(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    out: Path = typer.Option(Path("view.png"), "--out", "-o", help="Output: .png/.jpg, .html (interactive, offline) or .gif/.mp4 (animation of --state)."),
    color_by: str = typer.Option("rack_power_kw", "--color-by", help="A per-rack state variable or rack column: rack_power_kw, nameplate_kw, system, cooling, hall, ..."),
    state: Optional[Path] = typer.Option(None, "--state", help="A simulation result (.nc from `twin simulate --per-rack --out`)."),
    time: Optional[str] = typer.Option(None, "--time", help="Time step to show (e.g. 2025-07-01T15:00, nearest; or a step number). Animations: all steps."),
    camera: str = typer.Option("isometric", "--camera", help="isometric, plan, or hall:<hall id>."),
    power: bool = typer.Option(False, "--power/--no-power", help="Draw power feeds."),
    coolant: bool = typer.Option(False, "--coolant/--no-coolant", help="Draw coolant connections."),
    size: str = typer.Option("1600x1000", "--size", help="Picture size in pixels, WIDTHxHEIGHT."),
    fps: float = typer.Option(4.0, "--fps", help="Animation frames per second."),
) -> None:
    """Draw a facility in 3D: halls, racks coloured by a variable, devices, power and coolant lines."""
    import blueprints
    from twin.views import render as draw
    from twin.views.export import SUFFIXES

    checks.output(out, "--out", SUFFIXES)
    checks.number(fps, "--fps", above=0, unit="frames per second")
    ds = checks.simulation(state, "--state")
    window = _size(size)
    facility = blueprints.load(blueprint)
    with console.status(f"rendering {out}"):
        path = draw(facility, out, color_by, state=ds, time=checks.count_or_label(time), camera=camera, show_power=power,
                    show_coolant=coolant, window_size=window, fps=fps)
    console.print(f"wrote {path}")
