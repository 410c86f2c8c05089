"""Fuzz harness: blueprint text, values, keys, structure and command-line arguments. The only allowed outcomes are
one of our exceptions whose message names the field or node, or a valid facility that simulates without NaN/inf.
Non-finite numbers and duplicated keys or ids must never be accepted. Each generated case must finish within
`HANG_S` (a hypothesis deadline), and the tests together generate `sum(EXAMPLES.values())` >= 500 cases."""

from __future__ import annotations

import copy
import math
import re
import warnings

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blueprints
from twin import TwinError, limits
from twin.errors import PlausibilityWarning

HALL = yaml.safe_load(blueprints.path("ai-factory-hall").read_text())
BASE = copy.deepcopy(HALL)
BASE["halls"][0]["rows"].update(count=1, racks=2)
"""The packaged hall cut to one row of two NVL72 racks (~170 nodes): fast enough to load hundreds of times."""
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
NON_FINITE = st.sampled_from([math.inf, -math.inf, math.nan, 10**400, -(10**400)])
HANG_S = 30
FUZZ_MAX_NODES = 20_000
"""A fuzzed count may grow the hall a few times, never to gigabytes (`twin.limits`)."""
EXAMPLES = {"value": 90, "delete": 50, "negative": 20, "links": 40, "garbage": 70, "key": 60, "non_finite": 60,
            "duplicate": 50, "scaled": 20, "optimized": 12, "cli": 150}


def fuzz(name: str):
    return settings(max_examples=EXAMPLES[name], deadline=HANG_S * 1000, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def paths(node, prefix=()):
    """Every path into a nested blueprint mapping."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


def at(data, path):
    for part in path:
        data = data[part]
    return data


ALL_PATHS = [p for p in paths(BASE) if p]
NUMBER_PATHS = [p for p in ALL_PATHS if isinstance(at(BASE, p), (int, float)) and not isinstance(at(BASE, p), bool)]
MAPPING_PATHS = [p for p in [()] + ALL_PATHS if isinstance(at(BASE, p), dict) and at(BASE, p)]


def load_text(tmp_path, text: str | bytes):
    """Load fuzzed text: return the facility, or None after one of our errors (checked to say where)."""
    path = tmp_path / "fuzzed.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    try:
        with limits.bounded(max_nodes=FUZZ_MAX_NODES), warnings.catch_warnings():
            warnings.simplefilter("ignore", PlausibilityWarning)
            return blueprints.load(path)
    except TwinError as exc:
        message = str(exc)
        assert message.strip() and ("fuzzed.yaml" in message or "problem" in message), message
        return None


def load(tmp_path, data):
    return load_text(tmp_path, yaml.safe_dump(data, sort_keys=False))


def simulates_finite(facility) -> None:
    """A facility that loaded must simulate (two hours) without NaN or infinity in any variable."""
    from twin.simulation import simulate

    ds = simulate(facility, hours=2)
    for name, var in ds.data_vars.items():
        if np.issubdtype(var.dtype, np.number):
            assert np.isfinite(var.values).all(), f"{name} is not finite"


@fuzz("value")
@given(path=st.sampled_from(ALL_PATHS), value=JUNK)
def test_replacing_any_value_gives_only_our_errors(tmp_path, path, value):
    data = copy.deepcopy(BASE)
    at(data, path[:-1])[path[-1]] = value
    load(tmp_path, data)


@fuzz("delete")
@given(path=st.sampled_from(ALL_PATHS))
def test_deleting_any_key_gives_only_our_errors(tmp_path, path):
    data = copy.deepcopy(BASE)
    del at(data, path[:-1])[path[-1]]
    load(tmp_path, data)


@fuzz("negative")
@given(device=st.integers(0, len(BASE["equipment"]) - 1), rating=st.floats(-1e6, 0))
def test_negative_ratings_are_reported(tmp_path, device, rating):
    data = copy.deepcopy(BASE)
    data["equipment"][device]["rating_kw"] = rating
    path = tmp_path / "neg.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(TwinError) as err:
        blueprints.load(path)
    assert "neg.yaml:" in str(err.value) and f"equipment[{device}] ({data['equipment'][device]['id']}).rating_kw" in str(err.value)


@fuzz("links")
@given(src=st.integers(0, len(BASE["equipment"]) - 1), dst=st.integers(0, len(BASE["equipment"]) - 1))
def test_added_links_and_cycles_give_only_our_errors(tmp_path, src, dst):
    data = copy.deepcopy(BASE)
    a, b = data["equipment"][src], data["equipment"][dst]
    a.setdefault("fed_by", []).append(b["id"])
    b.setdefault("rejects_to", []).append(a["id"])
    load(tmp_path, data)


@fuzz("garbage")
@given(cut=st.integers(0, 4000), junk=st.binary(min_size=1, max_size=64))
def test_garbage_bytes_give_only_our_errors(tmp_path, cut, junk):
    raw = yaml.safe_dump(BASE, sort_keys=False).encode()
    cut = min(cut, len(raw))
    load_text(tmp_path, raw[:cut] + junk + raw[cut:])


@fuzz("key")
@given(path=st.sampled_from(MAPPING_PATHS), pick=st.integers(0, 50), new=st.text(min_size=1, max_size=10))
def test_renaming_any_key_gives_only_our_errors(tmp_path, path, pick, new):
    """A renamed key is an unknown field (with a suggestion), a missing required one, or a free attribute."""
    data = copy.deepcopy(BASE)
    mapping = at(data, path)
    old = list(mapping)[pick % len(mapping)]
    if new in mapping:
        return
    mapping[new] = mapping.pop(old)
    facility = load(tmp_path, data)
    if facility is not None:
        assert path in ((), ("site",)) or old not in ("id", "kind", "rating_kw", "width_m", "depth_m", "cooling"), \
            f"renaming {path}.{old} to {new!r} was accepted"


@fuzz("non_finite")
@given(path=st.sampled_from(NUMBER_PATHS), value=NON_FINITE)
def test_non_finite_numbers_are_never_accepted(tmp_path, path, value):
    """inf, nan and integers beyond float range anywhere a number goes are errors naming the field."""
    data = copy.deepcopy(BASE)
    at(data, path[:-1])[path[-1]] = value
    assert load(tmp_path, data) is None, f"{'.'.join(map(str, path))} = {value!r} was accepted"


KEY_LINE = re.compile(r"^(\s*)([A-Za-z_]\w*): \S.*$")


@fuzz("duplicate")
@given(pick=st.integers(0, 10**6), what=st.sampled_from(["key", "device", "site"]))
def test_duplicates_are_never_accepted(tmp_path, pick, what):
    """A mapping key written twice, a device id declared twice: errors naming both places, never last-one-wins."""
    data = copy.deepcopy(BASE)
    if what == "device":
        twin = copy.deepcopy(data["equipment"][pick % len(data["equipment"])])
        twin["rating_kw"] = twin["rating_kw"] * 2
        data["equipment"].insert(pick % (len(data["equipment"]) + 1), twin)
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    else:
        lines = yaml.safe_dump(data, sort_keys=False, default_flow_style=False).splitlines()
        keyed = [i for i, line in enumerate(lines) if KEY_LINE.match(line)]
        if what == "site":
            keyed = [i for i in keyed if lines[i].startswith("  grid_limit_mw") or lines[i].startswith("  climate")]
        i = keyed[pick % len(keyed)]
        lines.insert(i + 1, lines[i])
        text = "\n".join(lines) + "\n"
    path = tmp_path / "fuzzed.yaml"
    path.write_text(text)
    with pytest.raises(TwinError) as err:
        blueprints.load(path)
    message = str(err.value)
    assert re.search(r"twice|duplicate|both|already", message), message


@fuzz("scaled")
@given(path=st.sampled_from([p for p in NUMBER_PATHS if p[-1] in ("rating_kw", "grid_limit_mw", "width_m", "depth_m")]),
       factor=st.floats(0.5, 3.0))
def test_facilities_that_load_simulate_without_nan_or_inf(tmp_path, path, factor):
    facility = load_scaled(tmp_path, path, factor)
    if facility is not None:
        simulates_finite(facility)


def load_scaled(tmp_path, path, factor):
    """The base hall with the number at `path` multiplied by `factor`, loaded (None after our error)."""
    data = copy.deepcopy(BASE)
    at(data, path[:-1])[path[-1]] = at(data, path) * factor
    return load(tmp_path, data)


def optimizes_finite(facility) -> None:
    """A facility that loaded must optimize (verified on its design year) to a plan with finite KPIs, or refuse
    with one of our errors that says why (an infeasible MW limit, say), never a foreign exception."""
    import solvers

    try:
        plan = solvers.optimize(facility, time_limit=10)
    except TwinError as exc:
        assert str(exc).strip(), type(exc).__name__
        return
    k = plan.kpis
    for name in ("it_mw", "facility_mw", "pue", "tokens_per_s", "revenue_usd_per_year", "profit_usd_per_year"):
        assert math.isfinite(k[name]), f"{name} = {k[name]}"
    assert not [n for n, v in k.items() if isinstance(v, float) and math.isnan(v)], "NaN KPIs"
    assert k["grid_hours_over_limit"] <= k["design_exceedance_hours"], (k["grid_hours_over_limit"], k["design_exceedance_hours"])


@fuzz("optimized")
@given(path=st.sampled_from([p for p in NUMBER_PATHS if p[-1] in ("rating_kw", "grid_limit_mw")]),
       factor=st.floats(0.3, 3.0))
def test_facilities_that_load_optimize_within_their_limit_or_say_why(tmp_path, path, factor):
    facility = load_scaled(tmp_path, path, factor)
    if facility is not None:
        optimizes_finite(facility)


# ---------------------------------------------------------------------------------------------- command line
NUMERIC_OPTIONS = {
    ("optimize", "--mw"): 0.0, ("optimize", "--time-limit"): 0.0, ("render", "--fps"): 0.0,
    ("contingency", "--top"): 0.5, ("simulate", "--hours"): 0.5, ("sweep", "--workers"): 0.5,
    ("compare", "--hours"): 0.5, ("compare", "--time-limit"): 0.0,
}
"""Options whose value must be a finite number above the given floor for the command to go on."""
TEXT_OPTIONS = [("simulate", "--plot"), ("simulate", "--out"), ("optimize", "--out"), ("contingency", "--out"),
                ("render", "--out"), ("render", "--state"), ("render", "--size"), ("sweep", "--scenarios"),
                ("sweep", "--param"), ("sweep", "--set"), ("compare", "--workload-mix"), ("simulate", "--freq")]
NUMBER_TEXT = st.one_of(st.sampled_from(["inf", "-inf", "nan", "0", "-1", "1e400", "1e9", "", "x", "1,5", "0x10"]),
                        st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**12, 10**12).map(str))
TEXT = st.one_of(st.text(max_size=20), st.sampled_from(["plot.nc", "a/b/c.png", "/proc/x.json", "x.gif", "grid_mw=a,b",
                                                        "verify=maybe", "inference=0.8", "0x0", "1e9x1", "=", "a=",
                                                        "grid_mw=inf", "missing.csv"]))


class Reached(TwinError):
    """The command got past its input checks to loading the blueprint."""


@pytest.fixture
def cli(monkeypatch):
    from typer.testing import CliRunner

    from twin.cli import app

    def reached(*args, **kwargs):
        raise Reached("inputs accepted")

    monkeypatch.setattr(blueprints, "load", reached)
    monkeypatch.setattr(blueprints, "path", reached)
    import importlib

    monkeypatch.setattr(importlib.import_module("solvers.sweep"), "sweep", reached)
    monkeypatch.setattr(importlib.import_module("solvers.compare"), "compare", reached)
    runner = CliRunner()
    return lambda args: runner.invoke(app, args)


def _base_args(command: str) -> list[str]:
    return {"compare": ["compare", "a", "b"], "sweep": ["sweep", "a", "--param", "grid_mw=6"]}.get(command, [command, "a"])


@fuzz("cli")
@given(numeric=st.sampled_from(sorted(NUMERIC_OPTIONS)), number=NUMBER_TEXT,
       text=st.one_of(st.none(), st.tuples(st.sampled_from(TEXT_OPTIONS), TEXT)))
def test_command_line_arguments_give_only_our_errors_and_never_pass_non_finite_numbers(cli, numeric, number, text):
    command, option = numeric
    args = _base_args(command) + [option, number]
    if text is not None and text[0][0] == command:
        args += [text[0][1], text[1]]
    result = cli(args)
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), f"{args}: {type(exc).__name__}: {exc}"
    assert result.exit_code in (0, 1, 2), (args, result.exit_code)
    if result.exit_code == 2:  # the option parser refused the value (not a number, an int given a float, ...)
        return
    output = result.output + result.stderr
    assert "Traceback" not in output
    accepted = result.exit_code == 0 or "inputs accepted" in output
    if accepted:
        value = float(number)
        assert math.isfinite(value) and value > NUMERIC_OPTIONS[numeric], f"{args} accepted {number!r}"
    else:
        assert "error" in output and output.strip(), args


def test_the_harness_generates_at_least_500_cases():
    assert sum(EXAMPLES.values()) >= 500


def test_a_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nsite: {grid_limit_mw: 3\nhalls: []\n")
    with pytest.raises(TwinError, match=r"bad\.yaml:\d+.*invalid YAML"):
        blueprints.load(path)


def test_a_wrong_type_names_the_field_and_line(tmp_path):
    data = copy.deepcopy(HALL)
    data["halls"][0]["rows"]["count"] = "four"
    path = tmp_path / "typed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "count:" in t)
    with pytest.raises(TwinError, match=re.escape(f"typed.yaml:{line}: halls[0] (hall-a).rows.count")):
        blueprints.load(path)
