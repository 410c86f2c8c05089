"""The views' own error: a bad option (colour variable, camera, file type) named with what is accepted."""

from __future__ import annotations

from twin.errors import TwinError


class ViewError(ValueError, TwinError):
    """A view cannot be drawn as asked; the message lists what is accepted instead."""
