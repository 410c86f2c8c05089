"""Every script in examples/ runs to completion (each writes into its own temporary folder), and the docs gallery
shows pictures the script really writes (TWIN_UPDATE_GALLERY=1 copies them afresh from the run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))
GALLERY = Path(__file__).parent.parent / "docs" / "gallery"


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert any(tmp_path.iterdir()), "the example wrote nothing"
    shown = sorted(p.relative_to(GALLERY / script.stem) for p in (GALLERY / script.stem).rglob("*") if p.is_file())
    missing = [str(p) for p in shown if not (tmp_path / p).is_file()]
    assert not missing, f"the gallery shows pictures {script.name} no longer writes: {missing}"
    if os.environ.get("TWIN_UPDATE_GALLERY") == "1":
        for p in shown:
            shutil.copyfile(tmp_path / p, GALLERY / script.stem / p)
