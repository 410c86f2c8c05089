"""Blueprint files a hostile or careless user might write: each is one of our errors naming the file, line and
field (or the node) with a fix, never a raw traceback, a silent default or a file read from outside the folder."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

import blueprints
from twin import BlueprintError, TwinError, ValidationError

HALL = yaml.safe_load(blueprints.path("ai-factory-hall").read_text())
BUILT = yaml.safe_load(blueprints.path("ai-factory-20mw").read_text())


def write(tmp_path, data, name="site.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def error(tmp_path, data, kind=TwinError) -> str:
    with pytest.raises(kind) as err:
        blueprints.load(write(tmp_path, data))
    return " ".join(str(err.value).split())


def hall(**equipment_edits):
    data = copy.deepcopy(HALL)
    for i, device in enumerate(data["equipment"]):
        if device["id"] in equipment_edits:
            data["equipment"][i] = {**device, **equipment_edits[device["id"]]}
    return data


def test_a_ups_written_with_an_empty_feed_list_is_not_a_grid_source(tmp_path):
    """`fed_by: []` made ups-a a source: the grid's loss cost 0 racks (64 as built)."""
    with pytest.raises(ValidationError) as err:
        blueprints.load(write(tmp_path, hall(**{"ups-a": {"fed_by": []}})))
    (p,) = [p for p in err.value.problems if p.rule == "power-source"]
    assert p.where == "ups-a" and "fed_by" in p.fix


def test_a_rating_of_ten_to_the_400_names_the_line(tmp_path):
    text = yaml.safe_dump(hall(), sort_keys=False).replace("rating_kw: 9000", "rating_kw: " + "1" + "0" * 400, 1)
    path = tmp_path / "site.yaml"
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "0" * 400 in t)
    with pytest.raises(BlueprintError, match=rf"site\.yaml:{line}: equipment\[4\] \(ups-a\)\.rating_kw: expected a finite number, got a 401-digit number"):
        blueprints.load(path)


def test_a_missing_rating_names_the_line_not_nan(tmp_path):
    data = hall()
    del data["equipment"][6]["rating_kw"]
    message = error(tmp_path, data, BlueprintError)
    assert "site.yaml:" in message and "equipment[6]" in message and "rating_kw" in message and "nan" not in message


def _line_of(path: str, needle: str, after: str = "") -> int:
    """The 1-based line of the first `needle` at or after the first line holding `after` (independent of the loader)."""
    lines = Path(path).read_text().splitlines()
    start = next(i for i, t in enumerate(lines) if after in t)
    return next(i for i, t in enumerate(lines[start:], start + 1) if needle in t)


def _says(tmp_path, data, where: str, field: str, line_of: tuple[str, str]) -> None:
    """Loading the mutated blueprint fails naming the file and line, the entry's node id and the field."""
    path = write(tmp_path, data)
    with pytest.raises(BlueprintError) as err:
        blueprints.load(path)
    line = _line_of(path, *line_of)
    assert str(err.value).startswith(f"{path}:{line}: {where}.{field}"), str(err.value)


@pytest.mark.parametrize("index, field, value, written", [
    (4, "rating_kw", "lots", "rating_kw: lots"), (6, "fed_by", ["ups-c"], "- ups-c"), (9, "kind", "flux", "kind: flux"),
])
def test_an_error_in_a_device_names_its_id_field_and_line(tmp_path, index, field, value, written):
    data = hall()
    data["equipment"][index][field] = value
    device = data["equipment"][index]["id"]
    _says(tmp_path, data, f"equipment[{index}] ({device})", field, (written, f"id: {device}"))


def test_an_error_in_a_listed_rack_names_the_rack_by_its_graph_id(tmp_path):
    data = copy.deepcopy(HALL)
    data["halls"][0]["rows"].update(count=1, racks=2)
    with pytest.warns(Warning):
        explicit = blueprints.load(write(tmp_path, data, "small.yaml"))
    data = yaml.safe_load(Path(explicit.save(tmp_path / "explicit.yaml")).read_text())
    data["halls"][0]["rows"][0]["racks"][1]["x_m"] = "left"
    _says(tmp_path, data, "halls[0].rows[0].racks[1] (hall-a/row-01/rack-02)", "x_m", ("x_m:", "id: rack-02"))


def test_an_error_in_a_hall_names_the_hall(tmp_path):
    data = hall()
    data["halls"][0]["rows"]["count"] = -1
    _says(tmp_path, data, "halls[0] (hall-a)", "rows.count", ("count:", "id: hall-a"))


def test_a_mistyped_field_says_unknown_field_and_suggests_the_right_one(tmp_path):
    data = hall()
    data["halls"][0]["widht_m"] = data["halls"][0].pop("width_m")
    message = error(tmp_path, data, BlueprintError)
    assert "unknown field 'widht_m'" in message and "did you mean 'width_m'" in message
    assert "missing required field" not in message


def test_a_hall_1e308_m_wide_is_an_error(tmp_path):
    data = hall()
    data["halls"][0]["width_m"] = 1e308
    with pytest.raises(ValidationError) as err:
        blueprints.load(write(tmp_path, data))
    assert any(p.where == "hall-a" and p.rule == "plausible" and "width_m" in p.message for p in err.value.problems)


def test_nodes_of_ten_to_the_30_are_refused_before_building(tmp_path):
    data = hall()
    data["halls"][0]["rows"]["rack"]["nodes"] = 10**30
    message = error(tmp_path, data, BlueprintError)
    assert "site.yaml:" in message and "halls[0] (hall-a).rows" in message and "TWIN_MAX_NODES" in message


@pytest.mark.parametrize("sizing, said", [
    (1, "builder.sizing: expected a mapping"),
    ({"margin": "lots"}, "builder.sizing.margin: expected a number"),
    ({"margni": 1.2}, "unknown field 'margni'"),
    ({"racks_per_row": 2.5}, "expected a whole number"),
])
def test_builder_sizing_is_checked(tmp_path, sizing, said):
    """`sizing: 1` ended in a raw AttributeError traceback."""
    data = copy.deepcopy(BUILT)
    data["builder"]["sizing"] = sizing
    assert said in error(tmp_path, data, BlueprintError)


def test_builder_sizing_as_a_mapping_is_used(tmp_path):
    data = copy.deepcopy(BUILT)
    data["builder"].update(grid_mw=2, sizing={"racks_per_row": 4, "rows_per_hall": 2})
    site = blueprints.load(write(tmp_path, data))
    assert site.table("rack").groupby("row").size().max() <= 4


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 10**400])
def test_builder_numbers_must_be_finite(tmp_path, value):
    data = copy.deepcopy(BUILT)
    data["builder"]["grid_mw"] = value
    assert "builder.grid_mw: expected a finite number" in error(tmp_path, data, BlueprintError)


def test_a_catalog_outside_the_blueprint_folder_is_refused(tmp_path):
    """`catalog: /etc/passwd` (or ../../x) opened any file on the machine."""
    for target in ("/etc/passwd", "../outside.yaml"):
        data = hall()
        data["catalog"] = [target]
        message = error(tmp_path, data, BlueprintError)
        assert "lies outside the blueprint's folder" in message and "catalog[0]" in message


def test_a_climate_file_is_found_beside_the_blueprint_not_in_the_current_folder(tmp_path, monkeypatch):
    from twin import weather

    folder = tmp_path / "project"
    folder.mkdir()
    weather.synthesize("phoenix", hours=48).to_dataframe().to_csv(folder / "site-weather.csv")
    data = hall()
    data["site"]["climate"] = "site-weather.csv"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    site = blueprints.load(write(folder, data))
    assert site.climate == str((folder / "site-weather.csv").resolve())


def test_an_epw_dry_bulb_of_150_c_is_out_of_range_not_a_missing_value_code(tmp_path):
    from twin import weather

    source = Path(__file__).parent / "data" / "weather" / "one_day.epw"
    lines = source.read_text().splitlines()
    fields = lines[8].split(",")
    fields[6] = "150"
    lines[8] = ",".join(fields)
    bad = tmp_path / "hot.epw"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(TwinError) as err:
        weather.load(bad, hours=24)
    message = str(err.value)
    assert "line 9, field 7 (dry bulb temperature): 150 is outside [-70, 70]" in message and "missing-value" not in message
