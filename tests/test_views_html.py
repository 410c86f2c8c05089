"""The interactive HTML view, opened in a real headless Chromium with the network cut off."""

from __future__ import annotations

import io
import re
import shutil

import numpy as np
import pytest
from PIL import Image

import twin
from conftest import small_facility

CHROMIUM_FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no Chromium on this machine: install Debian's `chromium` package (.ci/run does: apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "small.html"
    return twin.render(small_facility(), path, color_by="nameplate_kw", show_power=True, show_coolant=True)


def test_html_page_embeds_everything_and_forbids_the_network(page_file):
    text = page_file.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # no external scripts, styles or icons
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "OfflineLocalView.load" in text and "base64Str" in text
    assert "<title>small" in text


def screenshot(page) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)


def test_html_page_draws_the_scene_in_chromium_offline(page_file):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extras: pip install -e '.[test]'")
    executable = chromium()
    external: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 800, "height": 600})

            def route(r):  # nothing but the file itself and inline data may load
                if r.request.url.startswith(("file:", "data:", "blob:")):
                    r.continue_()
                else:
                    external.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            page.wait_for_selector("canvas", timeout=30_000)
            page.wait_for_selector("#twin-title", timeout=30_000)
            page.wait_for_timeout(800)
            title = page.inner_text("#twin-title")
            legend = page.inner_text("#twin-legend")
            # judge the 3D canvas alone: hide the HTML title, legend and colour scale
            page.evaluate("document.querySelectorAll('#twin-title,#twin-legend,#twin-scale')"
                          ".forEach(e => e.style.display = 'none')")
            before = screenshot(page)
            box = page.locator("canvas").bounding_box()
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.mouse.move(cx, cy)  # drag to rotate: the page is interactive
            page.mouse.down()
            page.mouse.move(cx + 150, cy + 40, steps=8)
            page.mouse.up()
            page.wait_for_timeout(500)
            after = screenshot(page)
        finally:
            browser.close()
    assert external == [] and errors == []
    assert title.startswith("small") and "dry cooler" in legend and "coolant" in legend
    drawn = (before != 255).any(axis=2)  # the background is white
    assert drawn.mean() > 0.05, f"only {drawn.mean():.1%} of the page is drawn"
    assert len(np.unique(before[drawn].reshape(-1, 3) // 8, axis=0)) > 20  # shaded 3D shapes, not a flat fill
    assert (np.abs(after - before).max(axis=2) > 30).mean() > 0.01  # the drag rotated the scene
