"""Bounded, unambiguous input files: alias bombs refused, line lookup linear, a key or an id given twice is an
error naming both places."""

from __future__ import annotations

import copy
import json
import time
import tracemalloc

import pytest
import yaml

import blueprints
from twin import BlueprintError, Facility, GraphError
from twin.yamlsafe import Lines, YamlIssue, load

HALL = blueprints.path("ai-factory-hall").read_text()


def bomb(levels: int) -> str:
    """Anchors `l0` .. `l<levels>`, each a list of nine aliases to the one before: 9^(levels+1) leaves."""
    lines = ["bomb:", "  l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 8])
def test_an_alias_bomb_in_the_site_is_refused_quickly_in_bounded_memory(tmp_path, levels):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(levels).replace(f"&l{levels}", "&top").replace("bomb:", "x-bomb:") +
                    HALL.replace("site:\n", "site:\n  notes: *top\n", 1))
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(BlueprintError, match=r"bomb\.yaml:\d+: aliases make the document over 1,000,000 values"):
        blueprints.load(path)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 2.0 and peak < 50e6


def test_the_line_of_a_field_is_found_without_expanding_aliases():
    text = bomb(5) + "site:\n  grid_limit_mw: 3\n  notes: *l5\n"  # ~600k values expanded: allowed
    start = time.perf_counter()
    lines = Lines(text)
    assert lines.get(("site", "grid_limit_mw")) == 9 and lines.get(("bomb", "l3", 8, 8)) == 3  # the anchored l1
    assert ("site", "missing") not in lines
    assert time.perf_counter() - start < 0.5


def test_a_wrong_field_beside_a_large_alias_is_reported_quickly(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(bomb(5).replace("bomb:", "x-bomb:") + HALL)  # ~600k values with aliases expanded: allowed
    start = time.perf_counter()
    with pytest.raises(BlueprintError, match=r"wide\.yaml:2: x-bomb: unknown field 'x-bomb'"):
        blueprints.load(path)
    assert time.perf_counter() - start < 0.5  # measured: 0.03 s; walking every expanded path took 2.4 s


def test_a_recursive_alias_is_refused():
    with pytest.raises(YamlIssue, match="recursive"):
        load("a: &a [1, *a]\n")


@pytest.mark.parametrize("text, lines", [
    ("site:\n  grid_limit_mw: 12\n  climate: phoenix\n  grid_limit_mw: 120\n", "lines 2 and 4"),
    ("equipment:\n  - {id: grid, kind: grid, rating_kw: 100, rating_kw: 80000}\n", "both on line 2"),
])
def test_a_duplicate_mapping_key_names_both_lines(tmp_path, text, lines):
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(BlueprintError, match=rf"dup\.yaml:\d: key '\w+' is given twice \({lines}\)"):
        blueprints.load(path)


def test_a_merge_key_may_override_what_it_merges():
    assert load("base: &b {rating_kw: 1}\nups: {<<: *b, rating_kw: 2}\n")["ups"] == {"rating_kw": 2}


def test_a_device_id_used_twice_names_both_entries(tmp_path):
    data = yaml.safe_load(HALL)
    data["equipment"].append({**data["equipment"][4], "rating_kw": 80000})
    path = tmp_path / "twice.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(BlueprintError, match=r"equipment\[28\] \(ups-a\)\.id: id 'ups-a' is already used by equipment\[4\] \(line \d+\)"):
        blueprints.load(path)


def test_a_rack_listed_twice_names_both_entries(tmp_path):
    site = blueprints.load("ai-factory-hall")
    site.save(tmp_path / "explicit.yaml")
    data = yaml.safe_load((tmp_path / "explicit.yaml").read_text())
    racks = data["halls"][0]["rows"][0]["racks"]
    racks[3] = {**copy.deepcopy(racks[3]), "id": racks[1]["id"]}
    path = tmp_path / "racks.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(BlueprintError, match=r"racks\[3\] \(hall-a/row-01/rack-02\)\.id: id 'hall-a/row-01/rack-02' is already used by "
                                             r"halls\[0\]\.rows\[0\]\.racks\[1\]"):
        blueprints.load(path)


def test_two_busways_of_a_row_template_with_one_name_are_refused(tmp_path):
    data = yaml.safe_load(HALL)
    data["halls"][0]["rows"]["busways"][1]["name"] = "busway-a"
    path = tmp_path / "busways.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(BlueprintError, match=r"busways\[1\]\.name: id 'busway-a' is already used by .*busways\[0\]"):
        blueprints.load(path)


def test_python_builders_refuse_a_rack_name_twice():
    f = Facility("x")
    f.add_hall("h", width_m=10, depth_m=10, cooling="dlc")
    row = f.add_row("h", "r")
    with pytest.raises(GraphError, match="rack 'h/r/a' is listed twice"):
        f.add_racks(row, names=["a", "b", "a"])


def test_node_link_json_refuses_duplicate_keys_nodes_and_edges(tmp_path):
    site = blueprints.load("ai-factory-hall")
    site.save(tmp_path / "site.json")
    data = json.loads((tmp_path / "site.json").read_text())
    text = (tmp_path / "site.json").read_text().replace('"rating_kw":14000', '"rating_kw":14000,"rating_kw":140', 1)
    (tmp_path / "keys.json").write_text(text)
    with pytest.raises(BlueprintError, match="key 'rating_kw' is given twice"):
        Facility.load(tmp_path / "keys.json")
    for part, entry in (("nodes", data["nodes"][2]), ("edges", data["edges"][5])):
        broken = copy.deepcopy(data)
        broken[part].append(entry)
        (tmp_path / f"{part}.json").write_text(json.dumps(broken))
        with pytest.raises(BlueprintError, match=f"{part}\\[\\d+\\].* listed twice"):
            Facility.load(tmp_path / f"{part}.json")
