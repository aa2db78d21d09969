"""The browser draws what the server's compositor exports.

Small documents (software WebGL is slow here) cover the 27 blend modes at opacity 100 and 60
over an opaque and a half-transparent backdrop, raster layers at offsets (one partly outside
the canvas), and strokes of hardness 0, 0.5 and 1 with erasers. The page's WebGL canvas read
back at 100 % must match ``GET /api/docs/{id}/export?format=png`` on 99.9 % of pixels within
3 levels per premultiplied channel, and nowhere by more than 8 (stroke edges).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from canvasdoc.canvas import BLEND_MODES
from tests.web.browser import PageLog, document_pixels, edit_doc, open_editor
from tests.web.parity_fixture import build_parity_documents, export_pixels, parity, rgba_from_bytes

pytestmark = pytest.mark.browser

TILE, COLS = 40, 6
WIDTH, HEIGHT = TILE * COLS, TILE * 5


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def _backdrop(alpha: int) -> np.ndarray:
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    pixels = np.empty((HEIGHT, WIDTH, 4), dtype=np.uint8)
    pixels[..., 0] = xs * 255 // (WIDTH - 1)
    pixels[..., 1] = ys * 255 // (HEIGHT - 1)
    pixels[..., 2] = (xs + ys) * 255 // (WIDTH + HEIGHT - 2)
    pixels[..., 3] = alpha
    return pixels


def _source(seed: int) -> np.ndarray:
    size = TILE - 8
    ys, xs = np.mgrid[0:size, 0:size]
    pixels = np.empty((size, size, 4), dtype=np.uint8)
    pixels[..., 0] = (255 - xs * 255 // (size - 1) + seed * 37) % 256
    pixels[..., 1] = ys * 255 // (size - 1)
    pixels[..., 2] = (seed * 91 + xs * 4) % 256
    pixels[..., 3] = np.where(xs < size // 2, 255, 96 + ys * 4)  # opaque half, translucent half
    return pixels


def _upload(http: httpx.Client, pixels: np.ndarray) -> str:
    r = http.post("/api/blobs", content=_png(pixels), headers={"Content-Type": "image/png"})
    assert r.status_code in (200, 201), r.text
    digest: str = r.json()["sha256"]
    return digest


def _modes_doc(http: httpx.Client, base_url: str, doc_id: str, alpha: int, opacity: int) -> None:
    background = "#ffffff" if alpha == 255 else "transparent"
    r = http.post("/api/docs", json={"id": doc_id, "width": WIDTH, "height": HEIGHT,
                                     "background": background})  # fmt: skip
    assert r.status_code == 201, r.text
    backdrop = _upload(http, _backdrop(alpha))
    sources = [_upload(http, _source(i)) for i in range(len(BLEND_MODES))]

    def edit(canvas: Any) -> None:
        canvas.add_layer("backdrop", kind="raster", blob=backdrop)
        for i, mode in enumerate(BLEND_MODES):
            canvas.add_layer(
                mode,
                kind="raster",
                blob=sources[i],
                blend_mode=mode,
                opacity=opacity,
                x=(i % COLS) * TILE + 4,
                y=(i // COLS) * TILE + 4,
            )

    edit_doc(base_url, doc_id, edit)


def _strokes_doc(http: httpx.Client, base_url: str, doc_id: str) -> None:
    r = http.post("/api/docs", json={"id": doc_id, "width": 200, "height": 160,
                                     "background": "#f4efe6"})  # fmt: skip
    assert r.status_code == 201, r.text
    photo = _upload(http, _backdrop(255)[:90, :120])
    patch = _upload(http, _source(3))

    def edit(canvas: Any) -> None:
        canvas.add_layer("photo", kind="raster", blob=photo, x=30, y=-20)
        canvas.add_layer("patch", kind="raster", blob=patch, x=-10, y=120, blend_mode="screen")
        paint = canvas.add_layer("ink", kind="paint", opacity=90)
        for i, hardness in enumerate((0.0, 0.5, 1.0)):
            y = 30 + i * 45
            canvas.begin_stroke(
                paint,
                color=["#d03020", "#2060c0", "#10a040"][i],
                size=18,
                hardness=hardness,
                opacity=[100, 80, 65][i],
                points=[15, y, 60, y + 20, 110, y - 10, 185, y + 5],
            )
        canvas.begin_stroke(
            paint, color="#202020", size=6, hardness=1.0, points=[20, 140, 20, 140]
        )  # a dot
        canvas.begin_stroke(
            paint, tool="eraser", size=14, hardness=0.5, opacity=100, points=[100, 10, 100, 150]
        )
        canvas.begin_stroke(
            paint, tool="eraser", size=10, hardness=1.0, opacity=50, points=[10, 80, 190, 90]
        )
        top = canvas.add_layer("glaze", kind="paint", blend_mode="overlay", opacity=70)
        canvas.begin_stroke(top, color="#ffcc00", size=30, hardness=0.3, points=[40, 120, 160, 40])

    edit_doc(base_url, doc_id, edit)


def _compare(page: Any, base_url: str, doc_id: str, description: str) -> None:
    width, height, data = document_pixels(page)
    got = rgba_from_bytes(width, height, data)
    want = export_pixels(base_url, doc_id)
    result = parity(got, want)
    if not result.ok:
        Image.fromarray(got, "RGBA").save(f"/tmp/parity-{doc_id}-browser.png")
        Image.fromarray(want, "RGBA").save(f"/tmp/parity-{doc_id}-server.png")
        raise AssertionError(
            f"{doc_id} ({description}): {result} (images in /tmp/parity-{doc_id}-*)"
        )


def test_browser_pixels_match_the_server_export(browser: Any, web_server: str) -> None:
    docs = []
    with httpx.Client(base_url=web_server, timeout=60) as http:
        for alpha in (255, 128):
            for opacity in (100, 60):
                doc_id = f"modes-{alpha}-{opacity}"
                _modes_doc(http, web_server, doc_id, alpha, opacity)
                docs.append(doc_id)
        _strokes_doc(http, web_server, "strokes")
        docs.append("strokes")
    described = {doc_id: "27 modes over a gradient, or strokes and offsets" for doc_id in docs}
    # More: fractional offsets, JPEG and WebP, strokes across the server's tile edges. The
    # builder runs its own event loop, which cannot share this thread with Playwright's.
    with ThreadPoolExecutor(1) as pool:
        for doc in pool.submit(build_parity_documents, web_server).result():
            described[doc.id] = doc.description
    log = PageLog()
    context = browser.new_context()
    for doc_id, description in described.items():
        page = open_editor(context, web_server, doc_id, user="viewer", name="Viewer", log=log)
        _compare(page, web_server, doc_id, description)
        page.close()
    context.close()
    log.assert_clean()
