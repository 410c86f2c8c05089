"""Size bounds checked from counts before anything is built, so a typo'd count fails fast instead of eating memory.

A facility graph costs about `BYTES_PER_GPU` of memory and `SECONDS_PER_GPU` of build time per GPU node
(most of a full graph's nodes) and `BYTES_PER_NODE` / `SECONDS_PER_NODE` per other node (racks carry their
power and heat edges). Builders estimate how many nodes a request adds, and how many of them are GPUs (none
for a lean build, `gpu_nodes=False`), and call `check_nodes` first.
The bound is `DEFAULT_MAX_NODES` (about a 12 GW site of NVL72 racks), or `$TWIN_MAX_NODES`, or what
`configure`/`bounded` set:

>>> from twin import limits
>>> with limits.bounded(max_nodes=1000):
...     limits.check_nodes(5000, what="rows")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
twin.limits.SizeLimitError: rows would make the facility 5,000 nodes (~72.5 MB, ~0 s to build), beyond the bound of 1,000 nodes; ...
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from twin.errors import TwinError

DEFAULT_MAX_NODES = 6_000_000
BYTES_PER_GPU = 950
"""Measured: `ai_factory(grid_mw=1000)` peaks at 665 MB RSS with its 429,984 GPU nodes and 260 MB without
(`gpu_nodes=False`): ~940 bytes per GPU node (tracemalloc: ~925)."""
BYTES_PER_NODE = 14_500
"""Measured: the lean 1 GW site (8,516 nodes, 304,131 edges: every rack is tied to each cooling unit of its hall)
peaks 124 MB above the interpreter with the catalog loaded (136 MB), ~14.6 kB per node; 300 MW: ~13.2 kB."""
SECONDS_PER_GPU = 3e-6
"""Measured: the 1 GW site builds in 2.3 s with GPU nodes and 1.1 s without, ~2.8 microseconds per GPU node."""
SECONDS_PER_NODE = 6e-5
"""Measured: the lean 1 GW site, less a 1 MW one (the fixed probe and weather work), ~65 microseconds per node."""
ENV = "TWIN_MAX_NODES"
DEFAULT_MAX_STEPS = 2_000_000
"""Time steps one simulation may take (about 4 years at 1-minute steps, 228 years at hourly ones)."""
BYTES_PER_STEP = 1500
"""Measured: `simulate(ai-factory-hall, hours=87600)` without per-rack series grows peak RSS ~1.5 kB per step."""
SECONDS_PER_STEP = 3e-5
"""Measured: the same run takes ~26 microseconds per step on a 2-core machine."""
STEPS_ENV = "TWIN_MAX_STEPS"

_bounds: dict[str, int] = {}


class SizeLimitError(ValueError, TwinError):
    """A request would build more than the configured bound; the message says how big and how to raise it."""

    def __init__(self, problem: str, fix: str):
        self.problem, self.fix = problem, fix
        super().__init__(f"{problem}; {fix}")


def max_nodes() -> int:
    """The node bound in force: `bounded`/`configure`, else $TWIN_MAX_NODES, else `DEFAULT_MAX_NODES`."""
    return _bound("max_nodes", ENV, DEFAULT_MAX_NODES, "nodes")


def max_steps() -> int:
    """The time-step bound in force: `bounded`/`configure`, else $TWIN_MAX_STEPS, else `DEFAULT_MAX_STEPS`."""
    return _bound("max_steps", STEPS_ENV, DEFAULT_MAX_STEPS, "time steps")


def _bound(name: str, env: str, default: int, what: str) -> int:
    if name in _bounds:
        return _bounds[name]
    raw = os.environ.get(env)
    if raw is None:
        return default
    try:
        value = int(float(raw))
    except (ValueError, OverflowError):
        raise SizeLimitError(f"${env}={raw!r} is not a number", f"set it to a whole number of {what}") from None
    if value < 1:
        raise SizeLimitError(f"${env}={raw!r} is below 1", f"set it to a whole number of {what}")
    return value


_UNSET = object()


def configure(*, max_nodes: int | None | object = _UNSET, max_steps: int | None | object = _UNSET) -> None:
    """Set bounds for this process (None: back to the environment or the default; left out: unchanged)."""
    for name, value in (("max_nodes", max_nodes), ("max_steps", max_steps)):
        if value is None:
            _bounds.pop(name, None)
        elif value is not _UNSET:
            _bounds[name] = _positive(value)  # type: ignore[arg-type]


@contextmanager
def bounded(*, max_nodes: int | None = None, max_steps: int | None = None) -> Iterator[None]:
    """Use other bounds inside a `with` block (tests use tight ones); None keeps the one in force."""
    previous = {k: _bounds.get(k) for k in ("max_nodes", "max_steps")}
    configure(**{k: v for k, v in (("max_nodes", max_nodes), ("max_steps", max_steps)) if v is not None})
    try:
        yield
    finally:
        configure(**previous)


def check_nodes(total: int | float, *, what: str, gpus: int | float = 0) -> None:
    """Refuse, before building, a facility that would reach `total` nodes beyond the bound; `gpus` of them
    are GPU nodes (0 for a lean build, `gpu_nodes=False`), which the fix then offers to leave out."""
    bound = max_nodes()
    if total <= bound:
        return
    lean = (f"; or build it without GPU nodes (gpu_nodes=False, `gpu_nodes: false` in a blueprint): "
            f"{_count(gpus)} of the nodes are GPUs, which only per-GPU detail reads") if gpus > total / 2 else ""
    raise SizeLimitError(
        f"{what} would make the facility {_count(total)} nodes (~{_bytes(estimate_bytes(total, gpus))}, "
        f"~{_seconds((total - gpus) * SECONDS_PER_NODE + gpus * SECONDS_PER_GPU)} to build), "
        f"beyond the bound of {bound:,} nodes",
        f"check the counts, or raise the bound (${ENV}=..., or twin.limits.configure(max_nodes=...)) "
        f"if the machine has the memory{lean}",
    )


def estimate_bytes(total: int | float, gpus: int | float = 0) -> float:
    """Memory a facility graph of `total` nodes takes while building, `gpus` of them GPU nodes."""
    return (total - gpus) * BYTES_PER_NODE + gpus * BYTES_PER_GPU


def check_steps(total: int | float, *, what: str) -> None:
    """Refuse, before simulating, a run of `total` time steps beyond the bound."""
    bound = max_steps()
    if total <= bound:
        return
    raise SizeLimitError(
        f"{what} is {_count(total)} time steps (~{_bytes(total * BYTES_PER_STEP)}, ~{_seconds(total * SECONDS_PER_STEP)}), "
        f"beyond the bound of {bound:,} steps",
        f"shorten the run or lengthen the step, or raise the bound (${STEPS_ENV}=..., or "
        "twin.limits.configure(max_steps=...)) if the machine has the memory",
    )


def _positive(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SizeLimitError(f"a bound must be a whole number of at least 1, got {value!r}", "pass a positive int")
    return value


def _count(n: int | float) -> str:
    return f"{int(n):,}" if n < 1e15 else f"{float(n):.2g}"


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.3g} {unit}" if n < 1e15 else f"{n / 1e12:.2g} TB"
    return f"{n / 1e6:.0f} MB"


def _seconds(s: float) -> str:
    if s >= 86400 * 365:
        return f"{s / (86400 * 365):.2g} years"
    if s >= 2 * 86400:
        return f"{s / 86400:.0f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s:.0f} s" if s < 100 else f"{s / 60:.0f} min"


__all__ = ["DEFAULT_MAX_NODES", "DEFAULT_MAX_STEPS", "SizeLimitError", "bounded", "check_nodes", "check_steps", "configure",
           "estimate_bytes", "max_nodes", "max_steps"]
