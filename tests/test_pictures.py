"""Pictures that inform: stated colour ranges, outlines for empty positions, blast radius with the failed device and
every outcome in its own colour, a scale bar on plans, labels that never cover each other; charts with units,
month names, linear money axes and legends off the data. Checked in the pixels and in the figure objects."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

import twin
import twin.state  # noqa: F401  (the ds.twin accessor)
from conftest import matches_reference, small_facility
from twin.views import scene
from twin.views.colors import OUTCOMES
from twin.views.drawing import EMPTY_COLOR, HIGHLIGHT_COLOR
from twin.views.meshes import KIND_COLORS

SIZE = (640, 400)


def rgb(color: str) -> np.ndarray:
    return np.round(np.array(matplotlib.colors.to_rgb(color)) * 255)


def tops(s, table: pd.DataFrame, lift: float = 0.0) -> np.ndarray:
    """Pixel positions of the centres of the top faces of the boxes in `table` (racks or devices)."""
    return s.project(np.c_[table.x_m, table.y_m, table.z_m + table.height_m + lift])


def pixels(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.array([image[int(round(r)), int(round(c))] for c, r in points], dtype=float)


def test_a_uniform_facility_says_its_one_value_instead_of_drawing_a_scale():
    f = small_facility()                                   # four GB200 NVL72 racks, each 132 kW nameplate
    with scene(f, "rack_power_kw", window_size=SIZE, camera="plan") as s:
        seen = pixels(s.screenshot(), tops(s, s.layout.racks))
        assert "all racks at 132 kW" in s.scale_texts
        assert not s.plotter.scalar_bars                    # no 2 kW-wide colour bar
        assert ("all racks at 132 kW", "#f0f921") in s.legend
    assert np.abs(seen - rgb("#f0f921")).max() <= 6        # the top of the 0-132 kW scale: plasma's yellow
    f.populate(list(f.table("rack").index)[:2], "h200_hgx8", nodes=4)
    with scene(f, "rack_power_kw", window_size=SIZE) as s:
        s.screenshot()
        assert s.scale_texts == ["rack nameplate power (kW)", "0 to 132 kW (largest nameplate)"]
        assert len(s.plotter.scalar_bars) == 1


def outcome_state(facility, outcomes) -> xr.Dataset:
    return xr.Dataset({"outage": ("rack", np.array(outcomes, dtype=str))}, coords={"rack": list(facility.table("rack").index)})


def test_blast_radius_shows_the_failed_device_and_each_outcome_in_its_own_colour(tmp_path):
    f = small_facility()
    outcomes = ["ok", "unpowered", "uncooled", "shed"]
    out = twin.render(f, tmp_path / "blast.png", color_by="outage", state=outcome_state(f, outcomes), highlight=["ups-a"],
                      camera="plan", window_size=SIZE, title="ups-a fails")
    image = np.asarray(Image.open(out).convert("RGB"))
    with scene(f, "outage", state=outcome_state(f, outcomes), highlight=["ups-a"], camera="plan", window_size=SIZE) as s:
        s.screenshot()
        racks, device = tops(s, s.layout.racks), tops(s, s.layout.devices.loc[["ups-a"]], lift=0.25)
        legend = dict(s.legend)
    seen = pixels(image, racks)
    assert np.abs(seen - np.array([rgb(OUTCOMES[o]) for o in outcomes])).max() <= 6
    assert np.abs(pixels(image, device)[0] - rgb(HIGHLIGHT_COLOR)).max() <= 6
    assert legend["failed: ups-a"] == HIGHLIGHT_COLOR
    assert legend["unpowered: 1 rack"] == OUTCOMES["unpowered"] and legend["capped: 0 racks"] == OUTCOMES["capped"]
    palette = [rgb(c) for c in [*OUTCOMES.values(), HIGHLIGHT_COLOR, EMPTY_COLOR, *KIND_COLORS.values()]]
    distinct = [np.abs(a - b).sum() for a, b in itertools.combinations(palette[: len(OUTCOMES) + 1], 2)]
    assert min(distinct) > 80                              # outcomes and the failed device: far apart
    assert min(np.abs(rgb(c) - k).sum() for c in OUTCOMES.values() for k in palette[len(OUTCOMES) + 2:]) > 40
    matches_reference(image, "blast.png")


def test_blast_radius_of_a_real_failure():
    from twin.contingency import scan

    f = small_facility()
    state = scan(f).rack_state("busway-1")                 # the one busway feeds every rack
    with scene(f, "outage", state=state, highlight="busway-1", camera="plan", window_size=SIZE) as s:
        seen = pixels(s.screenshot(), tops(s, s.layout.racks))
    assert np.abs(seen - rgb(OUTCOMES["unpowered"])).max() <= 6


def test_empty_positions_are_outlines_and_take_no_colour():
    f = small_facility()
    f.populate(list(f.table("rack").index)[2:], None)
    with scene(f, "rack_power_kw", camera="plan", window_size=SIZE) as s:
        image = s.screenshot()
        racks = s.layout.racks
        centres = pixels(image, tops(s, racks))
        legend = dict(s.legend)
        edge = s.project(np.c_[racks.x_m - racks.width_m / 2, racks.y_m, racks.z_m + racks.height_m][2:])
    assert np.abs(centres[:2] - rgb("#f0f921")).max() <= 6  # the two racks: 132 kW, top of the scale
    assert (np.abs(centres[2:] - rgb("#dcdcdc")).max(axis=1) <= 12).all()   # empty: the floor shows through
    near = [image[int(round(r)), int(round(c)) - 1: int(round(c)) + 2] for c, r in edge]
    assert all((np.abs(n.astype(float) - rgb(EMPTY_COLOR)).max(axis=1) <= 40).any() for n in near)
    assert legend["empty position: 2"] == EMPTY_COLOR
    assert "all racks at 132 kW" in s.scale_texts           # empty positions do not make a scale


def test_plan_views_carry_a_scale_bar_of_a_round_length():
    import blueprints

    f = blueprints.load("ai-factory-hall")
    with scene(f, camera="plan", window_size=SIZE) as s:
        image = s.screenshot()
        bar = s.scale_bar
        length, (x0, x1), y = bar["length_m"], bar["x_m"], bar["y_m"]
        ends = s.project(np.array([[x0, y, 0.0], [x1, y, 0.0]]))
        per_m = np.abs(np.diff(s.project(np.array([[0.0, 0, 0], [1.0, 0, 0]]))[:, 0]))[0]
        quarters = s.project(np.array([[x0 + length * q, y, 0.05] for q in (0.125, 0.375)]))
        south = s.layout.bounds()[2]
    mantissa = length / 10 ** np.floor(np.log10(length))
    assert mantissa in (1, 2, 5)
    assert abs(abs(ends[1, 0] - ends[0, 0]) - length * per_m) < 1.5        # drawn to the plan's own scale
    black, white = pixels(image, quarters)
    assert black.max() < 60 and white.min() > 200
    assert f"{length:g} m" in s.labels_shown and y < south                  # below the site, not on it


@pytest.mark.parametrize("camera", ["plan", "isometric"])
def test_labels_never_cover_each_other(camera):
    import blueprints

    f = blueprints.load("ai-datacenter-hall")
    with scene(f, camera=camera, window_size=SIZE) as s:
        boxes = s._label_boxes
        shown = s.labels_shown
    assert len(shown) >= 3 and any("hall" in t for t in shown)
    for a, b in itertools.combinations(boxes, 2):
        assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1], (a, b)


def test_plan_of_a_partly_built_hall_matches_the_reference():
    f = small_facility()
    f.populate(list(f.table("rack").index)[1:3], "h200_hgx8", nodes=4)
    f.populate(list(f.table("rack").index)[3:], None)
    with scene(f, "rack_power_kw", camera="plan", window_size=SIZE) as s:
        matches_reference(s.screenshot(), "plan.png")


# ---------------------------------------------------------------------------------------------- charts
def sweep_result() -> xr.Dataset:
    """A hand-made sweep of three grid sizes in two climates (optimize KPIs), the shape `solvers.sweep` returns."""
    grid, climate = [50, 100, 200], ["phoenix", "lulea"]
    capex = np.array([[2.1e9, 2.0e9], [4.2e9, 3.9e9], [8.4e9, 8.5e9]])
    tokens = np.array([[3.0e8, 3.2e8], [6.1e8, 6.3e8], [12.0e8, 12.9e8]])
    revenue = tokens * 100.0
    coords = {"grid_mw": grid, "climate": climate}
    dims = ("grid_mw", "climate")
    return xr.Dataset({
        "capex_usd": (dims, capex, {"units": "USD"}), "tokens_per_s": (dims, tokens, {"units": "s-1"}),
        "revenue_usd_per_year": (dims, revenue, {"units": "USD year-1"}),
        "grid_limit_mw": (dims, np.array([[50.0, 50], [100, 100], [200, 200]]), {"units": "MW"}),
        "interactivity_tok_s_user": (dims, np.array([[35.0, 36], [35, 40], [38, 35]])),
        "usd_per_mtok": (dims, np.array([[0.061, 0.058], [0.060, 0.055], [0.059, 0.057]])),
        "status": (dims, np.full((3, 2), "ok")), "message": (dims, np.full((3, 2), "")),
    }, coords=coords, attrs={"run": "optimize", "base": "hand-made"})


def outside(legend, ax) -> bool:
    fig = ax.figure
    fig.canvas.draw()
    a, b = legend.get_window_extent(), ax.get_window_extent()
    return a.x0 >= b.x1 - 1 or a.x1 <= b.x0 + 1 or a.y0 >= b.y1 - 1 or a.y1 <= b.y0 + 1


def test_pareto_plots_name_axes_with_units_label_scenarios_and_keep_money_linear(tmp_path):
    from solvers.fronts import figure, front, plot

    ds = sweep_result()
    fig = figure(ds)
    axes = fig.axes
    assert [a.get_xlabel() for a in axes] == ["capex, billion USD", "grid limit, MW", "interactivity, tokens/s per user"]
    assert [a.get_ylabel() for a in axes] == ["tokens per second, billion tokens/s", "revenue, billion USD/year",
                                              "cost per million tokens, USD/Mtok"]
    fig.canvas.draw()
    for a in axes:
        assert a.get_xscale() == "linear" and a.get_yscale() == "linear"
        assert a.xaxis.get_offset_text().get_text() == "" and a.yaxis.get_offset_text().get_text() == ""
    best = front(ds, "capex_usd", "tokens_per_s")
    names = {t.get_text() for t in axes[0].texts}
    expected = {f"grid_mw={g}, climate={c}" for g, c in zip(best["grid_mw"], best["climate"])}
    assert names == expected and "grid_mw=100, climate=lulea" in names
    assert outside(axes[-1].get_legend(), axes[-1])
    matches_reference(np.asarray(Image.open(plot(ds, tmp_path / "pareto.png")).convert("RGB")), "pareto.png")


def year_state() -> xr.Dataset:
    """A year of hourly totals by hand: IT 100 kW, losses 5, cooling 10 + 5 sin(season), aux 1, two tiers."""
    t = pd.date_range("2025-01-01", periods=8760, freq="h")
    season = np.sin(2 * np.pi * np.arange(8760) / 8760)
    it, loss, cool, aux = np.full(8760, 100.0), np.full(8760, 5.0), 10 + 5 * season, np.full(8760, 1.0)
    grid = it + loss + cool + aux
    return xr.Dataset({
        "grid_power_kw": ("time", grid), "it_power_kw": ("time", it), "losses_kw": ("time", loss),
        "cooling_power_kw": ("time", cool), "aux_power_kw": ("time", aux), "pue": ("time", grid / it),
        "tokens_per_s": (("time", "tier"), np.c_[np.full(8760, 2e6), np.full(8760, 5e5)]),
    }, coords={"time": t, "tier": ["standard", "premium"]}, attrs={"title": "a year by hand"})


def test_a_year_plot_has_month_names_and_legends_beside_the_data(tmp_path):
    fig = year_state().twin.plot(tmp_path / "year.png")
    fig.canvas.draw()
    months = [t.get_text() for t in fig.axes[2].get_xticklabels()]
    assert {"Mar", "May", "Jul", "Sep", "Nov"} <= set(months)
    for ax in fig.axes:
        if ax.get_legend() is not None:
            assert outside(ax.get_legend(), ax)
        assert ax.get_yscale() == "linear" and ax.yaxis.get_offset_text().get_text() == ""
    matches_reference(np.asarray(Image.open(tmp_path / "year.png").convert("RGB")), "year.png")


def test_month_names_of_a_narrow_panel_do_not_overlap():
    """Twelve month names under each of two panels of a 9-inch figure (the compare report's monthly PUE/WUE) stand
    apart (at full size they touched: 1.4 px between Jan and Feb)."""
    from matplotlib.figure import Figure

    from twin.views import charts

    fig = Figure(figsize=(9, 3.2), dpi=110, layout="constrained")
    for ax in fig.subplots(1, 2):
        ax.plot(range(1, 13), np.linspace(1.1, 1.3, 12), marker="o", label="site")
        charts.month_axis(ax, range(1, 13))
    charts.legend_beside(fig.axes[1], fontsize=8)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    for ax in fig.axes:
        boxes = [t.get_window_extent(canvas.get_renderer()) for t in ax.get_xticklabels()]
        assert [t.get_text() for t in ax.get_xticklabels()][::11] == ["Jan", "Dec"]
        assert min(b.x0 - a.x1 for a, b in zip(boxes, boxes[1:])) >= 4          # pixels of space between names
