"""Importing an image by drag-and-drop lands a raster layer for everyone; a corrupt file is
refused with the server's message and adds nothing."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.web.browser import PageLog, create_doc, layers, open_editor, wait_for

pytestmark = pytest.mark.browser

DROP = """async ({data, name, type}) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const file = new File([bytes], name, {type});
    const transfer = new DataTransfer();
    transfer.items.add(file);
    const target = document.querySelector('[data-testid="canvas-host"]');
    for (const kind of ["dragenter", "dragover", "drop"]) {
        target.dispatchEvent(new DragEvent(kind, {bubbles: true, cancelable: true,
                                                  dataTransfer: transfer}));
    }
}"""


def _png() -> bytes:
    pixels = np.zeros((40, 60, 4), dtype=np.uint8)
    pixels[..., 0] = 220
    pixels[..., 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def test_drop_an_image_and_a_corrupt_one(browser: Any, web_server: str) -> None:
    create_doc(web_server, "drops")
    log = PageLog()
    ctx_a, ctx_b = browser.new_context(), browser.new_context()
    a = open_editor(ctx_a, web_server, "drops", user="alice", name="Alice", log=log)
    b = open_editor(ctx_b, web_server, "drops", user="bob", name="Bob", log=log)
    png = _png()
    a.evaluate(
        DROP, {"data": base64.b64encode(png).decode(), "name": "red.png", "type": "image/png"}
    )
    for page in (a, b):
        wait_for(
            page,
            "() => window.__nexus.session.canvas.readLayers()"
            ".some((l) => l.kind === 'raster' && l.blob)",
        )
    assert [layer["kind"] for layer in layers(b)] == ["raster"]
    assert layers(b)[0]["name"].startswith("red")

    a.evaluate(
        DROP,
        {
            "data": base64.b64encode(png[: len(png) // 2]).decode(),
            "name": "broken.png",
            "type": "image/png",
        },
    )
    a.get_by_text("corrupt", exact=False).first.wait_for()
    assert len(layers(a)) == 1 and len(layers(b)) == 1
    ctx_a.close()
    ctx_b.close()
    # The refused upload's 400 is the browser's own network log line, not an app error.
    log.assert_clean(allow=("status of 400",))
