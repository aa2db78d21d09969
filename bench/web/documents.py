"""The benchmark's documents, built through the REST API (blobs, documents) and the Python
client (layers, strokes), like a user's session would leave them on the server."""

from __future__ import annotations

import asyncio
import io
import random
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
from PIL import Image
from pycrdt import Array, Map

from canvasdoc.canvas import Canvas
from client import CanvasClient

# Mixed modes: Skia (and so Pixi) has native equivalents for normal, multiply, screen, overlay,
# hard-light, soft-light, difference, hue, color, luminosity; dissolve, linear-burn,
# vivid-light, darker-color, linear-dodge, pin-light and divide exist only as the project's own
# blend programs.
# 20 layers: (kind, blend mode, opacity). Index 0 is the bottom; index 10 is "the middle
# layer" and index 19 "the top layer" of the benchmark, both paint layers.
LAYER_PLAN: tuple[tuple[str, str, float], ...] = (
    ("raster", "normal", 100),
    ("paint", "normal", 100),
    ("raster", "multiply", 80),
    ("paint", "dissolve", 70),
    ("raster", "screen", 60),
    ("paint", "linear-burn", 90),
    ("raster", "overlay", 75),
    ("paint", "hard-light", 100),
    ("raster", "vivid-light", 50),
    ("paint", "color", 85),
    ("paint", "normal", 100),  # the middle layer
    ("raster", "soft-light", 70),
    ("paint", "darker-color", 100),
    ("raster", "difference", 40),
    ("paint", "linear-dodge", 60),
    ("raster", "hue", 55),
    ("paint", "pin-light", 80),
    ("raster", "divide", 30),
    ("paint", "luminosity", 90),
    ("paint", "normal", 100),  # the top layer
)
MIDDLE = 10
TOP = len(LAYER_PLAN) - 1
COLORS = ("#e63946", "#f1a208", "#2a9d8f", "#264653", "#8338ec", "#3a86ff", "#06d6a0",
          "#ef476f", "#118ab2", "#073b4c", "#ffbe0b", "#fb5607")  # fmt: skip


@dataclass
class StrokeDoc:
    doc_id: str
    layer_ids: list[str]  # bottom first

    @property
    def top(self) -> str:
        return self.layer_ids[TOP]

    @property
    def middle(self) -> str:
        return self.layer_ids[MIDDLE]


def raster_png(size: int, seed: int) -> bytes:
    """A ``size``² RGBA image: two crossing gradients, low-amplitude noise and, on every
    other seed, an alpha ramp (so that the modes below show through)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    gx, gy = np.meshgrid(ramp, ramp)
    phase = rng.uniform(0, 2 * np.pi, 3)
    chans = [
        0.5 + 0.5 * np.sin(2 * np.pi * (gx * (1 + c) + gy * (2 - c)) + phase[c]) for c in range(3)
    ]
    rgb = np.stack(chans, axis=-1) * 215 + rng.integers(0, 40, (size, size, 3))
    alpha = (
        np.full((size, size), 255.0)
        if seed % 2 == 0
        else 60 + 195 * np.clip(gx * 0.6 + gy * 0.4, 0, 1)
    )
    rgba = np.dstack([np.clip(rgb, 0, 255), alpha]).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _stroke_points(rng: random.Random, size: int, n: int) -> list[float]:
    x, y = rng.uniform(0, size), rng.uniform(0, size)
    step = size / 120
    points: list[float] = []
    for _ in range(n):
        x = min(max(x + rng.uniform(-step, step), 0), size)
        y = min(max(y + rng.uniform(-step, step), 0), size)
        points += [round(x, 2), round(y, 2)]
    return points


def _post_doc(http: httpx.Client, doc_id: str, name: str, size: int) -> None:
    body = {"id": doc_id, "name": name, "width": size, "height": size, "background": "#ffffff"}
    r = http.post("/api/docs", params={"user": "bench"}, json=body)
    if r.status_code != 201:
        raise RuntimeError(f"POST /api/docs: {r.status_code} {r.text}")


def _post_blob(http: httpx.Client, png: bytes) -> str:
    r = http.post(
        "/api/blobs", params={"user": "bench"}, content=png, headers={"content-type": "image/png"}
    )
    if r.status_code not in (200, 201):
        raise RuntimeError(f"POST /api/blobs: {r.status_code} {r.text[:300]}")
    sha: str = r.json()["sha256"]
    return sha


def _client_edit(base_url: str, doc_id: str, edits: list[Callable[[Canvas], None]]) -> int:
    """Apply each of ``edits`` in its own transaction through a Python client (user "bench"),
    then wait until a second client sees as many strokes; returns that count."""
    ws_url = base_url.replace("http://", "ws://")

    def strokes(canvas: Canvas) -> int:
        return sum(len(layer.strokes) for layer in canvas.read_layers())

    async def run() -> int:
        async with CanvasClient(ws_url, doc_id, user="bench", name="bench") as client:
            await client.wait_synced(timeout=60)
            for edit in edits:
                with client.doc.transaction():
                    edit(client.canvas)
                await asyncio.sleep(0)
            want = strokes(client.canvas)
            want_layers = len(client.canvas.read_layers())
            for _ in range(600):  # the server holds it all once a fresh client gets it all
                async with CanvasClient(ws_url, doc_id, user="bench-check") as check:
                    await check.wait_synced(timeout=60)
                    if (
                        strokes(check.canvas) == want
                        and len(check.canvas.read_layers()) == want_layers
                    ):
                        return want
                await asyncio.sleep(0.5)
            raise RuntimeError(f"the server never held the {want} strokes of {doc_id}")

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may own this thread's loop
        return pool.submit(asyncio.run, run()).result()


def build_stroke_doc(base_url: str, size: int, strokes_per_layer: int, seed: int = 1) -> StrokeDoc:
    """20 layers (LAYER_PLAN): 2048² raster images and paint layers of a few dozen strokes."""
    doc_id = f"bench-layers-{uuid.uuid4().hex[:8]}"
    rng = random.Random(seed)
    with httpx.Client(base_url=base_url, timeout=120) as http:
        _post_doc(http, doc_id, "bench: 20 layers", size)
        blobs = {
            i: _post_blob(http, raster_png(size, seed * 100 + i))
            for i, (kind, _, _) in enumerate(LAYER_PLAN)
            if kind == "raster"
        }
    layer_ids: list[str] = []

    def add_layers(canvas: Canvas) -> None:
        for i, (kind, mode, opacity) in enumerate(LAYER_PLAN):
            layer_ids.append(
                canvas.add_layer(
                    f"{i:02d} {kind} {mode}",
                    kind=kind,
                    blend_mode=mode,
                    opacity=opacity,
                    blob=blobs.get(i),
                )
            )

    def add_strokes(canvas: Canvas) -> None:
        for i, (kind, _, _) in enumerate(LAYER_PLAN):
            if kind != "paint":
                continue
            for _ in range(strokes_per_layer):
                canvas.begin_stroke(
                    layer_ids[i],
                    color=rng.choice(COLORS),
                    size=rng.uniform(6, 60),
                    hardness=rng.uniform(0.3, 1.0),
                    opacity=rng.uniform(50, 100),
                    points=_stroke_points(rng, size, rng.randint(20, 60)),
                )

    _client_edit(base_url, doc_id, [add_layers, add_strokes])
    return StrokeDoc(doc_id, layer_ids)


def _bulk_strokes(layer: Any, rng: random.Random, size: int, count: int) -> None:
    """Append ``count`` strokes to a paint layer's Map at once. Canvas.begin_stroke checks the
    new id against every stroke of the layer (quadratic over 20000 strokes), so the Maps are
    written here with exactly the fields and types it writes."""
    maps = [
        Map(
            {
                "tool": "brush",
                "color": rng.choice(COLORS),
                "size": float(rng.randint(4, 48)),
                "hardness": round(rng.uniform(0.3, 1.0), 2),
                "opacity": float(rng.randint(40, 100)),
                "points": Array([float(v) for v in _stroke_points(rng, size, 8)]),
                "id": uuid.uuid4().hex,
            }
        )
        for _ in range(count)
    ]
    layer["strokes"].extend(maps)


def build_many_strokes_doc(base_url: str, size: int, strokes: int, layers: int = 10) -> str:
    """``strokes`` short strokes (8 points each) over ``layers`` paint layers of mixed modes."""
    doc_id = f"bench-strokes-{uuid.uuid4().hex[:8]}"
    rng = random.Random(7)
    with httpx.Client(base_url=base_url, timeout=120) as http:
        _post_doc(http, doc_id, f"bench: {strokes} strokes", size)
    modes = ("normal", "multiply", "dissolve", "screen", "linear-burn", "overlay", "normal")
    layer_ids: list[str] = []

    def add_layers(canvas: Canvas) -> None:
        for i in range(layers):
            mode = modes[i % len(modes)]
            layer_ids.append(canvas.add_layer(f"strokes {i}", kind="paint", blend_mode=mode))

    def batch(first: int, count: int) -> Callable[[Canvas], None]:
        def edit(canvas: Canvas) -> None:
            by_id = {str(entry.get("id")): entry for entry in canvas.layers_array}
            per = [count // layers + (1 if k < count % layers else 0) for k in range(layers)]
            for k, n in enumerate(per):
                _bulk_strokes(by_id[layer_ids[(k + first) % layers]], rng, size, n)

        return edit

    per_tx = 500  # several hundred strokes per transaction, as one update each
    edits = [add_layers] + [batch(i, min(per_tx, strokes - i)) for i in range(0, strokes, per_tx)]
    got = _client_edit(base_url, doc_id, edits)
    if got != strokes:
        raise RuntimeError(f"{doc_id} holds {got} strokes, wanted {strokes}")
    return doc_id
