"""Writing a scene: PNG, a standalone offline HTML page (vtk.js), or an animation (GIF, MP4) over time.

The HTML page embeds the scene with trame-vtk's serializer into its offline vtk.js viewer (all script
inline, nothing fetched from the network: the viewer's favicon links are stripped) and adds the title
and legend as plain HTML, since the viewer does not draw 2D overlays.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twin.views.errors import ViewError

if TYPE_CHECKING:
    from twin.views.drawing import Scene

STILL = (".png", ".jpg", ".jpeg")
MOVIE = (".gif", ".mp4")
SUFFIXES = STILL + (".html",) + MOVIE
OFFLINE_POLICY = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src \'unsafe-inline\' '
    '\'unsafe-eval\'; style-src \'unsafe-inline\'; img-src data: blob:; connect-src data: blob:; worker-src blob:">'
)
"""The page may run its inline script and use data:/blob: URLs, and fetch nothing else, from anywhere."""


def check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ViewError(f"cannot write {path.name!r}: unknown file type {suffix or '(none)'!r}; use one of {', '.join(SUFFIXES)}")
    return suffix


def check_writer(suffix: str) -> None:
    """Fail before drawing when the movie writer a suffix needs is not installed."""
    import importlib.util

    if suffix == ".mp4" and importlib.util.find_spec("imageio_ffmpeg") is None:
        raise ViewError("writing MP4 needs imageio-ffmpeg: pip install imageio-ffmpeg (or write a .gif)")
    if suffix == ".gif" and importlib.util.find_spec("imageio") is None:
        raise ViewError("writing a GIF needs imageio: pip install imageio")


def write_still(scene: Scene, path: Path) -> None:
    """The picture as PNG (fast zlib level: mostly flat colours compress well anyway) or JPEG."""
    from PIL import Image

    image = Image.fromarray(scene.screenshot())
    if path.suffix.lower() == ".png":
        image.save(path, compress_level=1)
    else:
        image.save(path, quality=92)


def write_movie(scene: Scene, path: Path, fps: float) -> None:
    """One frame per selected time step, colour scale fixed over all frames."""
    pl = scene.plotter
    check_writer(path.suffix.lower())
    if path.suffix.lower() == ".gif":
        pl.open_gif(str(path), fps=fps, palettesize=256)
    else:
        pl.open_movie(str(path), framerate=fps, quality=7)
    for i in range(scene.n_frames):
        scene.frame(i)
        pl.write_frame()
    pl.mwriter.close()  # flush the file now; Plotter.close() would do it later
    pl.mwriter = None


def write_html(scene: Scene, path: Path) -> None:
    """A page with the interactive 3D scene (drag to rotate, wheel to zoom) that opens with no network."""
    from trame_vtk.tools.vtksz2html import HTML_VIEWER_PATH, data_to_base64

    pl = scene.plotter
    pl.render()
    data = _scene_archive(pl.render_window)
    viewer = HTML_VIEWER_PATH.read_text(encoding="utf-8")
    viewer = re.sub(r"<link[^>]*href=\"https?://[^\"]*\"[^>]*>\s*", "", viewer)
    viewer = viewer.replace("[16,32,96,160,196].forEach", "[].forEach")  # the viewer adds favicon links from the web
    viewer = viewer.replace("<head>", "<head>\n" + OFFLINE_POLICY, 1)
    loader = (  # the viewer replaces the body's content, so the overlay is added once its canvas exists
        "<script>\nfunction loadDataSet() {\n"
        "  const container = document.querySelector('.content') || document.querySelector('body');\n"
        f"  const base64Str = \"{data_to_base64(data)}\";\n"
        "  OfflineLocalView.load(container, { base64Str });\n"
        f"  const overlay = {json.dumps(_overlay(scene))};\n"
        "  const add = () => document.querySelector('canvas') ? document.body.insertAdjacentHTML('beforeend', overlay)"
        " : setTimeout(add, 50);\n  add();\n}\n</script>\n"
    )
    page = viewer.replace("</body>", loader + "</body>", 1)
    page = re.sub(r"<title>.*?</title>", f"<title>{html.escape(scene.title(0))}</title>", page, count=1)
    path.write_text(page, encoding="utf-8")


def _scene_archive(render_window) -> bytes:
    """The render window as vtk.js's offline scene: index.json with the scene and its data arrays, zipped."""
    from trame_vtk.modules.vtk.serializers import (
        SynchronizationContext, extract_array_hash, initialize_serializers, reference_id, serialize,
    )

    initialize_serializers()
    context = SynchronizationContext()
    camera = render_window.GetRenderers().GetFirstRenderer().GetActiveCamera()
    view = serialize(None, render_window, reference_id(render_window), context, 1)
    view["extra"] = {"vtkRefId": reference_id(render_window), "centerOfRotation": camera.GetFocalPoint(),
                     "camera": reference_id(camera)}
    hashes = {}
    for entry in extract_array_hash(view):
        hashes[entry["hash"]] = dict(**entry, content=context.get_cached_data_array(entry["hash"], False))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.json", json.dumps({"hashes": hashes, "scene": view}), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _overlay(scene: Scene) -> str:
    """Title, colour bar or category swatches, and the device legend, as fixed-position HTML."""
    c = scene.coloring
    parts = [f'<div id="twin-title">{html.escape(scene.title(0))}</div>']
    if not c.categorical and c.uniform is None and scene.rack_mesh is not None:
        stops = ", ".join(f"rgb({r},{g},{b}) {100 * i / 15:.1f}%" for i, (r, g, b) in
                          enumerate(c.rgb(np.linspace(c.clim[0], c.clim[1], 16))))
        lo, hi = c.clim
        parts.append(f'<div id="twin-scale"><div class="label">{html.escape(c.label)}</div>'
                     f'<div class="bar" style="background: linear-gradient(to top, {stops})"></div>'
                     f'<div class="hi">{hi:,.4g}</div><div class="lo">{lo:,.4g}</div>'
                     f'<div class="note">{html.escape(c.scale)}</div></div>')
    if scene.legend:
        items = "".join(f'<div><span style="background:{col}"></span>{html.escape(label)}</div>' for label, col in scene.legend)
        parts.append(f'<div id="twin-legend">{items}</div>')
    style = (
        "<style>#twin-title,#twin-legend,#twin-scale{position:fixed;z-index:10;font:13px sans-serif;color:#222;"
        "background:rgba(255,255,255,.85);padding:6px 8px;border-radius:4px;pointer-events:none}"
        "#twin-title{top:8px;left:8px;font-weight:bold}#twin-legend{bottom:8px;left:8px}"
        "#twin-legend span{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:middle}"
        "#twin-scale{top:60px;right:8px;width:110px;height:340px}#twin-scale .label{white-space:nowrap;text-align:right}"
        "#twin-scale .bar{position:absolute;top:34px;bottom:8px;left:8px;width:22px}"
        "#twin-scale .hi{position:absolute;top:34px;left:36px}#twin-scale .lo{position:absolute;bottom:8px;left:36px}"
        "#twin-scale .note{position:absolute;top:350px;right:0;width:220px;text-align:right;font-size:11px}</style>"
    )
    return style + "\n".join(parts) + "\n"
