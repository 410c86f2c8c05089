"""3D views: the picture itself is checked (pixel colours at known racks, a stored reference image), not only the file."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

import twin
from conftest import matches_reference, small_facility
from twin.views import ViewError, scene
from twin.views.layout import layout

SIZE = (640, 400)


def state_for(facility, values, start="2025-07-01") -> xr.Dataset:
    """A (time x rack) Dataset like the simulation's, built by hand."""
    ids = list(facility.table("rack").index)
    values = np.asarray(values, dtype=float)
    return xr.Dataset(
        {"rack_power_kw": (("time", "rack"), values, {"units": "kW"}),
         "it_power_kw": (("time",), values.sum(axis=1), {"units": "kW"})},
        coords={"time": pd.date_range(start, periods=len(values), freq="h"), "rack": ids},
    )


def expected_rgb(value, lo, hi, cmap="plasma"):
    return np.round(np.array(matplotlib.colormaps[cmap]((value - lo) / (hi - lo))[:3]) * 255)


def nameplate(facility) -> float:
    """The largest rack nameplate, where a rack-power colour scale ends (GB200 NVL72: 132 kW)."""
    return float(facility.table("rack")["nameplate_kw"].max())


def rack_tops(s) -> np.ndarray:
    r = s.layout.racks
    return s.project(np.c_[r.x_m, r.y_m, r.z_m + r.height_m])


def pixels_at(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.array([image[int(round(row)), int(round(col))] for col, row in points], dtype=float)


@pytest.mark.parametrize("camera", ["isometric", "plan"])
def test_each_rack_shows_the_colour_map_colour_of_its_value(camera):
    f = small_facility()
    values = [[10.0, 80.0, 40.0, 120.0], [120.0, 10.0, 80.0, 40.0]]
    with scene(f, state=state_for(f, values), time="2025-07-01 01:10", camera=camera, window_size=SIZE) as s:
        image = s.screenshot()
        seen = pixels_at(image, rack_tops(s))
    top = nameplate(f)                                                   # rack power: 0 (off) to the nameplate
    want = np.array([expected_rgb(v, 0.0, top) for v in values[1]])  # nearest step: 01:00
    assert np.abs(seen - want).max() <= 6, (seen, want)
    wrong_step = np.array([expected_rgb(v, 0.0, top) for v in values[0]])
    assert np.abs(seen - wrong_step).max() > 60


def test_written_png_has_the_same_colours_at_the_racks(tmp_path):
    f = small_facility()
    values = [[30.0, 60.0, 90.0, 120.0]]
    ds = state_for(f, values)
    out = twin.render(f, tmp_path / "v.png", state=ds, window_size=SIZE)
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (SIZE[1], SIZE[0], 3)
    with scene(f, state=ds, window_size=SIZE) as s:  # same camera: project the rack tops
        s.screenshot()
        points = rack_tops(s)
    want = np.array([expected_rgb(v, 0.0, nameplate(f)) for v in values[0]])
    assert np.abs(pixels_at(image, points) - want).max() <= 6


def test_categorical_colours_follow_the_racks_system():
    f = small_facility()
    racks = list(f.table("rack").index)
    f.populate(racks[2:], "h200_hgx8", nodes=4)
    with scene(f, "system", camera="plan", window_size=SIZE) as s:
        seen = pixels_at(s.screenshot(), rack_tops(s))
        categories, palette = s.coloring.categories, s.coloring.cmap
        legend = dict(s.legend)
    assert categories == ["gb200_nvl72", "h200_hgx8"]
    want = [np.round(np.array(matplotlib.colors.to_rgb(palette[i])) * 255) for i in (0, 0, 1, 1)]
    assert np.abs(seen - np.array(want)).max() <= 3
    assert legend["gb200_nvl72"] == palette[0] and legend["h200_hgx8"] == palette[1]
    assert "ups" in legend and "dry cooler" in legend  # device kinds have their legend entries too


def test_small_facility_matches_the_reference_image(tmp_path):
    out = twin.render(small_facility(), tmp_path / "small.png", color_by="nameplate_kw", show_power=True,
                      show_coolant=True, window_size=SIZE)
    matches_reference(np.asarray(Image.open(out).convert("RGB")), "small.png")


def test_all_racks_are_one_actor_whatever_their_number():
    def actors(racks_per_row: int) -> int:
        f = small_facility()
        row = f.add_row("hall-a", "row-02", y_m=5)
        f.add_racks(row, racks_per_row, x_m=2, system="gb200_nvl72", fed_by=["busway-1"], cooled_by=["cdu-1"])
        with scene(f, window_size=(160, 100)) as s:
            return len(s.plotter.renderer.actors)

    assert actors(2) == actors(60)


def test_animation_has_one_frame_per_step_and_racks_change_colour(tmp_path):
    f = small_facility()
    values = [[10.0, 10.0, 10.0, 10.0], [10.0, 60.0, 60.0, 10.0], [120.0, 120.0, 120.0, 120.0]]
    out = twin.render(f, tmp_path / "day.gif", state=state_for(f, values), window_size=(320, 200), fps=2)
    gif = Image.open(out)
    assert gif.n_frames == 3
    with scene(f, state=state_for(f, values), window_size=(320, 200)) as s:
        s.screenshot()
        point = rack_tops(s)[:1]
    colours = []
    for i in range(3):
        gif.seek(i)
        colours.append(pixels_at(np.asarray(gif.convert("RGB")), point)[0])
    top = nameplate(f)
    assert np.abs(colours[0] - expected_rgb(10.0, 0.0, top)).max() <= 12  # GIF palette quantizes a little
    assert np.abs(colours[2] - expected_rgb(120.0, 0.0, top)).max() <= 12


def test_time_selection_nearest_label_and_position():
    f = small_facility()
    ds = state_for(f, [[1.0, 2, 3, 4], [5.0, 6, 7, 8], [9.0, 10, 11, 12]])
    from twin.views.colors import resolve

    racks = f.table("rack")
    assert resolve(racks, "rack_power_kw", ds, "2025-07-01 01:40").values[0].tolist() == [9, 10, 11, 12]
    assert resolve(racks, "rack_power_kw", ds, 1).values[0].tolist() == [5, 6, 7, 8]
    assert resolve(racks, "rack_power_kw", ds).frame_labels == ["2025-07-01 00:00"]
    frames = resolve(racks, "rack_power_kw", ds, slice("2025-07-01 01:00", None), animate=True)
    assert frames.values.shape == (2, 4) and frames.clim == (0.0, nameplate(f))       # 0 to the nameplate
    assert frames.scale == "0 to 132 kW (largest nameplate)"
    with pytest.raises(ViewError, match="outside the state's span 2025-07-01 00:00 .. 2025-07-01 02:00"):
        resolve(racks, "rack_power_kw", ds, "2025-07-02 12:00")


def test_racks_missing_from_the_state_are_drawn_grey():
    f = small_facility()
    ids = list(f.table("rack").index)
    ds = xr.Dataset({"rack_power_kw": (("rack",), [50.0, 100.0])}, coords={"rack": ids[:2]})
    with scene(f, state=ds, camera="plan", window_size=SIZE) as s:
        seen = pixels_at(s.screenshot(), rack_tops(s))
    assert np.abs(seen[2:] - np.array(matplotlib.colors.to_rgb("#c8c8c8")) * 255).max() <= 3
    assert np.abs(seen[1] - expected_rgb(100.0, 0.0, nameplate(f))).max() <= 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"color_by": "rack_pwr_kw"}, "did you mean 'rack_power_kw'"),
        ({"color_by": "it_power_kw"}, "not per rack"),
        ({"camera": "hall:hall-z"}, "no hall 'hall-z'"),
        ({"camera": "sideways"}, "isometric, plan, hall:<id>"),
    ],
)
def test_bad_options_say_what_is_accepted(kwargs, message, tmp_path):
    f = small_facility()
    with pytest.raises(ViewError, match=message):
        twin.render(f, tmp_path / "x.png", state=state_for(f, [[1.0, 2, 3, 4]]), **kwargs)


def test_bad_outputs_and_states_are_refused(tmp_path):
    f = small_facility()
    with pytest.raises(ViewError, match=r"\.png, \.jpg"):
        twin.render(f, tmp_path / "x.bmp")
    with pytest.raises(ViewError, match="needs a state"):
        twin.render(f, tmp_path / "x.gif")
    other = xr.Dataset({"rack_power_kw": (("rack",), [1.0])}, coords={"rack": ["elsewhere/rack-1"]})
    with pytest.raises(ViewError, match="another facility"):
        twin.render(f, tmp_path / "x.png", state=other)
    no_racks = xr.Dataset({"it_power_kw": (("time",), [1.0])}, coords={"time": [0]})
    with pytest.raises(ViewError, match="no per-rack 'rack_power_kw'"):
        twin.render(f, tmp_path / "x.png", state=no_racks)
    assert isinstance(ViewError("x"), twin.TwinError)


def test_mp4_is_written_or_refused_with_the_package_to_install(tmp_path):
    import importlib.util

    f = small_facility()
    ds = state_for(f, [[10.0, 20, 30, 40], [40.0, 30, 20, 10]])
    if importlib.util.find_spec("imageio_ffmpeg") is None:
        with pytest.raises(ViewError, match="pip install imageio-ffmpeg"):
            twin.render(f, tmp_path / "x.mp4", state=ds, window_size=(320, 200))
        assert not (tmp_path / "x.mp4").exists()
    else:
        out = twin.render(f, tmp_path / "x.mp4", state=ds, window_size=(320, 200))
        assert out.stat().st_size > 1000


def test_devices_are_placed_by_what_they_serve():
    import blueprints

    dc = layout(blueprints.load("ai-datacenter-hall"))
    racks, devices = dc.racks, dc.devices
    door = devices.loc["hall-b/row-02/rack-05/door"]
    rack = racks.loc["hall-b/row-02/rack-05"]
    assert door.placed == "rack" and door.x_m == rack.x_m and door.y_m > rack.y_m + rack.depth_m / 2
    pdu = devices.loc["hall-b/row-03/pdu-1"]
    row = racks[racks["row"] == "hall-b/row-03"]
    assert pdu.placed == "row" and pdu.x_m < (row.x_m - row.width_m / 2).min() and abs(pdu.y_m - row.y_m.mean()) < 1e-9
    hall = dc.halls.loc["hall-b"]
    yard = devices[devices["placed"] == "yard"]
    south = yard[yard["kind"].isin(["grid", "transformer", "ups", "switchboard"])]
    north = yard[yard["kind"].isin(["chiller", "cooling_tower"])]
    assert (south.y_m + south.depth_m / 2 < hall.y_m).all() and (north.y_m - north.depth_m / 2 > hall.y_m + hall.depth_m).all()

    fh = layout(blueprints.load("ai-factory-hall"))
    d, h = fh.devices, fh.halls.loc["hall-a"]
    cdus, crahs = d[d["kind"] == "cdu"], d[d["kind"] == "crah"]
    assert (cdus.x_m + cdus.width_m / 2 < h.x_m).all() and (crahs.x_m - crahs.width_m / 2 > h.x_m + h.width_m).all()
    busways = d[d["kind"] == "busway"]
    assert (busways.z_m >= fh.racks.height_m.max()).all() and (busways.placed == "row").all()
    assert not _overlapping(d[d["placed"] == "yard"])


def test_explicit_positions_win():
    f = small_facility()
    f.graph.nodes["ch-1"].update(x_m=40.0, y_m=-7.0)
    placed = layout(f).devices.loc["ch-1"]
    assert (placed.x_m, placed.y_m, placed.placed) == (40.0, -7.0, "given")


def _overlapping(d) -> bool:
    x0, x1 = (d.x_m - d.width_m / 2).to_numpy(), (d.x_m + d.width_m / 2).to_numpy()
    y0, y1 = (d.y_m - d.depth_m / 2).to_numpy(), (d.y_m + d.depth_m / 2).to_numpy()
    both = (x0[:, None] < x1[None]) & (x0[None] < x1[:, None]) & (y0[:, None] < y1[None]) & (y0[None] < y1[:, None])
    np.fill_diagonal(both, False)
    return bool(both.any())


def test_import_twin_and_the_cli_stay_free_of_pyvista():
    code = "import sys, twin, twin.cli; print('pyvista' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_renders_a_blueprint_and_a_saved_state(tmp_path):
    from typer.testing import CliRunner

    import blueprints
    from twin.cli import app

    out = tmp_path / "hall.png"
    result = CliRunner().invoke(app, ["render", "ai-factory-hall", "--out", str(out), "--color-by", "system",
                                      "--camera", "plan", "--size", "320x200", "--power"])
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (320, 200)
    f = blueprints.load("ai-factory-hall")
    nc = tmp_path / "state.nc"
    state_for(f, np.linspace(20, 140, 2 * 64).reshape(2, 64)).to_netcdf(nc)
    gif = tmp_path / "hall.gif"
    result = CliRunner().invoke(app, ["render", "ai-factory-hall", "--state", str(nc), "--out", str(gif), "--size", "200x120"])
    assert result.exit_code == 0, result.output
    assert Image.open(gif).n_frames == 2
    bad = CliRunner().invoke(app, ["render", "ai-factory-hall", "--color-by", "rack_pwr", "--out", str(tmp_path / "x.png")])
    assert bad.exit_code == 1 and "cannot colour racks by 'rack_pwr'" in bad.output


def test_colours_a_real_simulation_result():
    import blueprints

    f = blueprints.load("ai-factory-hall")
    ds = twin.simulate(f, weather="phoenix", hours=3, per_rack=True)
    with scene(f, "rack_power_kw", state=ds, time=ds["time"].values[1], camera="plan", window_size=SIZE,
               labels=False) as s:
        seen = pixels_at(s.screenshot(), rack_tops(s))
        lo, hi = s.coloring.clim
    values = ds["rack_power_kw"].isel(time=1).sel(rack=list(f.table("rack").index)).values
    want = np.array([expected_rgb(v, lo, hi) for v in values])
    assert np.abs(seen - want).max() <= 6


def test_layout_is_reused_until_the_facility_changes():
    f = small_facility()
    first = layout(f)
    assert layout(f) is first
    f.graph.nodes["ch-1"].update(x_m=40.0, y_m=-7.0)
    moved = layout(f)
    assert moved is not first and moved.devices.loc["ch-1", "x_m"] == 40.0


def test_a_facility_without_racks_still_draws_its_halls_and_devices(tmp_path):
    f = twin.Facility("empty")
    f.add_device("grid", "grid", rating_kw=10)
    f.add_hall("hall-a", width_m=10, depth_m=5, cooling="dlc")
    image = np.asarray(Image.open(twin.render(f, tmp_path / "e.png", window_size=(300, 200))).convert("RGB"))
    assert (image != 255).any(axis=2).mean() > 0.05


def _projected_corners(facility, camera, bounds_of):
    with scene(facility, "system", camera=camera, window_size=SIZE) as s:
        s.screenshot()
        x0, x1, y0, y1, z0, z1 = bounds_of(s.layout)
        return s.project(np.array([(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]))


@pytest.mark.parametrize("camera", ["isometric", "plan", "hall:hall-a"])
def test_camera_presets_frame_what_they_promise(camera):
    import blueprints

    f = blueprints.load("ai-factory-hall")
    framed = (lambda lay: lay.hall_bounds("hall-a")) if camera.startswith("hall:") else (lambda lay: lay.bounds())
    px = _projected_corners(f, camera, framed)
    inside = (px[:, 0] >= 0) & (px[:, 0] < SIZE[0]) & (px[:, 1] >= 0) & (px[:, 1] < SIZE[1])
    assert inside.all(), px
    span = np.ptp(px, axis=0)
    assert span[0] > 0.4 * SIZE[0] or span[1] > 0.4 * SIZE[1]  # and it fills a good part of the picture
    if camera.startswith("hall:"):  # a close-up: the hall is drawn larger than in the whole-site view
        site = _projected_corners(f, "isometric", lambda lay: lay.hall_bounds("hall-a"))
        assert np.ptp(px[:, 0]) > 1.2 * np.ptp(site[:, 0])
