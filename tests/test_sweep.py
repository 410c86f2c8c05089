"""Scenario sweeps on a real 2-worker LocalCluster: serial equality, recorded failures, resume; Pareto fronts; CLI."""

from __future__ import annotations

import functools
import itertools
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import blueprints
import solvers
import twin
from blueprints.parametric import ai_factory
from solvers.fronts import front, non_dominated, plot
from solvers.sweep import expand, failure, local_client, to_dataset
from twin.commands.sweep import parse_value, read_table
from twin.errors import InfeasibleDesign, TwinError
from twin.io import to_node_link


@pytest.fixture(scope="module")
def client():
    c = local_client(2)      # the LocalCluster solvers.sweep starts by default, shared by this module
    assert len(c.scheduler_info()["workers"]) == 2
    yield c
    c.close()
    c.cluster.close()


def counting_builder(grid_mw: float, climate: str = "phoenix", *, marker_dir: str):
    """ai_factory that leaves one marker file per call, so a test can count how often each scenario was built."""
    Path(marker_dir, f"{grid_mw:g}-{climate}-{uuid.uuid4().hex}").touch()
    return ai_factory(grid_mw=grid_mw, climate=climate)


def markers(folder: Path, grid_mw: float, climate: str) -> int:
    return len(list(folder.glob(f"{grid_mw:g}-{climate}-*")))


@pytest.mark.parametrize("exc, expected", [
    (InfeasibleDesign("needs 2.0 MW more"), ("infeasible", "needs 2.0 MW more")),
    (TwinError("unknown climate 'atlantis'"), ("error", "unknown climate 'atlantis'")),
    (ZeroDivisionError("division by zero"), ("error", "ZeroDivisionError: division by zero")),
])
def test_a_failed_scenario_is_infeasible_or_an_error_and_only_foreign_errors_name_their_type(exc, expected):
    assert failure(exc) == expected


KPIS_COMPARED = ("tokens_per_s", "revenue_usd_per_year", "capex_usd", "facility_mw", "gpus", "racks", "usd_per_mtok")


@pytest.mark.slow
@pytest.mark.solver
def test_grid_on_two_workers_equals_direct_calls_and_records_the_failure(client):
    grid = {"grid_mw": [6.0, 0.001], "objective": ["tokens", "revenue"]}
    ds = solvers.sweep("ai-factory-hall", grid, client=client, verify=False, progress=False)
    assert dict(ds.sizes) == {"grid_mw": 2, "objective": 2, "tier": 4}
    assert ds.attrs["computed"] == 4 and ds.attrs["reused"] == 0
    site = blueprints.load("ai-factory-hall")
    for objective in grid["objective"]:
        plan = solvers.optimize(site, objective, grid_mw=6.0, verify=False)   # the serial result
        got = ds.sel(grid_mw=6.0, objective=objective)
        assert str(got["status"].values) == "ok"
        for kpi in KPIS_COMPARED:
            assert float(got[kpi]) == plan.kpis[kpi], kpi
        for tier in ds["tier"].values:
            assert float(got["tokens_per_s_by_tier"].sel(tier=tier)) == plan.kpis[f"tokens_per_s[{tier}]"]
        failed = ds.sel(grid_mw=0.001, objective=objective)
        assert str(failed["status"].values) == "infeasible"
        assert "0.001 MW grid limit" in str(failed["message"].values)
        assert np.isnan(float(failed["tokens_per_s"]))


@pytest.mark.slow
def test_interrupted_sweep_resumes_without_recomputing(client, tmp_path):
    builder = functools.partial(counting_builder, marker_dir=str(tmp_path))
    grid = {"grid_mw": [2, 3, 4], "climate": ["phoenix", "lulea"]}
    out = tmp_path / "sweep.nc"
    seen: list[dict] = []

    def stop_after_two(record: dict) -> None:
        seen.append(record)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        solvers.sweep(builder, grid, "simulate", client=client, out=out, hours=24, progress=False, callback=stop_after_two)
    assert not out.exists()
    assert len(list(Path(f"{out}.parts").glob("*.json"))) == 2
    ds = solvers.sweep(builder, grid, "simulate", client=client, out=out, hours=24, progress=False)
    assert (ds.attrs["computed"], ds.attrs["reused"]) == (4, 2)
    for record in seen:   # built once, in the interrupted run, and never again
        assert markers(tmp_path, record["scenario"]["grid_mw"], record["scenario"]["climate"]) == 1
    assert (ds["status"] == "ok").all()
    serial = solvers.sweep(builder, grid, "simulate", client="serial", hours=24, progress=False)
    xr.testing.assert_identical(ds.drop_vars("seconds"), serial.drop_vars("seconds").assign_attrs(ds.attrs))
    again = solvers.sweep(builder, grid, "simulate", client=client, out=out, hours=24, progress=False)
    assert again.attrs["computed"] == 0
    assert ds["tokens"].sel(grid_mw=4, climate="lulea") > ds["tokens"].sel(grid_mw=2, climate="lulea")
    assert ds["pue"].sel(grid_mw=3, climate="lulea") < ds["pue"].sel(grid_mw=3, climate="phoenix")
    xr.testing.assert_identical(xr.load_dataset(out), again)                # the file is the last result


@pytest.mark.slow
def test_table_on_a_scheduler_address_matches_direct_simulations(client):
    table = [{"climate": "phoenix"}, {"climate": "lulea", "tiers": "premium"}, {"weather": "atlantis"}]
    ds = solvers.sweep("ai-factory-hall", table, "simulate", client=client.scheduler.address, hours=24, progress=False)
    assert list(ds["climate"].values) == ["phoenix", "lulea", ""] and list(ds["tiers"].values) == ["", "premium", ""]
    assert list(ds["status"].values) == ["ok", "ok", "error"]
    assert "atlantis" in str(ds["message"].values[2])
    site = blueprints.load("ai-factory-hall")
    direct = twin.simulate(site, weather="phoenix", hours=24, per_rack=False, per_device=False).twin.summary()
    for key in ("grid_energy_mwh", "pue", "tokens", "revenue_usd"):
        assert float(ds[key][0]) == direct[key], key
    premium = ds["tokens_per_s_by_tier"][1]
    assert float(premium.sum()) == float(premium.sel(tier="premium")) > 0
    assert float(ds["interactivity_tok_s_user"][1]) == site.catalog.tier("premium").min_interactivity_tok_s_user


@pytest.mark.slow
def test_cli_prints_a_table_and_writes_results_and_plots(client, tmp_path):
    from typer.testing import CliRunner

    from twin.cli import app

    out, png = tmp_path / "s.nc", tmp_path / "p.png"
    args = ["sweep", "ai-factory-hall", "--run", "simulate", "--param", "climate=phoenix,lulea", "--set", "hours=6",
            "--scheduler", client.scheduler.address, "--out", str(out), "--plot", str(png)]
    done = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "2 ok, 0 infeasible, 0 failed" in done.output and "lulea" in done.output
    ds = xr.load_dataset(out)
    assert ds["pue"].sel(climate="lulea") < ds["pue"].sel(climate="phoenix")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    bad = CliRunner().invoke(app, ["sweep", "ai-factory-hall", "--param", "grid_mv=6"])
    assert bad.exit_code == 1 and "grid_mw" in bad.output


def dying_builder(grid_mw: float, *, kill_switch: str):
    """ai_factory, except that the 3 MW scenario kills its worker process while the kill-switch file exists."""
    if grid_mw == 3 and Path(kill_switch).exists():
        os._exit(1)
    return ai_factory(grid_mw=grid_mw)


@pytest.mark.slow
def test_a_lost_worker_fails_its_scenarios_which_the_next_run_retries(client, tmp_path):
    switch = tmp_path / "kill"
    switch.touch()
    builder = functools.partial(dying_builder, kill_switch=str(switch))
    out = tmp_path / "s.nc"
    scheduler = client.cluster.scheduler
    allowed, scheduler.allowed_failures = scheduler.allowed_failures, 0   # give up on the first death
    try:
        ds = solvers.sweep(builder, {"grid_mw": [2, 3, 4]}, client=client, out=out, verify=False, progress=False)
    finally:
        scheduler.allowed_failures = allowed
    status = ds["status"].values.tolist()
    assert status[1] == "error" and "KilledWorker" in str(ds["message"].values[1])
    assert "ok" in status            # a scenario queued on the same worker may go down with it, not all of them
    lost = [m for m in ds["message"].values if m]
    assert all("KilledWorker" in m for m in lost)
    client.wait_for_workers(2, timeout=60)                                 # the nanny restarts the worker
    switch.unlink()
    again = solvers.sweep(builder, {"grid_mw": [2, 3, 4]}, client=client, out=out, verify=False, progress=False)
    assert again.attrs["computed"] == len(lost) and (again["status"] == "ok").all()


# ---------------------------------------------------------------------------------------- no cluster needed
@pytest.mark.parametrize("directions", list(itertools.product(("min", "max"), repeat=2)))
def test_non_dominated_matches_brute_force(directions):
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(1, 40))
        x, y = rng.integers(0, 6, n).astype(float), rng.integers(0, 6, n).astype(float)
        x[rng.random(n) < 0.1] = np.nan
        sx, sy = (1 if d == "max" else -1 for d in directions)
        expected = [np.isfinite(x[i]) and np.isfinite(y[i]) and not any(
            sx * x[j] >= sx * x[i] and sy * y[j] >= sy * y[i] and (x[j] != x[i] or y[j] != y[i]) for j in range(n))
            for i in range(n)]
        assert non_dominated(x, y, directions).tolist() == expected


def test_front_and_plot_from_records(tmp_path):
    rows, axes = expand({"grid_mw": [50, 100, 200]})
    kpis = [(1e8, 5e9, 3.0), (2e8, 4e9, 2.0), (3e8, 9e9, 1.0)]
    records = [{"status": "ok", "message": "", "seconds": 0.1, "tokens_per_s_by_tier": {"standard": t},
                "kpis": {"capex_usd": c, "tokens_per_s": t, "revenue_usd_per_year": r, "grid_limit_mw": g,
                         "usd_per_mtok": u, "interactivity_tok_s_user": 35.0}}
               for (c, t, u), r, g in zip(kpis, (1.0, 2.0, 3.0), (50, 100, 200))]
    records[1] = {**records[1], "status": "infeasible", "message": "needs more MW", "kpis": {}}
    ds = to_dataset(rows, axes, records, {"run": "optimize", "base": "test"})
    best = front(ds, "capex_usd", "tokens_per_s")
    assert best["grid_mw"].tolist() == [50, 200]            # the infeasible one is never on the front
    assert front(ds, "capex_usd", "tokens_per_s", ("min", "min"))["grid_mw"].tolist() == [50]
    with pytest.raises(TwinError, match="did you mean 'capex_usd'"):
        front(ds, "capex", "tokens_per_s")
    path = plot(ds, tmp_path / "fronts.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_grid_and_table_expansion():
    rows, axes = expand({"grid_mw": [50, 100], "climate": "lulea", "system": [["gb200_nvl72", "gb300_nvl72"], "b200_hgx8"]})
    assert len(rows) == 4 and axes["climate"] == ["lulea"]
    assert rows[0] == {"grid_mw": 50, "climate": "lulea", "system": ["gb200_nvl72", "gb300_nvl72"]}
    with pytest.raises(TwinError, match="distinct"):
        expand({"grid_mw": [50, 50]})
    with pytest.raises(TwinError, match="list of dicts"):
        expand([])
    assert parse_value("50") == 50 and parse_value("0.5") == 0.5 and parse_value("1e+5") == 1e5
    assert parse_value("false") is False and parse_value("gb200_nvl72+gb300_nvl72") == ["gb200_nvl72", "gb300_nvl72"]


def test_scenario_tables_from_csv_and_yaml(tmp_path):
    (tmp_path / "s.csv").write_text("grid_mw,system,verify\n50,gb200_nvl72+gb300_nvl72,false\n100,,true\n")
    assert read_table(tmp_path / "s.csv") == [{"grid_mw": 50, "system": ["gb200_nvl72", "gb300_nvl72"], "verify": False},
                                             {"grid_mw": 100, "verify": True}]
    (tmp_path / "s.yaml").write_text("- {grid_mw: 50, climate: lulea}\n- {grid_mw: 100}\n")
    assert read_table(tmp_path / "s.yaml") == [{"grid_mw": 50, "climate": "lulea"}, {"grid_mw": 100}]
    (tmp_path / "bad.yaml").write_text("grid_mw: 50\n")
    with pytest.raises(TwinError, match="list of mappings"):
        read_table(tmp_path / "bad.yaml")


def test_bad_parameters_fail_before_any_work(tmp_path):
    with pytest.raises(TwinError, match="did you mean 'grid_mw'"):
        solvers.sweep("ai-factory-hall", {"grid_mv": [1]}, client="serial", progress=False)
    with pytest.raises(TwinError, match="applies to run='simulate'"):
        solvers.sweep("ai-factory-hall", {"hours": [24]}, client="serial", progress=False)
    with pytest.raises(TwinError, match="builder base"):
        solvers.sweep("ai-factory-hall", {"system": ["gb200_nvl72"]}, "simulate", client="serial", progress=False)
    with pytest.raises(TwinError, match="with 'tiers'"):
        solvers.sweep("ai-factory-hall", {"tier": ["premium"]}, client="serial", progress=False)
    with pytest.raises(TwinError, match=r"\.nc"):
        solvers.sweep("ai-factory-hall", {"grid_mw": [6]}, client="serial", out=tmp_path / "x.json", progress=False)


def test_serial_sweep_edits_a_copy_never_the_base(tmp_path):
    site = blueprints.load("ai-factory-hall")
    before = json.dumps(to_node_link(site), sort_keys=True, default=str)
    ds = solvers.sweep(site, {"climate": ["lulea"], "electricity_usd_per_kwh": [0.2], "hours": [6]}, "simulate",
                       client="serial", progress=False)
    assert str(ds["status"].values.ravel()[0]) == "ok"
    assert json.dumps(to_node_link(site), sort_keys=True, default=str) == before
    direct = twin.simulate(site, weather="lulea", hours=6, per_rack=False, per_device=False).twin.summary()
    assert float(ds["energy_cost_usd"].values.ravel()[0]) == pytest.approx(direct["grid_energy_mwh"] * 1000 * 0.2)


def test_a_script_without_a_main_guard_is_told_what_to_do(tmp_path):
    """dask's workers import the calling script: without the guard it died with 'Nanny failed to start'."""
    script = tmp_path / "no_guard.py"
    script.write_text("import solvers\n"
                      "solvers.sweep('ai-factory-hall', {'grid_mw': [6]}, verify=False, progress=False, workers=1)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("twin.errors.TwinError:") and 'if __name__ == "__main__":' in last, done.stderr[-2000:]
