"""Progress of long runs: a lazy minute-step simulation reports its steps with the total known from the start."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import twin
from tests.conftest import small_facility
from twin.progress import Stages, bar, block_steps

MINUTES = 6 * 60
CHUNK = 45


def test_lazy_minute_steps_report_every_step_with_a_known_total():
    """6 h of 1 min steps in 45-step blocks: the first report is (0, 360), each block adds 45, the last is 360/360."""
    ds = twin.simulate(small_facility(), weather="phoenix", hours=6, freq="1min", chunks=CHUNK)
    seen = []
    with block_steps(lambda done, total, what: seen.append((done, total, what)), ds.sizes["time"], "simulating"):
        grid = ds["grid_power_kw"].compute()
    assert grid.size == MINUTES
    assert seen[0] == (0, MINUTES, "simulating")
    assert {total for _, total, _ in seen} == {MINUTES}
    assert [d for d, _, _ in seen] == list(range(0, MINUTES + 1, CHUNK))


def test_eager_steps_start_at_zero_of_the_total(small):
    seen = []
    twin.simulate(small, weather="phoenix", hours=3, freq="1min", progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 180) and seen[-1] == (180, 180)
    assert all(t == 180 for _, t in seen)


def test_stages_grow_when_a_round_is_added():
    seen = []
    stages = Stages(lambda d, t, w: seen.append((d, t, w)), ["solving", "verifying"])
    stages.next()
    stages.add("re-solving", "verifying again")
    stages.next(); stages.next(); stages.next()
    assert seen == [(0, 2, "solving"), (1, 2, "verifying"), (1, 4, "verifying"), (2, 4, "re-solving"),
                    (3, 4, "verifying again"), (4, 4, "done")]


def test_terminal_bar_shows_the_total_not_a_question_mark():
    """What a user sees for a lazy run: 'n/360 steps', ending at 360/360."""
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    ds = twin.simulate(small_facility(), weather="phoenix", hours=6, freq="1min", chunks=CHUNK)
    with bar(console, "simulating") as progress, block_steps(progress, MINUTES, "simulating"):
        ds["it_power_kw"].compute()
    text = console.file.getvalue()
    assert f"{MINUTES}/{MINUTES}" in text
    assert f"0/{MINUTES}" in text or f"{CHUNK}/{MINUTES}" in text
    assert "/?" not in text


def test_cli_minute_run_in_chunks_gives_the_eager_numbers(tmp_path):
    """`twin simulate --chunks --out`: the summary read back from the file equals the eager run's."""
    import json

    from typer.testing import CliRunner

    from twin.cli import app

    args = ["simulate", "ai-factory-hall", "--hours", "6", "--freq", "1min", "--format", "json"]
    eager = CliRunner().invoke(app, args)
    lazy = CliRunner().invoke(app, args + ["--chunks", "100", "--out", str(tmp_path / "m.nc")])
    assert eager.exit_code == 0 and lazy.exit_code == 0, eager.output + lazy.output
    [first], [second] = (json.loads(r.stdout[r.stdout.index("["):r.stdout.rindex("]") + 1]) for r in (eager, lazy))
    assert first.keys() == second.keys() and first["steps"] == MINUTES
    for k, v in first.items():
        assert second[k] == (pytest.approx(v, rel=1e-6) if isinstance(v, float) else v), k


@pytest.mark.solver
def test_optimize_reports_solve_and_verification_stages():
    import blueprints
    import solvers

    seen = []
    solvers.optimize(blueprints.load("ai-factory-hall"), "tokens", time_limit=30,
                     progress=lambda d, t, w: seen.append((d, t, w)))
    assert seen[0] == (0, 2, "solving") and seen[1] == (1, 2, "verifying by simulation")
    assert seen[-1][0] == seen[-1][1] and seen[-1][2] == "done"
    assert all(0 <= d <= t for d, t, _ in seen)


@pytest.mark.solver
def test_compare_reports_each_site_then_the_views():
    import solvers

    seen = []
    solvers.compare("ai-datacenter-hall", "ai-factory-hall", hours=24, render=False,
                    progress=lambda d, t, w: seen.append((d, t, w)))
    assert seen == [(0, 2, "designing and simulating A"), (1, 2, "designing and simulating B"), (2, 2, "done")]


@pytest.mark.solver
def test_placement_reports_data_solve_and_check():
    import blueprints
    import solvers

    seen = []
    solvers.place(blueprints.load("ai-factory-hall"), [{"id": "chat", "tier": "standard"}],
                  progress=lambda d, t, w: seen.append((d, t, w)))
    assert seen == [(0, 3, "preparing blocks and ratings"), (1, 3, "solving"), (2, 3, "checking"), (3, 3, "done")]
