"""Debian's Chromium driven by Python Playwright, for the browser app's tests and benchmark.

Never ``playwright install``: the browser is /usr/bin/chromium (``make test`` installs it).
The flags are the ones FACTS.md lists: without ``--enable-unsafe-swiftshader`` there is no WebGL
here and Pixi silently falls back to a Canvas renderer, which is why every page check asserts
the renderer is WebGL.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("NEXUS_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-unsafe-swiftshader",
]
WEB_DIST = Path(__file__).resolve().parents[2] / "client" / "web" / "dist"


def require_browser() -> None:
    """Fail loudly under CI, skip with the reason elsewhere, when Chromium or the build is
    missing."""
    problems = []
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        problems.append(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    if not (WEB_DIST / "index.html").is_file():
        problems.append(f"the browser app is not built in {WEB_DIST} (make web)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("Python Playwright is missing (pip install -e '.[dev]')")
    if not problems:
        return
    message = "; ".join(problems)
    if os.environ.get("CI"):
        pytest.fail(f"{message}: required under CI (make test installs it)", pytrace=False)
    pytest.skip(message)


@dataclass
class PageLog:
    """Console errors and warnings and uncaught page errors seen by one page."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        def on_console(message: Any) -> None:
            if message.type in ("error", "warning"):
                self.problems.append(f"console.{message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))

    def assert_clean(self, *, allow: tuple[str, ...] = ()) -> None:
        # SwiftShader (software WebGL, --disable-gpu) reports every WebGL canvas's presentation
        # read-back as "GPU stall due to ReadPixels", even for a page that only clears: it is
        # the emulated driver talking, not the app.
        allow = (*allow, "GPU stall due to ReadPixels")
        left = [p for p in self.problems if not any(a in p for a in allow)]
        assert not left, "the page logged:\n" + "\n".join(left)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_editor(
    context: Any, base_url: str, doc_id: str, *, user: str, name: str, log: PageLog
) -> Any:
    """Open ``/d/{doc_id}`` as ``user`` and wait until the document is synced and drawn."""
    page = context.new_page()
    log.attach(page)
    page.goto(f"{base_url}/d/{doc_id}?user={user}&name={name}")
    wait_ready(page)
    return page


def wait_ready(page: Any, timeout: float = 30_000) -> None:
    page.wait_for_function(
        "() => window.__nexus && window.__nexus.renderer && window.__nexus.session", timeout=timeout
    )
    page.evaluate("() => window.__nexus.session.synced")
    page.evaluate("() => window.__nexus.renderer.whenRendered()")
    assert page.evaluate("() => window.__nexus.renderer.rendererName") == "webgl"


def document_pixels(page: Any) -> tuple[int, int, bytes]:
    """The document as the page's WebGL canvas draws it at 100 %: (width, height, RGBA)."""
    result = page.evaluate(
        """async () => {
            const r = window.__nexus.renderer;
            await r.whenRendered();
            const px = await r.readDocumentPixels();
            let bin = "";
            for (let i = 0; i < px.data.length; i += 0x8000) {
                bin += String.fromCharCode.apply(null, px.data.subarray(i, i + 0x8000));
            }
            return {width: px.width, height: px.height, data: btoa(bin)};
        }"""
    )
    import base64

    return result["width"], result["height"], base64.b64decode(result["data"])


def layers(page: Any) -> list[dict[str, Any]]:
    """The page's reading of the shared layers (bottom first), as plain JSON."""
    raw = page.evaluate("() => JSON.stringify(window.__nexus.session.canvas.readLayers())")
    result: list[dict[str, Any]] = json.loads(raw)
    return result


def create_doc(base_url: str, doc_id: str, **fields: Any) -> None:
    import httpx

    body = {"id": doc_id, "width": 256, "height": 256, **fields}
    r = httpx.post(f"{base_url}/api/docs?user=setup", json=body, timeout=30)
    assert r.status_code == 201, r.text


def to_screen(page: Any, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of document point (x, y) under the page's current camera."""
    box = page.get_by_test_id("canvas-host").bounding_box()
    camera = page.evaluate("() => window.__nexus.store.getState().camera")
    return box["x"] + camera["x"] + x * camera["zoom"], box["y"] + camera["y"] + y * camera["zoom"]


def point_count(page: Any) -> int:
    count: int = page.evaluate(
        """() => window.__nexus.session.canvas.readLayers()
            .flatMap((l) => l.strokes).reduce((n, s) => n + s.points.length, 0)"""
    )
    return count


def wait_for(page: Any, expression: str, arg: Any = None, timeout: float = 10_000) -> Any:
    """Wait until ``expression`` (a JS function of ``arg``) is truthy in the page."""
    return page.wait_for_function(expression, arg=arg, timeout=timeout).json_value()


def set_zoom_100(page: Any) -> None:
    page.evaluate(
        """() => { const s = window.__nexus.store.getState();
                   s.setCamera({x: 8, y: 8, zoom: 1}); }"""
    )


def edit_doc(base_url: str, doc_id: str, edit: Any) -> None:
    """Make ``edit(canvas)`` through a real Python client (user "setup"), then wait until the
    server holds all of it."""
    import asyncio

    import httpx

    from client import CanvasClient

    ws_url = base_url.rstrip("/").replace("http://", "ws://")

    async def run() -> None:
        async with (
            CanvasClient(ws_url, doc_id, user="setup") as client,
            httpx.AsyncClient(base_url=base_url) as http,
        ):
            await client.wait_synced()
            with client.doc.transaction():
                edit(client.canvas)
            want = len(client.canvas.read_layers())
            for _ in range(400):
                if len((await http.get(f"/api/docs/{doc_id}")).json()["layers"]) == want:
                    return
                await asyncio.sleep(0.025)
            raise AssertionError(f"the server never got the {want} layers of {doc_id}")

    # Playwright's sync API keeps an event loop running in this thread: run ours in another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()
