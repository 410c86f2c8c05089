"""`Scene`: one offscreen pyvista plotter with the facility drawn in a handful of actors.

Halls are floor slabs, all racks are one mesh coloured per rack, each device kind is one mesh of its
own shape and colour, power and coolant connections are two line meshes. Lighting is set so a
rack's top face shows exactly its colour-map colour (one light straight down, one horizontal one
that only shades the sides), which is what tests read back from the picture.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    # no X server: go straight to EGL instead of VTK warning about a failed X connection first
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

import pyvista as pv  # noqa: E402

from twin.errors import did_you_mean  # noqa: E402
from twin.views import colors, links, meshes  # noqa: E402
from twin.views.errors import ViewError  # noqa: E402
from twin.views.layout import Layout, layout  # noqa: E402

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

CAMERAS = ("isometric", "plan", "hall:<id>")
ISO_DIRECTION = (-0.55, -1.0, 0.85)
AMBIENT, DIFFUSE = 0.55, 0.45
SLAB_COLOR, POWER_COLOR, COOLANT_COLOR = "#dcdcdc", "#e6550d", "#2171b5"
EMPTY_COLOR, HIGHLIGHT_COLOR = "#8c8c8c", "#e7298a"
"""Empty rack positions are grey outlines; a highlighted device (the one that fails) is magenta, a colour no
device kind, rack outcome or colour map uses."""
DEVICE_LABELS_UP_TO, HALL_LABELS_UP_TO = 40, 40
AA_UP_TO_RACKS, MSAA_SAMPLES = 2000, 4
"""Multisampling smooths edges but triples a software (llvmpipe) frame's time; above a few thousand racks,
each only a few pixels wide, it is off unless asked for (measured: 10,000 racks 0.7 s with, 0.2 s without)."""


class Scene:
    """A facility drawn offscreen; `frame(i)` recolours the racks for time step i of an animation.

    >>> import blueprints
    >>> with Scene(blueprints.load("ai-factory-hall"), "system", window_size=(320, 200)) as s:
    ...     s.screenshot().shape
    (200, 320, 3)
    """

    def __init__(
        self,
        facility: Facility,
        color_by: str = "rack_power_kw",
        *,
        state: xr.Dataset | None = None,
        time: Any = None,
        camera: str = "isometric",
        show_power: bool = False,
        show_coolant: bool = False,
        show_devices: bool = True,
        labels: bool = True,
        cmap: str | None = None,
        clim: tuple[float, float] | None = None,
        window_size: tuple[int, int] = (1600, 1000),
        title: str | None = None,
        animate: bool = False,
        max_frames: int = 96,
        web: bool = False,
        anti_aliasing: bool | None = None,
        highlight: Sequence[str] = (),
    ):
        self.facility = facility
        self.layout: Layout = layout(facility)
        racks = self.layout.racks
        self.coloring = colors.resolve(racks, color_by, state, time, animate=animate, max_frames=max_frames,
                                       cmap=cmap, clim=clim)
        self.rack_ids = racks.index
        self.web = web
        self._title = title
        self.window_size = tuple(int(v) for v in window_size)
        self.legend: list[tuple[str, str]] = []
        self._label_boxes: list[tuple[float, float, float, float]] = []
        self.labels_shown: list[str] = []
        self.highlight = self._check_highlight(highlight)
        self.camera = camera
        if anti_aliasing is None:
            anti_aliasing = len(racks) <= AA_UP_TO_RACKS
        pl = pv.Plotter(off_screen=True, window_size=list(self.window_size), lighting="none")
        pl.render_window.SetMultiSamples(MSAA_SAMPLES if anti_aliasing else 0)
        self.plotter = pl
        pl.set_background("white")
        pl.add_light(pv.Light(position=(0, 0, 1), focal_point=(0, 0, 0), intensity=1.0, light_type="scene light"))
        pl.add_light(pv.Light(position=(-1, -2, 0), focal_point=(0, 0, 0), intensity=0.6, light_type="scene light"))
        self._set_camera(camera)
        if camera == "plan":
            self._add_scale_bar()
        self._add_halls(labels)
        self.rack_mesh = self._add_racks()
        self._add_empty_positions()
        if show_devices or self.highlight:
            self._add_devices(labels, show_devices)
        if show_power:
            self._add_lines("power", POWER_COLOR)
        if show_coolant:
            self._add_lines("heat", COOLANT_COLOR)
        if not web:
            self._add_overlays()

    # ------------------------------------------------------------------ drawing
    def _surface(self, mesh: pv.PolyData, **kwargs: Any) -> pv.Actor:
        return self.plotter.add_mesh(mesh, ambient=AMBIENT, diffuse=DIFFUSE, specular=0.0, render=False,
                                     reset_camera=False, **kwargs)

    def _add_halls(self, labels: bool) -> None:
        halls = self.layout.halls
        if not len(halls):
            return
        centers = np.c_[halls.x_m + halls.width_m / 2, halls.y_m + halls.depth_m / 2, np.full(len(halls), -0.15)]
        sizes = np.c_[halls.width_m, halls.depth_m, np.full(len(halls), 0.15)]
        self._surface(meshes.boxes(centers, sizes), color=SLAB_COLOR)
        if labels and len(halls) <= HALL_LABELS_UP_TO:  # beyond that they only cover each other
            texts = [f"{h} ({c})" if c else str(h) for h, c in zip(halls.index, halls.get("cooling", [None] * len(halls)))]
            anchors = np.c_[halls.x_m + halls.width_m / 2, halls.y_m - 0.9, np.zeros(len(halls))]  # south of the slab
            self._labels(texts, anchors, size=max(0.8, float(np.median(halls.width_m)) / 18), font_size=self._font(14))

    def _add_racks(self) -> pv.PolyData | None:
        self._drawn = colors.occupied(self.layout.racks)
        racks = self.layout.racks[self._drawn]
        if not len(racks):
            return None
        centers, sizes = racks[["x_m", "y_m", "z_m"]].to_numpy(), racks[["width_m", "depth_m", "height_m"]].to_numpy()
        keep = ~meshes.faces_covered(centers, sizes)  # faces flush against a neighbour never show
        if not self.web:  # a still camera: build only the faces it can see (the HTML page can be rotated)
            cam = self.plotter.camera
            direction = np.subtract(cam.focal_point, cam.position)
            keep &= meshes.faces_seen(centers, sizes, np.array(cam.position), direction, bool(cam.parallel_projection))
        mesh = meshes.boxes(centers, sizes, bottom=False, keep=keep)
        self._rack_of_cell = meshes.box_of_cells(len(racks), meshes.FACES_PER_RACK, keep)
        mesh.cell_data["value"] = self.coloring.values[0][self._drawn].astype(np.float32)[self._rack_of_cell]
        c = self.coloring
        self.rack_actor = self._surface(mesh, scalars="value", cmap=c.cmap, clim=c.clim, nan_color=colors.NAN_COLOR,
                                        n_colors=len(c.categories) if c.categorical else 256, show_scalar_bar=False,
                                        culling="back")  # faces turned away are skipped: ~2x faster
        if c.categorical:
            self.legend += colors.legend_entries(c)
        elif c.uniform is not None:
            self.legend.append((f"{colors.scale_text(c)}", self._hex(c.rgb(c.uniform))))
        return mesh

    def _add_empty_positions(self) -> None:
        """Rack positions without a rack: grey outlines of the box a rack would fill."""
        empty = self.layout.racks[~self._drawn]
        if not len(empty):
            return
        centers, sizes = empty[["x_m", "y_m", "z_m"]].to_numpy(), empty[["width_m", "depth_m", "height_m"]].to_numpy()
        self.plotter.add_mesh(meshes.box_edges(centers, sizes), color=EMPTY_COLOR, line_width=1.5, lighting=False,
                              render=False, reset_camera=False)
        self.legend.append((f"empty position: {len(empty):,}", EMPTY_COLOR))

    def _check_highlight(self, highlight: Sequence[str]) -> list[str]:
        devices = self.layout.devices
        ids = [highlight] if isinstance(highlight, str) else list(highlight)
        unknown = [d for d in ids if d not in devices.index]
        if unknown:
            raise ViewError(f"cannot highlight {unknown[0]!r}: no such device is drawn; "
                            f"{did_you_mean(unknown[0], devices.index)}")
        return ids

    def _add_devices(self, labels: bool, show_devices: bool = True) -> None:
        devices = self.layout.devices
        marked = devices.index.isin(self.highlight)
        if show_devices:
            for kind, group in devices[~marked].groupby("kind", sort=False):
                shape = meshes.template(meshes.SHAPES[kind])
                mesh = meshes.instances(shape, group[["x_m", "y_m", "z_m"]].to_numpy(),
                                        group[["width_m", "depth_m", "height_m"]].to_numpy())
                self._surface(mesh, color=meshes.KIND_COLORS[kind])
                self.legend.append((kind.replace("_", " "), meshes.KIND_COLORS[kind]))
        if marked.any():  # drawn a little larger, in a colour of their own, always labelled
            picked = devices[marked]
            for kind, group in picked.groupby("kind", sort=False):
                mesh = meshes.instances(meshes.template(meshes.SHAPES[kind]), group[["x_m", "y_m", "z_m"]].to_numpy(),
                                        group[["width_m", "depth_m", "height_m"]].to_numpy() * 1.25)
                self._surface(mesh, color=HIGHLIGHT_COLOR)
            self.legend.insert(0, (f"failed: {', '.join(picked.index)}", HIGHLIGHT_COLOR))
            anchors = np.c_[picked.x_m, picked.y_m + 0.65 * picked.depth_m, picked.z_m + 1.25 * picked.height_m + 0.4]
            self._labels([f"{i} fails" for i in picked.index], anchors, size=0.6, font_size=self._font(12))
        yard = devices[devices["placed"].isin(["yard", "hall", "given"]) & ~marked]
        if show_devices and labels and 0 < len(yard) <= DEVICE_LABELS_UP_TO:
            anchors = np.c_[yard.x_m, yard.y_m, yard.z_m + yard.height_m + 0.3]
            self._labels([str(i) for i in yard.index], anchors, size=0.5, font_size=self._font(10), raster_only=True)

    def _add_scale_bar(self) -> None:
        """A metre ruler on the floor south-east of the site, in four black and white quarters, its length below."""
        x0, x1, y0, _, _, _ = self.layout.bounds()
        origin, east = self.project(np.array([[x0, y0, 0.0], [x0 + 1.0, y0, 0.0]]))
        per_m = max(1e-9, float(np.hypot(*(east - origin))))             # pixels per metre in this plan view
        length = _nice(max(0.2 * (x1 - x0), 0.1 * self.window_size[0] / per_m))
        quarter, depth = length / 4, max(4.0 / per_m, length / 30)
        y = y0 - self._bar_room / 3
        centers = np.c_[x1 - length + quarter * (np.arange(4) + 0.5), np.full(4, y - depth / 2), np.zeros(4)]
        sizes = np.c_[np.full(4, quarter), np.full(4, depth), np.full(4, 0.05)]
        for color, pick in (("#111111", [0, 2]), ("#ffffff", [1, 3])):
            self._surface(meshes.boxes(centers[pick], sizes[pick]), color=color)
        self.plotter.add_mesh(meshes.box_edges(np.array([[x1 - length / 2, y - depth / 2, 0.0]]),
                                               np.array([[length, depth, 0.06]])),
                              color="#111111", line_width=1.0, lighting=False, render=False, reset_camera=False)
        below = y - depth - (1.6 * self._font(12) + 4) / per_m           # the label's box ends at the bar
        self._labels([f"{length:g} m"], np.array([[x1 - length / 2, below, 0.1]]), size=max(0.5, length / 12),
                     font_size=self._font(12))
        self.scale_bar = {"length_m": length, "x_m": (x1 - length, x1), "y_m": y - depth / 2, "depth_m": depth}

    def _add_lines(self, kind: str, color: str) -> None:
        starts, ends = links.connections(self.facility, self.layout, kind)
        if len(starts):
            self.plotter.add_mesh(meshes.segments(starts, ends), color=color, line_width=2.5, lighting=False,
                                  render=False, reset_camera=False)
            self.legend.append(("power feed" if kind == "power" else "coolant", color))

    def _labels(self, texts: list[str], anchors: np.ndarray, *, size: float, font_size: int, raster_only: bool = False) -> None:
        """Text at world points; in a picture, a label that would overlap one already placed (or the legend,
        colour bar or title) is left out, so labels never cover each other."""
        if self.web:
            if not raster_only:
                self._surface(meshes.text_labels(texts, anchors, size), color="#333333")
            return
        keep = self._free_spots(texts, anchors, font_size)
        if not keep:
            return
        self.plotter.add_point_labels(anchors[keep], [texts[i] for i in keep], font_size=font_size, text_color="#222222",
                                      shape_color="white", shape_opacity=0.75, show_points=False, always_visible=True,
                                      render=False, reset_camera=False, bold=False, margin=2)
        self.labels_shown += [texts[i] for i in keep]

    def _free_spots(self, texts: list[str], anchors: np.ndarray, font_size: int) -> list[int]:
        """Indices of the labels whose boxes (estimated from the font size) stay clear of those kept so far."""
        width, height = self.window_size
        reserved = [(0, 0.72 * height, 0.2 * width, height), (0.86 * width, 0, width, height), (0, 0, width, 0.06 * height)]
        keep = []
        for i, (col, row) in enumerate(self.project(anchors)):
            w, h = 0.62 * font_size * len(texts[i]) + 6, 1.4 * font_size + 4
            box = (col - w / 2, row - h, col + w / 2, row)  # point labels sit centred above their anchor
            clear = all(box[2] < b[0] or b[2] < box[0] or box[3] < b[1] or b[3] < box[1]
                        for b in self._label_boxes + reserved)
            if clear and 0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height:
                keep.append(i)
                self._label_boxes.append(box)
        return keep

    def _add_overlays(self) -> None:
        c, pl = self.coloring, self.plotter
        size = self._font(13)
        self.title_actor = pl.add_text(self.title(0), position=(10, self.window_size[1] - 2 * size - 8), font_size=size,
                                       color="black")
        self.title_actor.GetTextProperty().SetBackgroundColor(1.0, 1.0, 1.0)  # legible over whatever it covers
        self.title_actor.GetTextProperty().SetBackgroundOpacity(0.8)
        self.scale_texts: list[str] = []
        if not c.categorical and self.rack_mesh is not None:
            width, height = self.window_size
            texts = [c.label, colors.scale_text(c)]
            if c.uniform is None:
                lo, hi = c.clim
                fmt = "%.0f" if hi - lo >= 20 else "%.1f" if hi - lo >= 2 else "%.2f"
                pl.add_scalar_bar(title="", mapper=self.rack_actor.mapper, vertical=True, position_x=0.9,
                                  position_y=0.25, width=0.035, height=0.55, color="black", fmt=fmt, n_labels=5,
                                  label_font_size=self._font(12))
            below = 0.82 * height - 2 * self._font(11) if c.uniform is not None else 0.25 * height - 2 * self._font(9) - 8
            for text, y, points in zip(texts, (0.82 * height, below), (11, 9)):
                if text:  # the variable above the bar; below it what its ends mean (or the one value all racks have)
                    shown = text if points == 11 else text.replace(" (", "\n(")
                    actor = pl.add_text(shown, position=(width - 10, int(y) - shown.count("\n") * self._font(points)),
                                        font_size=self._font(points), color="black")
                    actor.GetTextProperty().SetJustificationToRight()
                    self.scale_texts.append(text)
        if self.legend:
            rows = len(self.legend)
            legend = pl.add_legend([[label, color, "rectangle"] for label, color in self.legend], bcolor="white",
                                   border=True, loc="lower left", size=(0.12, min(0.6, 0.021 * rows + 0.01)),
                                   background_opacity=0.85)
            for i, (label, color) in enumerate(self.legend):  # dark text beside each swatch: pale colours stay legible
                legend.SetEntry(i, meshes.swatch(color), label, [0.13, 0.13, 0.13])
            legend.ScalarVisibilityOn()

    @staticmethod
    def _hex(rgb: np.ndarray) -> str:
        return "#" + "".join(f"{int(v):02x}" for v in np.asarray(rgb).ravel()[:3])

    def _font(self, points: int) -> int:
        """A font size that keeps its proportion to the picture (sizes are given for 1000 pixels high)."""
        return max(7, round(points * min(2.0, max(0.6, self.window_size[1] / 1000))))

    # ------------------------------------------------------------------ camera and frames
    def _set_camera(self, camera: str) -> None:
        """Point the camera: 'isometric' (whole site from the south-west), 'plan' (from above), 'hall:<id>'.

        Set before anything is drawn: the rack mesh is built for this camera.
        """
        pl = self.plotter
        if camera == "plan":
            pl.view_xy()
            pl.enable_parallel_projection()
            x0, x1, y0, y1, z0, z1 = self.layout.bounds()
            self._bar_room = 0.1 * max(x1 - x0, y1 - y0)  # a strip south of the site for the scale bar
            self._fit((x0, x1, y0 - self._bar_room, y1, z0, z1))
            return
        if camera == "isometric":
            bounds = self.layout.bounds()
        elif camera.startswith("hall:"):
            hall = camera.split(":", 1)[1]
            if hall not in self.layout.halls.index:
                raise ViewError(f"camera {camera!r}: no hall {hall!r} in this facility; {did_you_mean(hall, self.layout.halls.index)}")
            bounds = self.layout.hall_bounds(hall)
        else:
            raise ViewError(f"unknown camera {camera!r}; use one of {', '.join(CAMERAS)}")
        pl.view_vector(ISO_DIRECTION, viewup=(0, 0, 1))
        self._fit(bounds)

    def _fit(self, bounds: tuple) -> None:
        """Aim at the middle of `bounds` and zoom so all its corners land inside the free part of the picture.

        The free part leaves the lower-left corner to the legend and a strip on the right to the colour bar.
        """
        pl = self.plotter
        pl.reset_camera(bounds=bounds)
        x0, x1, y0, y1, z0, z1 = bounds
        corners = np.array([(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)])
        width, height = self.window_size
        px = self.project(corners)
        left, right, top, bottom = 0.14 * width, 0.88 * width, 0.07 * height, 0.97 * height
        cx, cy = (left + right) / 2, (top + bottom) / 2
        # move the view so the box's projected middle sits in the middle of the free part
        mid = np.array([(px[:, 0].min() + px[:, 0].max()) / 2, (px[:, 1].min() + px[:, 1].max()) / 2])
        self._pan(mid[0] - cx, mid[1] - cy)
        px = self.project(corners)
        reach_x = np.abs(px[:, 0] - cx).max() / ((right - left) / 2)
        reach_y = np.abs(px[:, 1] - cy).max() / ((bottom - top) / 2)
        self._pan(cx - width / 2, cy - height / 2)
        pl.camera.zoom(1.0 / max(reach_x, reach_y, 1e-6))
        self._pan(width / 2 - cx, height / 2 - cy)
        pl.reset_camera_clipping_range()

    def _pan(self, dx: float, dy: float) -> None:
        """Shift camera and focal point so the picture moves by (-dx, -dy) pixels (rows counted downwards)."""
        cam = self.plotter.camera
        ren = self.plotter.renderer
        focal = np.array(cam.focal_point)
        ren.SetWorldPoint(*focal, 1.0)
        ren.WorldToDisplay()
        fx, fy, fz = ren.GetDisplayPoint()
        ren.SetDisplayPoint(fx + dx, fy - dy, fz)
        ren.DisplayToWorld()
        w = np.array(ren.GetWorldPoint())
        shift = w[:3] / w[3] - focal
        cam.focal_point = tuple(focal + shift)
        cam.position = tuple(np.array(cam.position) + shift)

    @property
    def n_frames(self) -> int:
        return len(self.coloring.frame_labels)

    def title(self, frame: int) -> str:
        return colors.frame_title(self.facility.name, self.coloring, frame, self._title)

    def frame(self, i: int) -> None:
        """Show time step `i` of the colouring: recolour the racks in place and update the caption."""
        if self.rack_mesh is not None:
            self.rack_mesh.cell_data["value"][:] = self.coloring.values[i][self._drawn].astype(np.float32)[self._rack_of_cell]
            self.rack_mesh.Modified()
        if hasattr(self, "title_actor"):
            self.title_actor.SetInput(self.title(i))

    def screenshot(self) -> np.ndarray:
        """The rendered picture as rows x columns x RGB uint8."""
        return self.plotter.screenshot(return_img=True)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel (column, row) in the screenshot of each world point (x, y, z in metres); row 0 is the top."""
        ren = self.plotter.renderer
        height = self.window_size[1]
        out = []
        for x, y, z in np.asarray(points, dtype=float).reshape(-1, 3):
            ren.SetWorldPoint(x, y, z, 1.0)
            ren.WorldToDisplay()
            dx, dy, _ = ren.GetDisplayPoint()
            out.append((dx, height - 1 - dy))
        return np.asarray(out)

    def close(self) -> None:
        self.plotter.close()

    def __enter__(self) -> Scene:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _nice(length: float) -> float:
    """The 1, 2 or 5 times a power of ten nearest below `length` (a scale bar's length in metres)."""
    if length <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(length))
    return float(max(m for m in (1, 2, 5, 10) if m * power <= length) * power)
