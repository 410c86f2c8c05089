"""Progress of long runs, as calls `progress(done, total, what)` a caller turns into a bar (the CLI does).

`Stages` reports the named stages of a run (design, simulate, render, ...) with their total known from
the start; `block_steps` reports the time steps of a lazy (dask) simulation as its blocks are computed;
`bar` draws such calls as a terminal progress bar with its total.

>>> seen = []
>>> stages = Stages(lambda done, total, what: seen.append((done, total, what)), ["solve", "check"])
>>> stages.next(); stages.next()
>>> seen
[(0, 2, 'solve'), (1, 2, 'check'), (2, 2, 'done')]
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

Progress = Callable[..., None]
"""`progress(done, total)` or `progress(done, total, what)`: `what` names the stage being worked on."""

_listeners: list[Callable[[int], None]] = []
_lock = threading.Lock()


class Stages:
    """A run's stages, reported as they start: (0, n, first), (1, n, second), ..., (n, n, 'done')."""

    def __init__(self, progress: Progress | None, names: Sequence[str]):
        self.progress, self.names, self.done = progress, list(names), 0
        self._report()

    def add(self, *names: str) -> None:
        """Stages found to be needed on the way (another verification round): the total grows, visibly."""
        self.names[self.done + 1:self.done + 1] = list(names)
        self._report()

    def next(self) -> None:
        """The current stage is finished; the next one starts."""
        self.done = min(self.done + 1, len(self.names))
        self._report()

    def _report(self) -> None:
        if self.progress is not None:
            what = self.names[self.done] if self.done < len(self.names) else "done"
            self.progress(self.done, len(self.names), what)


def steps_done(n: int) -> None:
    """A lazy simulation block of `n` time steps has been computed (called from the dask task itself)."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(n)


@contextmanager
def block_steps(progress: Progress | None, total: int, what: str = "simulating") -> Iterator[None]:
    """While dask computes a lazy simulation of `total` steps here (threads or synchronously), report finished steps.

    Blocks report themselves through `steps_done`, so it holds whatever dask fuses or renames; blocks computed in
    other processes (a distributed cluster) are not seen.
    """
    if progress is None:
        yield
        return
    done = [0]

    def listener(n: int) -> None:
        with _lock:                      # reports in order even when threads finish blocks together
            done[0] = min(total, done[0] + n)
            progress(done[0], total, what)

    progress(0, total, what)
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


@contextmanager
def bar(console: Any, what: str, unit: str = "steps") -> Iterator[Progress]:
    """A rich progress bar on `console` (gone when done), yielding the `progress(done, total, what)` it draws.

    Until the first report it says "preparing"; from then on it shows done/total with the total known.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.progress import Progress as Bar
    from rich.text import Text

    class Count(MofNCompleteColumn):
        def render(self, task: Any) -> Text:
            return Text("preparing") if task.total is None else Text.assemble(super().render(task), f" {unit}")

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), Count(), TimeElapsedColumn(), TimeRemainingColumn())
    with Bar(*columns, console=console, transient=True) as shown:
        task = shown.add_task(what, total=None)

        def progress(done: int, total: int, stage: str | None = None) -> None:
            shown.update(task, completed=done, total=total, description=stage or what)

        yield progress


__all__ = ["Progress", "Stages", "block_steps", "steps_done", "bar"]
