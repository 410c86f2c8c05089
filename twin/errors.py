"""The project's exceptions: one small hierarchy, every message naming where, which rule, and the fix."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence, TypeVar

E = TypeVar("E", bound="TwinError")


class TwinError(Exception):
    """Base of every error this library raises on purpose.

    `cli_message`, when set, says the same in the syntax of the `twin` command line (its options, not Python
    keyword arguments); the command line prints it instead: `raise ViewError(text).on_cli(text_for_the_shell)`.
    """

    cli_message: str | None = None

    def on_cli(self: E, message: str) -> E:
        """Give this error its command-line wording; returns the error, to raise."""
        self.cli_message = message
        return self


class BlueprintError(ValueError, TwinError):
    """A blueprint or data file is unreadable or does not follow the format."""


class CatalogError(ValueError, TwinError):
    """A catalog entry is malformed or missing its source/evidence."""


class UnknownEntry(LookupError, TwinError):
    """A catalog id (system, cooling technology, tier, ...) does not exist."""


class GraphError(ValueError, TwinError):
    """A facility graph operation refers to missing nodes or wrong kinds."""


class OutputError(ValueError, TwinError):
    """An output was asked for in a form that cannot be written (say, a plot as `.nc`)."""


class WriteError(OSError, TwinError):
    """An output file cannot be written (missing or read-only folder, full disk, ...); see `twin.atomic`."""


class InputError(ValueError, TwinError):
    """An argument (a command-line option, a function parameter) is out of its range; the message names it."""


class InfeasibleDesign(TwinError):
    """No design satisfies the limits; the message says which limits are short and by how much."""


class TwinWarning(UserWarning):
    """Base of the warnings this library gives on purpose."""


class PlausibilityWarning(TwinWarning):
    """A value is legal but unusual enough to be a typo (a device rated 100x what it carries); says which."""


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (node id or file field), the rule's name, what is wrong, how to fix it."""

    where: str
    rule: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message} [{self.rule}] -> {self.fix}"


class ValidationError(ValueError, TwinError):
    """A facility breaks one or more rules; `problems` lists every one of them."""

    def __init__(self, problems: Sequence[Problem], subject: str = "facility"):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{subject} has {len(self.problems)} problem(s):\n{shown}{tail}")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A short hint naming the closest known ids, or listing a few when nothing is close."""
    known = sorted(known)
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"known: {listed}"
