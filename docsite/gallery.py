"""The gallery page: every script in examples/ with what it does, how to run it, its pictures and its code.

Pictures live in docs/gallery/<script>/ and are files the script writes (tests/test_examples.py checks that
each one is among the script's outputs; TWIN_UPDATE_GALLERY=1 there refreshes them).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PICTURES = ROOT / "docs" / "gallery"
PICTURE_SUFFIXES = (".png", ".gif")


def scripts() -> list[Path]:
    """The runnable examples, in name order."""
    return sorted(EXAMPLES.glob("*.py"))


def pictures(script: Path) -> list[Path]:
    """The gallery pictures of one example (files it writes, kept under docs/gallery/<name>/)."""
    folder = PICTURES / script.stem
    return sorted(p for p in folder.rglob("*") if p.suffix in PICTURE_SUFFIXES) if folder.is_dir() else []


def gallery_page() -> str:
    """Markdown of the gallery: one section per example."""
    out = ["# Gallery", "",
           "Runnable scripts in `examples/` (each runs in the test suite). Run one with "
           "`python examples/NAME.py [out_dir]`; the pictures below are what it writes.", ""]
    for script in scripts():
        source = script.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(source)) or ""
        title, _, body = doc.partition("\n")
        out += [f"## {script.stem}", "", f"**{title.strip()}**", "", body.strip(), ""]
        for picture in pictures(script):
            rel = picture.relative_to(ROOT / "docs").as_posix()
            name = picture.relative_to(PICTURES / script.stem).as_posix()
            out += [f"![{script.stem}: {name}]({rel})", "", f"*{name}*", ""]
        out += [f"Source, `examples/{script.name}`:", "", "```python", source.rstrip(), "```", ""]
    return "\n".join(out)


__all__ = ["gallery_page", "scripts", "pictures", "PICTURES"]
