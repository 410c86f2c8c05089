"""The CI memory cap (.ci/memcap.py): a run that outgrows the cap fails and its process tree is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MEMCAP = Path(__file__).resolve().parents[1] / ".ci" / "memcap.py"
GROW = "import time\nheld = []\nfor _ in range(60):\n    held.append(b\"x\" * 20_000_000); time.sleep(0.05)\n"

pytestmark = pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads /proc (Linux)")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(MEMCAP), *args], capture_output=True, text=True, timeout=60)


def test_a_grandchild_over_the_cap_fails_the_run():
    # the allocation happens two levels down (shell -> python), as in pytest -> dask worker
    out = run("--cap-gb", "0.25", "--", "sh", "-c", f"{sys.executable} -c '{GROW}'; echo survived")
    assert out.returncode == 3
    assert "over the 0.25 GB cap" in out.stderr
    assert "survived" not in out.stdout  # the whole tree was killed, not just the top process


def test_under_the_cap_the_exit_status_and_peak_come_through():
    out = run("--cap-gb", "4", "--", sys.executable, "-c", "import sys, time; x = b'x' * 50_000_000; time.sleep(0.6); sys.exit(5)")
    assert out.returncode == 5  # pytest's "no tests collected" must still fail CI
    peak = float(out.stderr.split("peak RSS ")[1].split(" GB")[0])
    assert 0.04 <= peak < 1.0  # the 50 MB buffer lives through a few samples
