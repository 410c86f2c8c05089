"""The `twin` command line prints tables and answers bad input with one clear message (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys

import blueprints


SMALL = [n for n in blueprints.names() if (blueprints.grid_mw(n) or 0) <= 20]
"""Packaged blueprints up to 20 MW; the 100 MW and 1 GW ones are checked at small scale in test_reference_blueprints.py
(a 1 GW site takes minutes to round-trip or optimize)."""


def twin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})


def test_validate_packaged_blueprints():
    for name in SMALL:
        out = twin("validate", name)
        assert out.returncode == 0, out.stderr
        assert "valid" in out.stdout


def test_show_prints_a_summary_table():
    out = twin("show", "ai-factory-hall")
    assert out.returncode == 0, out.stderr
    assert "4,608" in out.stdout and "hall-a" in out.stdout


def test_catalog_sections():
    for section in ("systems", "cooling", "tiers"):
        out = twin("catalog", section)
        assert out.returncode == 0, out.stderr
    assert "gb200_nvl72" in twin("catalog", "systems").stdout


def test_invalid_blueprint_lists_problems_without_traceback(tmp_path):
    text = blueprints.path("ai-factory-hall").read_text().replace("rating_kw: 9000", "rating_kw: -9000")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    out = twin("validate", str(bad))
    assert out.returncode == 1
    assert "bad.yaml:" in out.stderr and "equipment[4] (ups-a).rating_kw" in out.stderr and "-9000" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_file_is_one_line():
    out = twin("validate", "nowhere.yaml")
    assert out.returncode == 1 and "Traceback" not in out.stderr and "nowhere.yaml" in out.stderr
