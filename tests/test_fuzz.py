"""Fuzzing blueprint files: whatever is wrong with a file, only our own exceptions come out."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import blueprints
from twin import TwinError, limits

BASE = yaml.safe_load(blueprints.path("ai-factory-hall").read_text())
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def paths(node, prefix=()):
    """Every path into a nested blueprint mapping."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


ALL_PATHS = [p for p in paths(BASE) if p]


def at(data, path):
    for part in path:
        data = data[part]
    return data


FUZZ_MAX_NODES = 20_000
"""The base hall is ~4,700 nodes: a fuzzed count may grow it a few times, never to gigabytes."""


def load_text(tmp_path, text: str | bytes) -> None:
    path = tmp_path / "fuzzed.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    try:
        with limits.bounded(max_nodes=FUZZ_MAX_NODES):
            blueprints.load(path)
    except TwinError:
        pass


settings.register_profile("fuzz", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(settings.get_profile("fuzz"))
@given(path=st.sampled_from(ALL_PATHS), value=JUNK)
def test_replacing_any_value_gives_only_our_errors(tmp_path, path, value):
    data = copy.deepcopy(BASE)
    at(data, path[:-1])[path[-1]] = value
    load_text(tmp_path, yaml.safe_dump(data))


@settings(settings.get_profile("fuzz"))
@given(path=st.sampled_from(ALL_PATHS))
def test_deleting_any_key_gives_only_our_errors(tmp_path, path):
    data = copy.deepcopy(BASE)
    del at(data, path[:-1])[path[-1]]
    load_text(tmp_path, yaml.safe_dump(data))


@settings(settings.get_profile("fuzz"))
@given(device=st.integers(0, len(BASE["equipment"]) - 1), rating=st.floats(-1e6, 0))
def test_negative_ratings_are_reported(tmp_path, device, rating):
    data = copy.deepcopy(BASE)
    data["equipment"][device]["rating_kw"] = rating
    path = tmp_path / "neg.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        blueprints.load(path)
    except TwinError as exc:
        assert "neg.yaml:" in str(exc) and f"equipment[{device}].rating_kw" in str(exc)
    else:
        raise AssertionError("a non-positive rating passed validation")


@settings(settings.get_profile("fuzz"))
@given(src=st.integers(0, len(BASE["equipment"]) - 1), dst=st.integers(0, len(BASE["equipment"]) - 1))
def test_added_links_and_cycles_give_only_our_errors(tmp_path, src, dst):
    data = copy.deepcopy(BASE)
    a, b = data["equipment"][src], data["equipment"][dst]
    a.setdefault("fed_by", []).append(b["id"])
    b.setdefault("rejects_to", []).append(a["id"])
    load_text(tmp_path, yaml.safe_dump(data))


@settings(settings.get_profile("fuzz"))
@given(cut=st.integers(0, 4000), junk=st.binary(min_size=1, max_size=64))
def test_garbage_bytes_give_only_our_errors(tmp_path, cut, junk):
    raw = blueprints.path("ai-factory-hall").read_bytes()
    cut = min(cut, len(raw))
    load_text(tmp_path, raw[:cut] + junk + raw[cut:])


def test_a_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nsite: {grid_limit_mw: 3\nhalls: []\n")
    try:
        blueprints.load(path)
    except TwinError as exc:
        assert "bad.yaml:" in str(exc) and "invalid YAML" in str(exc)
    else:
        raise AssertionError("broken YAML loaded")


def test_a_wrong_type_names_the_field_and_line(tmp_path):
    data = copy.deepcopy(BASE)
    data["halls"][0]["rows"]["count"] = "four"
    path = tmp_path / "typed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        blueprints.load(path)
    except TwinError as exc:
        line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "count:" in t)
        assert f"typed.yaml:{line}: halls[0].rows.count" in str(exc)
    else:
        raise AssertionError("a text row count loaded")
