"""Per-user server-side undo/redo: only the caller's own changes, from any connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from canvasdoc.canvas import Canvas
from client import CanvasClient
from collab.settings import Settings
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.waiting import eventually


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Every change its own undo step, so the test controls the steps exactly.
    return settings_for(tmp_path, undo_capture_ms=0)


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


def _room_canvas(srv: RunningServer, doc_id: str) -> Canvas:
    return Canvas(srv.server.rooms.rooms[doc_id].doc)


def _x(srv: RunningServer, doc_id: str) -> float:
    canvas = _room_canvas(srv, doc_id)
    return canvas.get_layer("L").x if "L" in canvas.layer_ids() else -1


async def _converged(srv: RunningServer, doc_id: str, *clients: CanvasClient) -> dict:
    def same() -> bool:
        server = _room_canvas(srv, doc_id).content()
        return all(c.canvas.content() == server for c in clients)

    await eventually(same)
    return _room_canvas(srv, doc_id).content()


async def test_each_user_undoes_exactly_their_own_last_change(running: RunningServer) -> None:
    doc = "undo3"
    async with (
        CanvasClient(running.url, doc, user="ann") as ann,
        CanvasClient(running.url, doc, user="ben") as ben,
        CanvasClient(running.url, doc, user="cat") as cat,
    ):
        for c in (ann, ben, cat):
            await c.wait_synced()
        sky = ann.canvas.add_layer("Sky", layer_id="sky")
        await _converged(running, doc, ann, ben, cat)

        async def step(client: CanvasClient, **props: object) -> None:
            client.canvas.update_layer(sky, **props)
            await _converged(running, doc, ann, ben, cat)

        await step(ann, opacity=10)
        await step(ben, name="Ben's sky")
        await step(cat, blend_mode="screen")
        await step(ann, x=5)
        await step(ben, visible=False)

        def layer() -> tuple[object, ...]:
            la = _room_canvas(running, doc).get_layer(sky)
            return (la.opacity, la.name, la.blend_mode, la.x, la.visible)

        assert layer() == (10, "Ben's sky", "screen", 5, False)
        reply = await ann.undo()  # ann's last: x=5
        assert reply["done"] and reply["can_undo"] and reply["can_redo"]
        await _converged(running, doc, ann, ben, cat)
        assert layer() == (10, "Ben's sky", "screen", 0, False)
        await cat.undo()  # cat's only change: blend mode
        await _converged(running, doc, ann, ben, cat)
        assert layer() == (10, "Ben's sky", "normal", 0, False)
        await ben.undo()  # ben's last: hidden
        await _converged(running, doc, ann, ben, cat)
        assert layer() == (10, "Ben's sky", "normal", 0, True)
        await ben.undo()  # ben's first: rename
        await _converged(running, doc, ann, ben, cat)
        assert layer() == (10, "Sky", "normal", 0, True)
        state = await ben.undo_state()
        assert state["can_undo"] is False and state["can_redo"] is True

        await ann.redo()
        await _converged(running, doc, ann, ben, cat)
        assert layer() == (10, "Sky", "normal", 5, True)
        await cat.redo()
        await ben.redo()
        await _converged(running, doc, ann, ben, cat)
        assert layer() == (10, "Ben's sky", "screen", 5, True)


async def test_undo_of_a_change_someone_overwrote_follows_yjs_and_converges(
    running: RunningServer,
) -> None:
    doc = "overwrite"
    async with (
        CanvasClient(running.url, doc, user="ann") as ann,
        CanvasClient(running.url, doc, user="ben") as ben,
    ):
        await ann.wait_synced()
        await ben.wait_synced()
        layer = ann.canvas.add_layer("L", layer_id="L")
        await _converged(running, doc, ann, ben)
        ann.canvas.update_layer(layer, opacity=10)
        await _converged(running, doc, ann, ben)
        ben.canvas.update_layer(layer, opacity=20)
        await _converged(running, doc, ann, ben)
        # ann's opacity was overwritten by ben, so there is nothing of it to revert: as in
        # Yjs, undo skips that step and reverts ann's previous change, the layer's creation.
        reply = await ann.undo()
        assert reply["done"]
        await _converged(running, doc, ann, ben)
        assert _room_canvas(running, doc).layer_ids() == []
        await ann.redo()
        await _converged(running, doc, ann, ben)
        await ben.undo()
        await ben.redo()
        await ann.undo()
        await _converged(running, doc, ann, ben)
        assert ann.connected and ben.connected


async def test_undo_from_another_connection_after_the_first_left(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    doc = "two-conn"
    async with CanvasClient(running.url, doc, user="dana") as first:
        await first.wait_synced()
        first.canvas.add_layer("keep", layer_id="keep")
        await eventually(lambda: "keep" in _room_canvas(running, doc).layer_ids())
        first.canvas.add_layer("oops", layer_id="oops")
        await eventually(lambda: "oops" in _room_canvas(running, doc).layer_ids())
    async with CanvasClient(running.url, doc, user="dana") as second:
        await second.wait_synced()
        reply = await second.undo()
        assert reply["done"]
        await second.wait_for(lambda: second.canvas.layer_ids() == ["keep"])
    # And over REST, with the X-User header: the next undo removes "keep".
    response = await http.post(f"/api/docs/{doc}/undo", headers={"X-User": "dana"})
    assert response.status_code == 200, response.text
    assert response.json()["can_undo"] is False
    await eventually(lambda: _room_canvas(running, doc).layer_ids() == [])
    response = await http.post(f"/api/docs/{doc}/redo?user=dana")
    assert response.status_code == 200 and response.json()["can_redo"] is True
    await eventually(lambda: _room_canvas(running, doc).layer_ids() == ["keep"])


async def test_a_200_point_stroke_undoes_in_one_step(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path, undo_capture_ms=500)) as srv:
        async with CanvasClient(srv.url, "stroke", user="eve") as eve:
            await eve.wait_synced()
            layer = eve.canvas.add_layer("Paint", kind="paint", layer_id="paint")
            await eventually(lambda: "paint" in _room_canvas(srv, "stroke").layer_ids())
            await asyncio.sleep(0.6)  # the layer creation is its own step
            stroke = eve.canvas.begin_stroke(layer, color="#ff0000")
            for i in range(200):  # 200 separate updates, as a live brush sends them
                eve.canvas.append_points(layer, stroke, [i, i * 2])
                await asyncio.sleep(0.002)

            def points() -> int:
                strokes = _room_canvas(srv, "stroke").get_layer(layer).strokes
                return len(strokes[0].points) if strokes else 0

            await eventually(lambda: points() == 400)
            room = srv.server.rooms.rooms["stroke"]
            assert room.undo.depth("eve") == 2
            await eve.undo()
            await eventually(lambda: _room_canvas(srv, "stroke").get_layer(layer).strokes == ())
            assert room.undo.depth("eve") == 1  # the layer itself is still undoable


async def test_undo_stack_depth_is_bounded(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, undo_capture_ms=0, undo_max_depth=5)
    async with serve(settings) as srv, CanvasClient(srv.url, "deep", user="fay") as fay:
        await fay.wait_synced()
        layer = fay.canvas.add_layer("L", layer_id="L")
        for i in range(60):
            fay.canvas.update_layer(layer, x=i + 1)
        await eventually(lambda: _x(srv, "deep") == 60)
        room = srv.server.rooms.rooms["deep"]
        assert 5 <= room.undo.depth("fay") <= 5 + 16
        undone = 0
        while (await fay.undo())["can_undo"]:
            undone += 1
        assert 5 <= undone + 1 <= 5 + 16
        # The oldest changes are out of reach: the layer still exists with a late x.
        await eventually(lambda: _x(srv, "deep") > 30)


async def test_undo_errors_are_clear_4xx(running: RunningServer, http: httpx.AsyncClient) -> None:
    r = await http.post("/api/docs/nope/undo?user=zed")
    assert r.status_code == 404 and "nope" in r.json()["message"]
    # Created by someone else: zed has nothing to undo (a connection alone creates nothing).
    r = await http.post("/api/docs", json={"id": "exists"}, headers={"X-User": "yan"})
    assert r.status_code == 201, r.text
    r = await http.post("/api/docs/exists/undo?user=zed")
    assert r.status_code == 409 and r.json()["error"] == "nothing_to_undo"
    assert "'zed'" in r.json()["message"]
    r = await http.post("/api/docs/exists/redo", headers={"X-User": "bad user!"})
    assert r.status_code == 400 and "bad user!" in r.json()["message"]
    r = await http.post("/api/docs/bad%20id/undo?user=zed")
    assert r.status_code == 400 and "document id" in r.json()["message"]
    r = await http.get("/api/docs/exists/undo?user=zed")
    assert r.status_code == 405
    # A command with an unknown op over the WebSocket gets an error reply, not a crash.
    async with CanvasClient(running.url, "exists", user="zed") as z:
        await z.wait_synced()
        with pytest.raises(RuntimeError, match="unknown op 'explode'"):
            await z._command("explode", 5)
        assert z.connected
