"""Options shared by `twin dispatch` and `twin flex`, which both operate a facility from a start over a horizon
with a share of its racks training."""

from __future__ import annotations

import typer

START = typer.Option("2025-01-01", "--start", help="First step (ISO date or time).")
TRAINING = typer.Option(0.0, "--training", help="Share of the racks running synchronous training (0..1).")
SLOWDOWN = typer.Option(0.1, "--slowdown", help="Training may average 1/(1+slowdown) of full speed.")


def training_mix(share: float, slowdown: float) -> dict[str, float]:
    """The `training=` argument of `solvers.dispatch` and `solvers.flex.flexibility` from --training and --slowdown."""
    return {"share": share, "slowdown": slowdown}


__all__ = ["START", "TRAINING", "SLOWDOWN", "training_mix"]
