"""Every command-line input is checked at the edge: one of our errors naming the option and what to give, exit 1,
before the blueprint is even loaded (so a bad --plot does not wait for a year's simulation), never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import blueprints
from twin.cli import app


@pytest.fixture
def run(monkeypatch):
    """Invoke the CLI in this process; loading a blueprint fails the test (every check comes before it)."""
    def no_load(*args, **kwargs):
        raise AssertionError("the blueprint was loaded before the inputs were checked")

    monkeypatch.setattr(blueprints, "load", no_load)
    monkeypatch.setenv("COLUMNS", "300")

    def invoke(*args: str):
        result = CliRunner().invoke(app, list(args))
        text = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert not isinstance(result.exception, AssertionError), result.exception
        assert result.exit_code == 1, (result.exit_code, text, result.exception)
        assert "Traceback" not in text and isinstance(result.exception, SystemExit), text
        return " ".join(text.split())

    return invoke


@pytest.fixture
def a_file(tmp_path):
    """A regular file, used as if it were a folder: unwritable for every user, root included."""
    path = tmp_path / "a-file"
    path.write_text("x")
    return path


@pytest.mark.parametrize("value, said", [("inf", "--mw inf: give a finite number MW"), ("nan", "--mw nan: give a finite"),
                                         ("0", "--mw 0: must be above 0 MW"), ("-5", "--mw -5: must be above 0 MW")])
def test_optimize_mw_must_be_finite_and_positive(run, value, said):
    """--mw inf designed 48 MW for a 12 MW site; 0, -5 and nan said the site had no grid limit."""
    text = run("optimize", "ai-factory-hall", "--mw", value)
    assert said in text and "no grid limit" not in text


def test_optimize_time_limit_must_be_positive(run):
    assert "--time-limit -1: must be above 0 s" in run("optimize", "ai-factory-hall", "--time-limit", "-1")


@pytest.mark.parametrize("command, option, name", [
    ("optimize", "--out", "plan.json"), ("optimize", "--save", "site.yaml"), ("optimize", "--render", "view.png"),
    ("simulate", "--out", "run.nc"), ("simulate", "--plot", "plot.png"), ("contingency", "--out", "n1.csv"),
    ("render", "--out", "view.png"), ("sweep", "--out", "sweep.nc"),
])
def test_outputs_into_an_unwritable_folder_are_refused_up_front(run, a_file, command, option, name):
    target = a_file / name
    extra = ["--param", "grid_mw=6,12"] if command == "sweep" else []
    text = run(command, "ai-factory-hall", option, str(target), *extra)
    assert f"cannot write {target}" in text and "is a file, not a folder" in text


@pytest.mark.parametrize("command, option, name, said", [
    ("simulate", "--plot", "plot.nc", "--plot plot.nc: cannot write '.nc' here; use one of .png"),
    ("simulate", "--out", "run.csv", "--out run.csv: cannot write '.csv' here; use one of .nc"),
    ("optimize", "--out", "plan.yaml", "use one of .json"),
    ("contingency", "--out", "n1.xlsx", "use one of .csv"),
    ("render", "--out", "view.tiff", "use one of .png"),
])
def test_output_suffixes_are_checked_before_the_run(run, command, option, name, said):
    """simulate --plot plot.nc failed with a traceback after the whole simulation."""
    assert said in run(command, "ai-factory-hall", option, name)


@pytest.mark.parametrize("fps", ["0", "-1", "inf"])
def test_render_fps_must_be_positive(run, fps):
    assert f"--fps {fps}" in run("render", "ai-factory-hall", "--out", "day.gif", "--fps", fps)


@pytest.mark.parametrize("command, out", [("render", "--out=v.png"), ("export", "--usd=v.usdc")])
def test_state_must_exist(run, command, out):
    assert "--state nowhere.nc: no such file" in run(command, "ai-factory-hall", out, "--state", "nowhere.nc")


def test_sweep_scenarios_file_must_exist(run):
    assert "--scenarios missing.csv: no such file" in run("sweep", "ai-factory-hall", "--scenarios", "missing.csv")


def test_contingency_top_must_be_positive(run):
    assert "--top 0: must be at least 1" in run("contingency", "ai-factory-hall", "--top", "0")


@pytest.mark.parametrize("args, said", [
    (("--param", "grid_mw=a,b"), "grid_mw='a' is not a finite number above 0"),
    (("--param", "grid_mw=6,-1"), "grid_mw=-1 is not a finite number above 0"),
    (("--param", "grid_mw=6,inf"), "grid_mw=inf is not a finite number"),
    (("--param", "grid_mw=6", "--set", "verify=maybe"), "verify='maybe' is not true or false"),
    (("--param", "grid_mw=6", "--set", "power_caps=2"), "power_caps=2 is not true or false"),
])
def test_sweep_values_are_checked_before_any_scenario_runs(args, said, monkeypatch):
    """A grid_mw of text failed every scenario with a TypeError; verify=maybe was taken as true."""
    import importlib

    monkeypatch.setattr(importlib.import_module("solvers.sweep"), "run_scenario", lambda *a: pytest.fail("a scenario ran"))
    result = CliRunner().invoke(app, ["sweep", "ai-factory-hall", *args, "--scheduler", "serial"])
    text = " ".join((result.output + result.stderr).split())
    assert result.exit_code == 1 and said in text, text


def test_a_builder_sweep_checks_gpu_nodes_before_any_scenario_runs(monkeypatch):
    """gpu_nodes=maybe used to fail inside every scenario of a parametric sweep."""
    import importlib

    monkeypatch.setattr(importlib.import_module("solvers.sweep"), "run_scenario", lambda *a: pytest.fail("a scenario ran"))
    result = CliRunner().invoke(app, ["sweep", "parametric", "--param", "grid_mw=6", "--set", "gpu_nodes=maybe",
                                      "--scheduler", "serial"])
    text = " ".join((result.output + result.stderr).split())
    assert result.exit_code == 1 and "gpu_nodes='maybe' is not true or false" in text, text


def test_a_scenario_table_that_is_not_csv_is_our_error(tmp_path):
    bad = tmp_path / "scenarios.csv"
    bad.write_bytes(b"\xff\xfe\x00binary")
    result = CliRunner().invoke(app, ["sweep", "ai-factory-hall", "--scenarios", str(bad), "--scheduler", "serial"])
    assert result.exit_code == 1 and "cannot read it as a CSV scenario table" in result.output + result.stderr


def test_compare_refuses_a_mix_that_does_not_add_up(run):
    """--workload-mix inference=0.8 was silently rescaled to 100 % inference."""
    assert "the shares add up to 0.8, not 1" in run("compare", "ai-factory-hall", "ai-datacenter-hall",
                                                     "--workload-mix", "inference=0.8")


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    """Two hours of the packaged hall with per-rack series, as `twin simulate --per-rack --out` writes them."""
    from twin.simulation import simulate

    path = tmp_path_factory.mktemp("state") / "day.nc"
    simulate(blueprints.load("ai-factory-hall"), hours=2, per_rack=True).twin.save(path)
    return path


@pytest.mark.parametrize("time, said", [("July 1", "--time 'July 1' is not a date/time within the state's span 2025-01-01 00:00 .. 2025-01-01 01:00"),
                                        ("noon-ish", "is not a date/time"), ("2031-07-01", "outside the state's span"),
                                        ("99", "out of range: the state has 2 steps")])
def test_render_time_outside_or_unreadable_is_one_line(state, tmp_path, time, said):
    """`render --time "July 1"` printed a 215-line traceback."""
    result = CliRunner().invoke(app, ["render", "ai-factory-hall", "--state", str(state), "--time", time,
                                      "--out", str(tmp_path / "view.png")])
    text = " ".join((result.output + result.stderr).split())
    assert result.exit_code == 1 and said in text and "Traceback" not in text, text
    assert not (tmp_path / "view.png").exists()


@pytest.mark.parametrize("command, out", [("render", "--out=v.png"), ("export", "--usd=v.usdc")])
def test_state_that_is_not_netcdf_says_so(run, tmp_path, command, out):
    bad = tmp_path / "notes.nc"
    bad.write_text("hello")
    text = run(command, "ai-factory-hall", out, "--state", str(bad))
    assert f"--state {bad}: not a NetCDF file" in text and "backends" not in text, text
