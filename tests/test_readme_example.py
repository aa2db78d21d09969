"""The README's Python example and its export command, run as written against the embedded
server: the exported picture shows what the example drew, and the document is listed by the
name the example gave it."""

from __future__ import annotations

import asyncio
import io
import re
import sys
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from canvasdoc.canvas import Canvas
from tests.support.servers import RunningServer
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parent.parent
README_SERVER = "127.0.0.1:8000"


def _block(lang: str, containing: str) -> str:
    """The README's first ```lang block that contains ``containing``."""
    readme = (ROOT / "README.md").read_text()
    for block in re.findall(rf"```{lang}\n(.*?)```", readme, re.S):
        if containing in block:
            return str(block)
    raise AssertionError(f"README.md has no ```{lang} block containing {containing!r}")


async def test_readme_example_exports_what_it_drew(running: RunningServer) -> None:
    script = _block("python", "CanvasClient(")
    assert f'"ws://{README_SERVER}"' in script
    script = script.replace(f"ws://{README_SERVER}", running.url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, (out + err).decode()

    export = re.search(r'curl -o (\S+) "http://([^/"]+)(/[^"]+)"', _block("sh", "curl -o"))
    assert export is not None and export.group(2) == README_SERVER
    doc_id = re.search(r"/api/docs/([^/]+)/export", export.group(3))
    assert doc_id is not None
    # The client has sent everything when it exits; wait until the server has applied it.
    await eventually(
        lambda: any(
            layer.strokes and layer.strokes[0].points
            for room in [running.server.rooms.rooms.get(doc_id.group(1))]
            if room is not None
            for layer in Canvas(room.doc).read_layers()
        )
    )
    async with httpx.AsyncClient(base_url=running.http_url, timeout=60) as http:
        r = await http.get(export.group(3))
        assert r.status_code == 200, r.text
        listed = (await http.get("/api/docs")).json()["documents"]
    assert [(d["id"], d["name"]) for d in listed] == [(doc_id.group(1), "Poster")]

    pixels = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB")).astype(int)
    assert pixels.shape == (1080, 1920, 3)
    assert (pixels[0, 0] == 255).all()  # the white background
    # The stroke: #3366ff multiplied at 80 % opacity over white.
    drawn = np.round(255 - 0.8 * (255 - np.array([0x33, 0x66, 0xFF])))
    on_stroke = (np.abs(pixels - drawn) <= 3).all(axis=-1)
    assert on_stroke[550, 450], pixels[550, 450]  # midway along the first segment
    # A 48 px wide zig-zag of three ~707 px segments covers about 100,000 pixels.
    assert 80_000 < on_stroke.sum() < 130_000, on_stroke.sum()
