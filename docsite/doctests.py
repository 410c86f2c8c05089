"""A griffe extension: doctest examples in docstrings become fenced `pycon` blocks (Markdown would quote them)."""

from __future__ import annotations

import re
from typing import Any

import griffe

EXAMPLE = re.compile(r"(?m)^(>>> .*(?:\n(?!\s*\n).*)*)")
"""From a `>>> ` line up to the next blank line: the example's inputs and outputs."""


def fence(text: str) -> str:
    """The docstring with each doctest example in a ```pycon fence."""
    return EXAMPLE.sub(lambda m: f"```pycon\n{m.group(1)}\n```", text)


class DoctestFences(griffe.Extension):
    """Fence doctest examples in every docstring the API pages show."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>> " in obj.docstring.value:
            obj.docstring.value = fence(obj.docstring.value)
