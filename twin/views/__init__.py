"""3D views of a facility with pyvista: PNG, a standalone interactive HTML page, or an animation over time.

>>> import blueprints, twin
>>> site = blueprints.load("ai-factory-hall")
>>> twin.render(site, "hall.png", color_by="system")          # doctest: +SKIP
>>> twin.render(site, "hall.html", camera="plan")             # doctest: +SKIP
>>> twin.render(site, "day.gif", state=ds)                    # doctest: +SKIP  (ds: time x rack Dataset)

Importing this package imports pyvista; `import twin` does not (twin.render loads it on first use).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from twin.views.errors import ViewError

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility
    from twin.views.drawing import Scene


def render(
    facility: Facility,
    path: str | Path,
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
    fps: float = 4.0,
    max_frames: int = 96,
    anti_aliasing: bool | None = None,
    highlight: Sequence[str] = (),
) -> Path:
    """Draw `facility` and write it to `path`; the suffix picks the output and the return value is the path.

    - `.png`/`.jpg`: one picture (offscreen); `.html`: a standalone page to rotate and zoom, no network needed;
      `.gif`/`.mp4`: one frame per time step of `state` (at most `max_frames`, evenly spaced; MP4 needs imageio-ffmpeg).
    - `color_by`: a per-rack variable of `state` (dims `rack` or `time` x `rack`) or a rack-table column
      (numeric like `nameplate_kw`, `gpus`, `liquid_fraction`; categorical like `system`, `cooling`, `hall`).
      Without a state, `rack_power_kw` shows the nameplate power.
    - `time`: for a picture or page, the step shown (nearest label; an int is a position on a datetime axis;
      default the first step); for an animation, a slice or list of steps (default all).
    - `camera`: "isometric", "plan" or "hall:<hall id>"; `show_power`/`show_coolant` draw connections.
    - `anti_aliasing`: smooth edges (multisampling); default on up to 2,000 racks, off above (3x slower in software).
    - `highlight`: device ids drawn larger in magenta and labelled (the device that fails in a blast-radius view).

    Numeric colour scales state what their ends mean (rack power: 0 to the largest nameplate; shares: 0 to 1);
    when every rack has the same value the picture says so ("all racks at 132 kW") instead of drawing a scale.
    Empty rack positions are drawn as grey outlines; plan views carry a scale bar in metres.
    """
    from twin.atomic import atomic_path
    from twin.views import export

    path = Path(path)
    suffix = export.check_suffix(path)
    animate = suffix in export.MOVIE
    if animate and state is None:
        raise ViewError(f"an animation ({path.name}) needs a state with a time axis: pass state=<Dataset>").on_cli(
            f"an animation ({path.name}) needs a simulated state: add --state year.nc "
            "(written by `twin simulate BLUEPRINT --hours 24 --utilization diurnal --out year.nc`)")
    export.check_writer(suffix)
    with scene(facility, color_by, state=state, time=time, camera=camera, show_power=show_power,
               show_coolant=show_coolant, show_devices=show_devices, labels=labels, cmap=cmap, clim=clim,
               window_size=window_size, title=title, animate=animate, max_frames=max_frames,
               web=suffix == ".html", anti_aliasing=anti_aliasing, highlight=highlight) as s:
        with atomic_path(path) as tmp:
            if suffix in export.STILL:
                export.write_still(s, tmp)
            elif suffix == ".html":
                export.write_html(s, tmp)
            else:
                export.write_movie(s, tmp, fps)
    return path


def scene(facility: Facility, color_by: str = "rack_power_kw", **options: Any) -> Scene:
    """The drawn scene without writing it: for tests, notebooks, or several pictures of one build."""
    from twin.views.drawing import Scene

    return Scene(facility, color_by, **options)


__all__ = ["render", "scene", "ViewError"]
