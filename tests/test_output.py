"""Tables for people: fit a terminal in parts of whole columns, never cut a word; machine formats carry raw values."""

from __future__ import annotations

import io
import json
from collections import Counter

import pandas as pd
import pytest
from rich.console import Console

from twin.commands import output

LONG_IDS = [f"hall-{h}/row-{r:02d}/rack-{k:02d}" for h in "ab" for r in (1, 2) for k in (1, 17)]


def wide_frame() -> pd.DataFrame:
    """Eleven numeric columns with headers of several words and one prose column: far wider than 80."""
    data = {f"{name}_kw": [1234567.3 * (i + 1) / (j + 1) for i in range(len(LONG_IDS))]
            for j, name in enumerate(("nameplate", "stranded_power", "it_power_lost", "cooling_lost", "grid_draw",
                                      "ups_load", "pdu_load", "cdu_load", "chiller_load", "tower_load"))}
    data["note"] = ["a rack of a row of a hall with a longer note that wraps at spaces"] * len(LONG_IDS)
    return pd.DataFrame(data, index=pd.Index(LONG_IDS, name="rack"))


def printed(out: output.Output, width: int, terminal: bool, short: bool = False) -> str:
    buffer = io.StringIO()
    output.print_table(out, Console(file=buffer, width=width, force_terminal=terminal, color_system=None), short)
    return buffer.getvalue()


def words(text: str) -> Counter:
    return Counter(w for w in text.replace("│", " ").replace("┃", " ").split() if not set(w) <= set("━─┏┓┗┛┡┩┳┻╇┌┐└┘┬┴"))


def test_a_wide_table_in_a_terminal_comes_in_parts_that_fit_each_led_by_the_ids():
    out = output.Output("racks", wide_frame(), "racks")
    text = printed(out, 80, terminal=True)
    assert max(len(line) for line in text.splitlines()) <= 80
    parts = text.count("┃ rack ")
    assert parts >= 3                                                   # split, each part with its id column
    unconstrained = printed(out, 10_000, terminal=False)
    assert len(unconstrained.splitlines()[1]) > 80
    ids_per_part = sum(text.count(i) for i in LONG_IDS)
    assert ids_per_part == parts * len(LONG_IDS)
    expected = words(unconstrained)
    for word in expected:      # every word of the cells is there whole (ids once per part)
        assert text.count(word) >= 1, word


def test_piped_a_wide_table_is_printed_as_wide_as_it_needs_one_line_a_row():
    out = output.Output("racks", wide_frame().drop(columns="note"))
    text = printed(out, 80, terminal=False)
    lines = [line for line in text.splitlines() if "hall-" in line]
    assert len(lines) == len(LONG_IDS)
    assert all(i in line for i, line in zip(LONG_IDS, lines))
    assert "2,469,135" in lines[1]                                      # 1234567.3 * 2, whole, on its row


def test_prose_wraps_at_spaces_to_fit_while_ids_and_numbers_stay_on_one_line():
    frame = pd.DataFrame({"racks": [64, 1200], "description": ["a hall of liquid-cooled racks on dry coolers"] * 2},
                         index=pd.Index(["hall-a/row-01/rack-01", "hall-b/row-12/rack-40"], name="id"))
    text = printed(output.Output("t", frame), 50, terminal=False)
    assert max(len(line) for line in text.splitlines()) <= 50
    assert "hall-b/row-12/rack-40" in text and "1,200" in text
    assert words(text) == words(printed(output.Output("t", frame), 1000, terminal=False))


def test_short_drops_only_the_path_the_ids_share():
    assert output.shorten(["hall-a/row-01/rack-01", "hall-a/row-02/rack-01"]) == ["row-01/rack-01", "row-02/rack-01"]
    assert output.shorten(["hall-a/row-01/rack-01", "hall-b/row-01/rack-01"]) == ["hall-a/row-01/rack-01",
                                                                                    "hall-b/row-01/rack-01"]
    assert output.shorten(["ups-a", "ups-b"]) == ["ups-a", "ups-b"]
    assert output.shorten(["hall-a/x", "hall-a/x"]) == ["x", "x"]
    frame = pd.DataFrame({"kw": [1.0, 2.0]}, index=pd.Index(["hall-a/row-01/rack-01", "hall-a/row-02/rack-01"], name="rack"))
    plain, short = printed(output.Output("t", frame), 80, False), printed(output.Output("t", frame), 80, False, short=True)
    assert "hall-a/row-01/rack-01" in plain
    assert "hall-a" not in short and "row-02/rack-01" in short


def test_machine_formats_hold_raw_values_and_read_back():
    frame = pd.DataFrame({"power_kw": [131.994, float("nan")], "demand": [float("inf"), 2.0e6], "ok": [True, False]},
                         index=pd.Index(["hall-a/row-01/rack-01", "r2"], name="rack"))
    out = output.Output("racks", frame)
    back = pd.read_csv(io.StringIO(output.render(out, "csv")))
    assert back["rack"].tolist() == ["hall-a/row-01/rack-01", "r2"] and back["power_kw"][0] == 131.994
    doc = json.loads(output.render(out, "json"))
    assert doc[0] == {"rack": "hall-a/row-01/rack-01", "power_kw": 131.994, "demand": float("inf"), "ok": True}
    assert doc[1]["power_kw"] is None
    both = json.loads(output.render([out, output.record("summary", {"racks": 2, "mw": 0.26})], "json"))
    assert both["summary"] == [{"racks": 2, "mw": 0.26}] and len(both["racks"]) == 2
    md = output.render(out, "md")
    assert "| rack | power kW | demand | ok |" in md and "| hall-a/row-01/rack-01 | 132 | inf | True |" in md


def test_a_record_is_shown_one_value_a_line():
    out = output.record("s", {"gpus": 4608, "nameplate_it_mw": 8.447616, "climate": "phoenix"}, "facility")
    text = printed(out, 80, terminal=False)
    assert [line.split("│")[1:3] for line in text.splitlines() if "gpus" in line][0][1].strip() == "4,608"
    assert "nameplate it MW" in text and "8.448" in text


@pytest.mark.parametrize("value, shown", [(4608, "4,608"), (8.447616, "8.448"), (40.8, "40.8"), (131.994, "132"),
                                          (0.0012345, "0.00123"), (0.0, "0"), (-2.5, "-2.5"), (3.2e16, "3.2e+16"),
                                          (float("nan"), "-"), (True, "True"), ("ups-a", "ups-a")])
def test_numbers_for_people(value, shown):
    assert output.number(value) == shown


def test_headers_keep_units():
    assert output.header("nameplate_kw") == "nameplate kW"
    assert output.header("supply_temp_c") == "supply temp °C"
    assert output.header("racks") == "racks"
