"""Export, thumbnail and layer images over REST; determinism against a client's replica;
exporting while 20 clients edit."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from canvasdoc.canvas import Canvas
from client import CanvasClient
from collab.render.compositor import Scene, render
from collab.render.images import decode_rgba
from tests.collab.api.conftest import decode, png
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.waiting import eventually


async def _upload_layer(http: httpx.AsyncClient, doc: str, data: bytes, **fields: str) -> str:
    r = await http.post(
        f"/api/docs/{doc}/layers?user=ann", files={"image": ("i.png", data)}, data=fields
    )
    assert r.status_code == 201, r.text
    layer_id: str = r.json()["id"]
    return layer_id


async def test_formats_scale_thumbnail_and_layer(http: httpx.AsyncClient) -> None:
    await http.post("/api/docs", json={"id": "art", "width": 300, "height": 200})
    layer = await _upload_layer(http, "art", png(50, 40, seed=21), x="10", y="20")

    r = await http.get("/api/docs/art/export")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert decode(r.content).shape == (200, 300, 4)
    assert r.headers["content-disposition"] == 'inline; filename="art.png"'
    for fmt, media_type in (("jpeg", "image/jpeg"), ("jpg", "image/jpeg"), ("webp", "image/webp")):
        r = await http.get(f"/api/docs/art/export?format={fmt}&quality=80")
        assert r.status_code == 200 and r.headers["content-type"] == media_type
    assert decode((await http.get("/api/docs/art/export?scale=0.5")).content).shape == (100, 150, 4)

    thumb = decode((await http.get("/api/docs/art/thumbnail?size=64")).content)
    assert thumb.shape == (43, 64, 4)
    assert decode((await http.get("/api/docs/art/thumbnail")).content).shape == (171, 256, 4)

    pixels = decode((await http.get(f"/api/docs/art/layers/{layer}.png")).content)
    assert pixels.shape == (200, 300, 4)
    assert pixels[19, 9, 3] == 0 and np.all(pixels[20:60, 10:60, 3] == png_alpha(seed=21))
    assert (await http.get("/api/docs/art/layers/nope.png")).status_code == 404


def png_alpha(seed: int) -> np.ndarray:
    return decode_rgba(png(50, 40, seed=seed))[..., 3]


async def test_bad_render_parameters(http: httpx.AsyncClient) -> None:
    await http.post("/api/docs", json={"id": "params"})
    for query, named in (
        ("format=gif", "format"),
        ("scale=0", "scale"),
        ("scale=abc", "scale"),
        ("scale=17", "scale"),
        ("quality=0", "quality"),
    ):
        r = await http.get(f"/api/docs/params/export?{query}")
        assert r.status_code == 422 and named in r.json()["message"], query
    assert (await http.get("/api/docs/params/thumbnail?size=2")).status_code == 422
    assert (await http.get("/api/docs/missing/export")).status_code == 404


async def test_export_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    async with (
        serve(settings_for(tmp_path, max_export_pixels=10_000)) as srv,
        httpx.AsyncClient(base_url=srv.http_url) as http,
    ):
        await http.post("/api/docs", json={"id": "big", "width": 200, "height": 100})
        r = await http.get("/api/docs/big/export")
        assert r.status_code == 413 and "NEXUS_MAX_EXPORT_PIXELS" in r.json()["message"]
        assert (await http.get("/api/docs/big/export?scale=0.5")).status_code == 200


async def test_etag_revalidates_until_the_document_changes(http: httpx.AsyncClient) -> None:
    await http.post("/api/docs", json={"id": "cached"})
    first = await http.get("/api/docs/cached/thumbnail")
    etag = first.headers["etag"]
    again = await http.get("/api/docs/cached/thumbnail", headers={"If-None-Match": etag})
    assert again.status_code == 304
    await _upload_layer(http, "cached", png(seed=22))
    changed = await http.get("/api/docs/cached/thumbnail", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


async def test_document_renders_identically_on_repeat_and_from_a_replica(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    """Strokes, raster layers, hidden layers, mixed opacities and modes, built live by two
    people: the server's export is the same bytes every time and equals, pixel for pixel,
    what another client renders from its own replica."""
    doc = "mixed"
    await http.post("/api/docs?user=ann", json={"id": doc, "width": 240, "height": 160})
    photos = [png(120, 90, seed=s) for s in (31, 32, 33)]
    await _upload_layer(http, doc, photos[0], opacity="85")
    await _upload_layer(http, doc, photos[1], x="60.5", y="30", blend_mode="overlay")
    hidden = await _upload_layer(http, doc, photos[2], x="100", y="50", blend_mode="difference")
    async with (
        CanvasClient(running.url, doc, user="ann") as ann,
        CanvasClient(running.url, doc, user="ben") as ben,
    ):
        await ann.wait_synced()
        await ben.wait_synced()
        ann.canvas.update_layer(hidden, visible=False)
        ink = ann.canvas.add_layer("ink", kind="paint", opacity=75, blend_mode="multiply")
        for i, hardness in enumerate((1.0, 0.4, 0.0)):
            stroke = ann.canvas.begin_stroke(
                ink, color="#1050c0", size=6 + 4 * i, hardness=hardness, opacity=90 - 20 * i
            )
            ann.canvas.append_points(ink, stroke, [10 + 30 * i, 10, 120, 80 + 20 * i, 230, 150])
        wash = ben.canvas.add_layer("wash", kind="paint", blend_mode="vivid-light", opacity=60)
        stroke = ben.canvas.begin_stroke(wash, color="#f0a03080", size=40, hardness=0.2)
        ben.canvas.append_points(wash, stroke, [0, 80, 240, 80])
        ben.canvas.begin_stroke(wash, tool="eraser", size=10, points=[120, 0, 120, 160])
        ben.canvas.add_layer("grain", kind="paint", blend_mode="dissolve", opacity=50)
        await eventually(lambda: ben.canvas.content() == ann.canvas.content())
        room = Canvas(running.server.rooms.rooms[doc].doc)
        await eventually(lambda: room.content() == ben.canvas.content())

        exports = [(await http.get(f"/api/docs/{doc}/export")).content for _ in range(3)]
        assert exports[0] == exports[1] == exports[2]
        served = decode(exports[0])

        images = {}
        for layer in ben.canvas.read_layers():
            if layer.blob:
                images[layer.blob] = decode_rgba(
                    (await http.get(f"/api/blobs/{layer.blob}")).content
                )
        replica = render(Scene.from_canvas(ben.canvas), images)
        assert np.array_equal(served, replica)
        assert len(np.unique(served.reshape(-1, 4), axis=0)) > 1000  # a busy picture


@pytest.mark.timeout(180)
async def test_export_while_20_clients_edit(tmp_path: Path) -> None:
    """A heavy export runs while 20 clients draw; edits keep reaching everyone meanwhile."""
    settings = settings_for(tmp_path, room_idle_seconds=30.0)
    async with (
        serve(settings) as srv,
        httpx.AsyncClient(base_url=srv.http_url, timeout=120) as http,
    ):
        doc = "busy"
        await http.post("/api/docs", json={"id": doc, "width": 2048, "height": 2048})
        for seed, mode in enumerate(("multiply", "divide", "hue", "linear-light")):
            photo = png(1024, 1024, seed=40 + seed)
            await _upload_layer(http, doc, photo, x=str(seed * 300), blend_mode=mode)
        clients = [CanvasClient(srv.url, doc, user=f"u{i}") for i in range(20)]
        for c in clients:
            await c.start()
        try:
            for c in clients:
                await c.wait_synced()
            layer = clients[0].canvas.add_layer("ink", kind="paint", layer_id="ink")
            for c in clients:
                await c.wait_for(lambda c=c: "ink" in c.canvas.layer_ids())
            latencies: list[float] = []
            stop = asyncio.Event()

            async def draw(i: int) -> None:
                me, watcher = clients[i], clients[(i + 1) % 20]
                stroke = me.canvas.begin_stroke(layer, stroke_id=f"s{i}", size=3)
                await watcher.wait_for(lambda: f"s{i}" in _stroke_ids(watcher, layer))
                n = 0
                while not stop.is_set():
                    n += 1
                    sent = time.perf_counter()
                    me.canvas.append_points(layer, stroke, [n, i])
                    await watcher.wait_for(
                        lambda n=n: _points(watcher, layer, f"s{i}") >= 2 * n + 0
                    )
                    latencies.append(time.perf_counter() - sent)
                    await asyncio.sleep(0.05)

            drawers = [asyncio.create_task(draw(i)) for i in range(20)]
            await asyncio.sleep(1.0)
            before = len(latencies)
            started = time.perf_counter()
            r = await http.get(f"/api/docs/{doc}/export")
            export_s = time.perf_counter() - started
            during = latencies[before:]
            stop.set()
            await asyncio.gather(*drawers)
            assert r.status_code == 200 and decode(r.content).shape == (2048, 2048, 4)
            assert len(during) >= 20 * export_s  # edits kept flowing during the export
            assert max(during) < 2.0, (max(during), statistics.median(during))
        finally:
            for c in clients:
                await c.stop()


def _stroke_ids(client: CanvasClient, layer: str) -> set[str]:
    return {s.id for s in client.canvas.get_layer(layer).strokes}


def _points(client: CanvasClient, layer: str, stroke: str) -> int:
    for s in client.canvas.get_layer(layer).strokes:
        if s.id == stroke:
            return len(s.points)
    return 0
