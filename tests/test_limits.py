"""Size bounds: a count that would build gigabytes is refused from the counts alone, quickly, naming the field."""

from __future__ import annotations

import copy
import time

import pytest
import yaml

import blueprints
from blueprints.parametric import ai_factory
from twin import BlueprintError, Facility, limits
from twin.limits import SizeLimitError

BASE = yaml.safe_load(blueprints.path("ai-factory-hall").read_text())


def hall_with(tmp_path, **rows):
    data = copy.deepcopy(BASE)
    for key, value in rows.items():
        target = data["halls"][0]["rows"]
        *parents, last = key.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("field, value, nodes", [
    ("count", 10**6, 10**6 * (1 + 2 + 16 * 73)),         # 16 NVL72 racks of 72 GPUs per row, two busways per row
    ("racks", 10**6, 4 * (1 + 2 + 10**6 * 73)),
    ("rack__nodes", 10**6, 4 * (1 + 2 + 16 * (1 + 4 * 10**6))),  # 4 GPUs per GB200 tray
    ("count", 10**30, None),
])
def test_a_huge_row_template_is_refused_before_building(tmp_path, field, value, nodes):
    path = hall_with(tmp_path, **{field: value})
    start = time.perf_counter()
    with pytest.raises(BlueprintError) as err:
        blueprints.load(path)
    assert time.perf_counter() - start < 2.0
    message = str(err.value)
    assert "big.yaml:" in message and "halls[0] (hall-a).rows" in message and "TWIN_MAX_NODES" in message
    if nodes is not None:
        assert f"{nodes + 28 + 1 + 1:,} nodes" in message  # + 28 devices, the site and the hall


def test_a_builder_grid_of_a_billion_mw_is_refused_before_building():
    start = time.perf_counter()
    with pytest.raises(SizeLimitError, match=r"1e\+09 MW site .* beyond the bound"):
        ai_factory(grid_mw=1e9)
    assert time.perf_counter() - start < 2.0


def test_python_builders_are_bounded_too():
    f = Facility("x")
    f.add_hall("h", width_m=10, depth_m=10, cooling="dlc")
    row = f.add_row("h", "r")
    with limits.bounded(max_nodes=100):
        with pytest.raises(SizeLimitError, match="200 racks in row 'h/r'"):
            f.add_racks(row, 200)
        racks = f.add_racks(row, 2)
        with pytest.raises(SizeLimitError, match="2 racks of 18 gb200_nvl72 nodes"):
            f.populate(racks, "gb200_nvl72")  # 2 x 72 GPUs
    f.populate(racks, "gb200_nvl72")
    assert len(f.graph) == 3 + 2 + 144


def test_the_bound_comes_from_the_environment_and_can_be_raised(monkeypatch):
    monkeypatch.setenv("TWIN_MAX_NODES", "50")
    assert limits.max_nodes() == 50
    with limits.bounded(max_nodes=10**7):
        assert limits.max_nodes() == 10**7
    assert limits.max_nodes() == 50
    monkeypatch.setenv("TWIN_MAX_NODES", "many")
    with pytest.raises(SizeLimitError, match="TWIN_MAX_NODES='many' is not a number"):
        limits.max_nodes()


def test_a_billion_hour_simulation_is_refused_before_any_weather_is_made(small):
    """`simulate --hours 1000000000` ran 26-51 s to a raw MemoryError; now it is refused from the step count."""
    from twin.simulation import simulate

    start = time.perf_counter()
    with pytest.raises(SizeLimitError, match=r"hours=1000000000 at freq='1h' is 1,000,000,000 time steps .*TWIN_MAX_STEPS"):
        simulate(small, hours=10**9)
    assert time.perf_counter() - start < 2.0
    with limits.bounded(max_steps=47):
        with pytest.raises(SizeLimitError, match="48 time steps"):
            simulate(small, hours=12, freq="15min")
        assert len(simulate(small, hours=47)["time"]) == 47


def test_the_cli_refuses_a_billion_hours_with_one_line():
    from typer.testing import CliRunner

    from twin.cli import app

    result = CliRunner().invoke(app, ["simulate", "ai-factory-hall", "--hours", "1000000000"])
    text = " ".join((result.output + result.stderr).split())
    assert result.exit_code == 1 and "beyond the bound of 2,000,000 steps" in text and "Traceback" not in text
