"""Every command's tables piped at COLUMNS=80 keep every id and number whole; CSV and JSON read back into pandas.

All commands run in one Python process (imports are the slow part), each with stdout redirected to a real file,
as `twin ... > out.txt` would: not a terminal, 80 columns.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blueprints

DRIVER = """
import contextlib, json, sys
from rich.console import Console
from twin.cli import app
from twin.commands import output

printed = output.print_table
def print_table(out, console, short=False):  # each table also rendered with no width limit, to compare words
    printed(out, console, short)
    printed(out, Console(file=wide, width=100_000, color_system=None), short)
output.print_table = print_table
for args, out, err in json.loads(sys.argv[1]):
    with open(out, "w") as o, open(err, "w") as e, open(out + ".wide", "w") as wide, \\
            contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            code = app(args=args, prog_name="twin", standalone_mode=False) or 0
        except SystemExit as exc:
            code = exc.code
    print(json.dumps(code))
"""

FORMATS = ("table", "csv", "json")


def commands(folder: Path) -> dict[str, list[str]]:
    """Each command with arguments that make it print its tables (files it reads are in `folder`)."""
    bad, work = folder / "bad.yaml", folder / "w.yaml"
    runs = {f"catalog-{s}": ["catalog", s] for s in ("systems", "cooling", "equipment", "heat_rejection", "tiers",
                                                      "power_caps", "throughput")}
    runs.update({
        "validate": ["validate", str(bad)],
        "show": ["show", "ai-factory-hall"],
        "check": ["check", "ai-factory-hall"],
        "blueprints": ["blueprints"],
        "simulate": ["simulate", "ai-factory-hall", "--hours", "24"],
        "contingency": ["contingency", "ai-datacenter-hall", "--top", "60"],
        "optimize": ["optimize", "ai-factory-hall", "--compare-caps"],
        "place": ["place", "ai-factory-hall", "--workloads", str(work)],
        "sweep": ["sweep", "parametric", "-p", "grid_mw=5,10", "--set", "verify=false", "--scheduler", "serial"],
        "compare": ["compare", "ai-datacenter-hall", "ai-factory-hall", "--hours", "24", "--no-render", "--out",
                    str(folder / "cmp")],
        "export": ["export", "ai-factory-hall", "--usd", str(folder / "hall.usdc"), "--check"],
        "dispatch": ["dispatch", "ai-factory-hall", "--hours", "24", "--training", "0.4"],
        "swings": ["swings", "ai-factory-hall", "--seconds", "600"],
        "flex": ["flex", "ai-factory-hall", "--hours", "24", "--notices", "0", "--durations", "1,3", "--depths", "10"],
        "telemetry-import": ["telemetry", "import", str(folder / "bms.csv"), "--mapping", str(folder / "map.yaml"),
                             "--blueprint", str(folder / "small.yaml"), "--out", str(folder / "measured.nc")],
        "telemetry-trace": ["telemetry", "trace", str(folder / "chat.csv"), "--out", str(folder / "demand.nc"),
                            "--blueprint", str(folder / "small.yaml"), "--peak-utilization", "0.8"],
        "replay": ["replay", str(folder / "small.yaml"), str(folder / "measured.nc")],
        "calibrate": ["calibrate", str(folder / "small.yaml"), str(folder / "measured.nc"), "--params", "gpu.idle_w",
                      "--out", str(folder / "fitted.yaml")],
        "uncertainty": ["uncertainty", "ai-factory-hall", "--samples", "4", "--hours", "24", "--scheduler", "serial"],
    })
    return runs


def telemetry_files(folder: Path) -> None:
    """What the telemetry commands read: a small facility, a BMS export of its simulated racks, a request trace."""
    import twin
    from tests.conftest import small_facility

    site = small_facility()
    site.save(folder / "small.yaml")
    u = np.random.default_rng(4).uniform(0.1, 1.0, (24, 4))
    sim = twin.simulate(site, weather="lulea", hours=24, utilization=u, per_rack=True, start="2025-03-01")
    rows = ["Point,Units,Timestamp,Value"]
    for i, t in enumerate(pd.DatetimeIndex(sim.time.values)):
        for j, rack in enumerate(sim.rack.values):
            rows += [f"{rack}.KW,kW,{t:%Y-%m-%d %H:%M},{sim.rack_power_kw.values[i, j]:.3f}",
                     f"{rack}.UTIL,%,{t:%Y-%m-%d %H:%M},{100 * u[i, j]:.4f}"]
    (folder / "bms.csv").write_text("\n".join(rows) + "\n")
    (folder / "map.yaml").write_text(
        "patterns:\n  - {match: '^(?P<r>.+)\\.KW$', variable: rack_power_kw, node: '{r}'}\n"
        "  - {match: '^(?P<r>.+)\\.UTIL$', variable: rack_utilization, node: '{r}'}\n")
    (folder / "chat.csv").write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n" + "".join(
        f"2025-03-01 10:{m:02d}:{s:02d}.000,1000,500\n" for m in range(5) for s in range(0, 60, 7)))


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """{(command, format): (exit code, stdout, stderr, the tables unconstrained)} for every command in every format."""
    folder = tmp_path_factory.mktemp("cli")
    text = blueprints.path("ai-factory-hall").read_text()
    (folder / "bad.yaml").write_text(text.replace("rating_kw: 9000", "rating_kw: 10").replace("rating_kw: 1600", "rating_kw: 1"))
    (folder / "w.yaml").write_text("workloads:\n  - {id: chat, tier: standard}\n"
                                   "  - {id: api, tier: premium, demand_tokens_per_s: 1.0e6}\n")
    telemetry_files(folder)
    spec, keys = [], []
    for name, args in commands(folder).items():
        for fmt in FORMATS:
            keys.append((name, fmt))
            spec.append([args + ([] if fmt == "table" else ["--format", fmt]), str(folder / f"{name}.{fmt}.out"),
                         str(folder / f"{name}.{fmt}.err")])
    for name in HELP:
        keys.append((name, "help"))
        spec.append([name.split() + ["--help"], str(folder / f"{name}.help"), str(folder / f"{name}.help.err")])
    run = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(spec)], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "80"}, timeout=900)
    assert run.returncode == 0, run.stderr
    codes = [json.loads(line) for line in run.stdout.splitlines()]
    return {k: (c, Path(o).read_text(), Path(e).read_text(), Path(o + ".wide").read_text())
            for k, c, (_, o, e) in zip(keys, codes, spec)}


def machine(printed, name: str, fmt: str) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """The command's CSV/JSON output read back with pandas (several tables: a dict of them)."""
    code, text, err, _ = printed[(name, fmt)]
    assert code == (1 if name == "validate" else 0), err
    if fmt == "json":
        doc = json.loads(text)
        return pd.DataFrame(doc) if isinstance(doc, list) else {k: pd.DataFrame(v) for k, v in doc.items()}
    if not text.startswith("# "):
        return pd.read_csv(io.StringIO(text))
    sections = [s for s in text.split("\n\n") if s.strip()]
    return {s.split("\n", 1)[0][2:]: pd.read_csv(io.StringIO(s.split("\n", 1)[1])) for s in sections}


def tables(doc) -> dict[str, pd.DataFrame]:
    return doc if isinstance(doc, dict) else {"": doc}


HELP = ("", "validate", "show", "catalog", "blueprints", "optimize", "simulate", "render", "sweep", "place",
        "contingency", "compare", "export", "check", "dispatch", "replay", "calibrate", "telemetry", "telemetry import",
        "telemetry trace", "swings", "flex", "uncertainty")


def command_names() -> list[str]:
    return list(commands(Path(".")))


def same(x: pd.Series, y: pd.Series) -> bool:
    """Equal columns, numbers to 1e-12 relative (CSV and JSON print floats their own way), missing = missing
    (CSV cannot tell an empty text from a missing one)."""
    if pd.api.types.is_bool_dtype(x) or pd.api.types.is_bool_dtype(y):
        return x.astype(str).str.lower().tolist() == y.astype(str).str.lower().tolist()
    if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
        a, b = x.to_numpy(float), y.to_numpy(float)
        with np.errstate(invalid="ignore"):
            return bool(((a == b) | (abs(a - b) <= 1e-12 * abs(b)) | (pd.isna(a) & pd.isna(b))).all())
    text = lambda s: s.where(s.notna() & (s != ""), None).astype(str).tolist()  # noqa: E731
    return text(x) == text(y)


@pytest.mark.slow
@pytest.mark.solver
@pytest.mark.parametrize("name", command_names())
def test_csv_and_json_read_back_into_the_same_frames(printed, name):
    csv, js = tables(machine(printed, name, "csv")), tables(machine(printed, name, "json"))
    assert csv.keys() == js.keys() and all(len(t) for t in csv.values())
    for key in csv:
        assert list(csv[key].columns) == list(js[key].columns)
        timings = [c for c in csv[key].columns if "time_" in c or "seconds" in c]   # two runs, two timings
        bad = [c for c in csv[key].columns if c not in timings and not same(csv[key][c], js[key][c])]
        assert not bad, (key, bad)


@pytest.mark.slow
@pytest.mark.solver
def test_machine_formats_carry_the_raw_values(printed):
    from twin.catalog import default_catalog
    from twin.contingency import scan

    systems = machine(printed, "catalog-systems", "csv").set_index("id")
    direct = default_catalog().table("systems").set_index("id")
    assert list(systems.index) == list(direct.index)
    assert all(same(systems[c], direct[c]) for c in direct.columns)
    halls = machine(printed, "show", "json")["halls"]
    assert halls["gpus"].tolist() == [4608] and halls["nameplate_kw"].iloc[0] == pytest.approx(64 * 131.994, rel=1e-6)
    failures = machine(printed, "contingency", "csv").set_index("device")
    expected = scan(blueprints.load("ai-datacenter-hall")).table
    assert set(failures.index) == set(expected.index)                  # every device, not just the --top printed
    assert same(failures.loc[expected.index, "racks_unpowered"], expected["racks_unpowered"])


WORD = re.compile(r"[^\s│┃┏┓┗┛┡┩┣┫┳┻╇╋━─┼┌┐└┘├┤┬┴]+")


def words(text: str) -> list[str]:
    return WORD.findall(text)


@pytest.mark.slow
@pytest.mark.solver
@pytest.mark.parametrize("name", command_names())
def test_piped_tables_keep_every_id_and_number_whole(printed, name):
    code, text, err, wide = printed[(name, "table")]
    shown = text if name != "validate" else err
    assert wide.strip(), "the command printed no table"
    # word for word what the same tables hold with no width limit: nothing cut, nothing split mid-word
    assert Counter(words(wide)) - Counter(words(shown)) == Counter()
    found = set(words(shown))
    for key, frame in tables(machine(printed, name, "csv")).items():
        ids = frame.columns[0]
        if frame[ids].dtype == object:      # the first column names the row: every id appears whole
            missing = [i for i in frame[ids].astype(str) if not set(words(i)) <= found]
            assert not missing, (name, key, missing[:3])
    assert "…" not in shown, "a cell was cut"


@pytest.mark.slow
def test_help_at_80_columns_cuts_nothing(printed):
    from twin.cli import app

    registered = {c.name or c.callback.__name__ for c in app.registered_commands}
    for group in app.registered_groups:
        registered |= {group.name} | {f"{group.name} {c.name or c.callback.__name__}"
                                      for c in group.typer_instance.registered_commands}
    assert registered <= set(HELP), f"add {registered - set(HELP)} to HELP (and to commands() if it prints tables)"
    for name in HELP:
        code, text, err, _ = printed[(name, "help")]
        assert code == 0 and "Usage" in text, (name, err)
        assert "…" not in text, (name, [line for line in text.splitlines() if "…" in line])


def test_place_help_lists_every_field_of_the_workloads_format():
    from models.placement_data import INFERENCE_FIELDS, TRAINING_FIELDS
    from twin.commands.place import WORKLOADS_HELP

    assert all(f in WORKLOADS_HELP for f in INFERENCE_FIELDS | TRAINING_FIELDS)
