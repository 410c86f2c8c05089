"""Shared fixtures: a small hand-sized facility that is valid by construction; a suite-wide size bound."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from twin import Facility

RACKS = 4
TEST_MAX_NODES = 1_500_000
"""No test means to build more than a 1 GW site (~560k graph nodes): anything bigger is refused before it is
built (`twin.limits`). Set through the environment so dask workers started by tests inherit it."""
os.environ.setdefault("TWIN_MAX_NODES", str(TEST_MAX_NODES))


def small_facility(system: str = "gb200_nvl72", cooling: str = "dlc", ups_kw: float = 1000.0) -> Facility:
    """grid -> tx -> 2N UPS -> busway -> 4 racks; CDUs to dry coolers, one CRAH to a chiller."""
    f = Facility("small", grid_limit_mw=1.0, climate="phoenix")
    f.add_device("grid", "grid", rating_kw=2000)
    f.add_device("tx-1", "transformer", rating_kw=1500, fed_by=["grid"])
    f.add_device("ups-a", "ups", rating_kw=ups_kw, fed_by=["tx-1"], group="ups", redundancy="2N")
    f.add_device("ups-b", "ups", rating_kw=ups_kw, fed_by=["tx-1"], group="ups", redundancy="2N")
    f.add_device("busway-1", "busway", rating_kw=1000, fed_by=["ups-a", "ups-b"])
    f.add_device("dc-1", "dry_cooler", rating_kw=1000)
    f.add_device("ch-1", "chiller", rating_kw=500)
    f.add_device("cdu-1", "cdu", rating_kw=1000, rejects_to=["dc-1"])
    f.add_device("crah-1", "crah", rating_kw=300, rejects_to=["ch-1"])
    f.add_hall("hall-a", width_m=10, depth_m=6, cooling=cooling)
    row = f.add_row("hall-a", "row-01", y_m=3)
    f.add_racks(row, RACKS, x_m=2, system=system, fed_by=["busway-1"], cooled_by=["cdu-1", "crah-1"])
    return f


@pytest.fixture
def small() -> Facility:
    return small_facility()


REFERENCES = Path(__file__).parent / "data" / "views"


def matches_reference(image: np.ndarray, name: str) -> None:
    """Assert a picture (rows x columns x RGB) is the stored reference `name` but for anti-aliasing noise.

    TWIN_UPDATE_REFERENCE=1 rewrites the reference after a deliberate change (look at it before committing).
    """
    from PIL import Image

    path = REFERENCES / name
    image = np.asarray(image)[..., :3].astype(int)
    if os.environ.get("TWIN_UPDATE_REFERENCE") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.astype(np.uint8)).save(path)
        pytest.skip(f"reference image written to {path}; look at it, commit it, and rerun")
    reference = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert image.shape == reference.shape, (image.shape, reference.shape)
    diff = np.abs(image - reference).max(axis=2)
    assert diff.mean() < 2.0 and (diff > 48).mean() < 0.01, f"{name}: mean {diff.mean():.2f}, changed {(diff > 48).mean():.2%}"
    assert (image != 255).any(axis=2).mean() > 0.05  # and the picture is not blank
