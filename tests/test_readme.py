"""The README's command-line sequence runs as written, and each step's file is what the next one needs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import xarray as xr
from PIL import Image, ImageSequence

from twin.views.colors import OUTCOMES
from twin.views.drawing import HIGHLIGHT_COLOR

README = Path(__file__).parent.parent / "README.md"


def sequence() -> str:
    """The bash block after the `<!-- cli-sequence -->` marker."""
    text = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- cli-sequence -->\s*```bash\n(.*?)```", text, re.S)
    assert found, "README.md lost its <!-- cli-sequence --> block"
    return found.group(1)


def frames(path: Path) -> list[np.ndarray]:
    return [np.asarray(f.convert("RGB")).astype(int) for f in ImageSequence.Iterator(Image.open(path))]


def share_of(image: np.ndarray, color: str, tolerance: int = 10) -> float:
    """Share of the picture's pixels within `tolerance` of `color` (per channel)."""
    rgb = np.round(np.array(matplotlib.colors.to_rgb(color)) * 255)
    return float((np.abs(image - rgb).max(axis=2) <= tolerance).mean())


@pytest.mark.slow
@pytest.mark.solver
def test_the_readme_command_line_sequence_runs_verbatim(tmp_path):
    script = sequence()
    assert "twin simulate" in script and "twin render" in script and "--render blast.png" in script
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "COLUMNS": "100"}
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    with xr.open_dataset(tmp_path / "day.nc") as day:                    # simulate --out keeps what render needs
        assert day["rack_power_kw"].dims == ("time", "rack") and day.sizes["time"] == 24
        swing = float(day["rack_power_kw"].max() - day["rack_power_kw"].min())
    assert swing > 10.0                                                   # a diurnal day: racks move by > 10 kW
    gif = frames(tmp_path / "day.gif")
    assert len(gif) == 24
    assert np.abs(gif[0] - gif[15]).max() > 60                            # 00:00 and 15:00 look different
    blast = np.asarray(Image.open(tmp_path / "blast.png").convert("RGB")).astype(int)
    assert share_of(blast, HIGHLIGHT_COLOR) > 1e-4                        # the failed PDU, in magenta
    assert share_of(blast, OUTCOMES["unpowered"]) > 1e-3                  # its 16 racks, unpowered, in red
    assert share_of(blast, OUTCOMES["ok"]) > 1e-3                         # the other 64, ok, in green
    assert Image.open(tmp_path / "pareto.png").size[0] > 1000
    assert "hall-b/row-01/pdu-1" in run.stdout and "3 ok" in run.stdout


def test_the_readme_animation_shows_a_day_that_moves():
    text = README.read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\(([^)]+\.gif)\)", text)
    assert shown, "the README shows no animation"
    gif = frames(README.parent / shown[0])
    assert len(gif) >= 6
    changed = [np.abs(a - b).max(axis=2).mean() for a, b in zip(gif, gif[1:])]
    assert min(np.abs(gif[0] - g).max() for g in gif[1:]) > 0 and max(changed) > 0.5


def test_the_readme_test_command_collects_every_test_file():
    """`pytest -q` as the README says: the console script puts no project folder on sys.path (python -P mimics it),
    so test modules importing `tests.*` must still collect."""
    text = README.read_text(encoding="utf-8")
    assert "pip install -e '.[test]' && pytest -q" in text
    run = subprocess.run([sys.executable, "-P", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                         cwd=README.parent, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
