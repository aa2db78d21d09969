"""Versions: name the current state, list versions, restore one as an undoable change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from canvasdoc.canvas import Canvas
from client import CanvasClient
from tests.support.servers import RunningServer
from tests.support.waiting import eventually


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


async def test_restore_brings_back_exactly_that_version_and_is_undoable(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    doc = "versions"
    async with (
        CanvasClient(running.url, doc, user="ann") as ann,
        CanvasClient(running.url, doc, user="ben") as ben,
    ):
        await ann.wait_synced()
        await ben.wait_synced()
        ann.canvas.init(name="Poster v1", width=800, height=600)
        sky = ann.canvas.add_layer("Sky", kind="paint", layer_id="sky")
        stroke = ann.canvas.begin_stroke(sky, color="#0000ff")
        ann.canvas.append_points(sky, stroke, [1, 2, 3, 4])
        await eventually(lambda: ben.canvas.content() == ann.canvas.content())
        v1_content = ann.canvas.content()

        r = await http.post(f"/api/docs/{doc}/versions?user=ann", json={"label": "first draft"})
        assert r.status_code == 201, r.text
        v1 = r.json()
        assert v1["label"] == "first draft" and v1["kind"] == "named"

        # Both users keep working.
        ben.canvas.update_layer(sky, name="Night sky", blend_mode="multiply")
        ben.canvas.add_layer("Moon", layer_id="moon")
        ann.canvas.set_meta(name="Poster v2")
        await eventually(lambda: ann.canvas.content() == ben.canvas.content())
        await ann.wait_for(lambda: "moon" in ann.canvas.layer_ids())
        before_restore = ben.canvas.content()
        assert before_restore != v1_content

        r = await http.get(f"/api/docs/{doc}/versions")
        assert r.status_code == 200
        assert v1["id"] in [v["id"] for v in r.json()["versions"]]

        r = await http.post(
            f"/api/docs/{doc}/versions/{v1['id']}/restore", headers={"X-User": "ann"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["can_undo"] is True
        for c in (ann, ben):
            await c.wait_for(lambda c=c: c.canvas.content() == v1_content)
        room_canvas = Canvas(running.server.rooms.rooms[doc].doc)
        assert room_canvas.content() == v1_content
        await eventually(
            lambda: any("restore version 'first draft'" in e["label"] for e in ben.canvas.history())
        )

        # The restore is one change of ann's: her undo brings back the state before it.
        reply = await ann.undo()
        assert reply["done"]
        for c in (ann, ben):
            await c.wait_for(lambda c=c: c.canvas.content() == before_restore)
        # ... and ben cannot undo it (it is not his change); his undo reverts his own work.
        await ben.undo()
        await eventually(
            lambda: "moon" not in Canvas(running.server.rooms.rooms[doc].doc).layer_ids()
        )

        # The log was not rewritten: a fresh client replays to the same state.
        async with CanvasClient(running.url, doc, user="late") as late:
            await late.wait_for(lambda: late.canvas.content() == room_canvas.content())


async def test_version_errors_are_clear_4xx(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    r = await http.get("/api/docs/ghost/versions")
    assert r.status_code == 404 and "ghost" in r.json()["message"]
    async with CanvasClient(running.url, "v-err", user="a") as a:
        await a.wait_synced()
        a.canvas.add_layer("x")
    r = await http.post("/api/docs/v-err/versions", content=b"{not json")
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    r = await http.post("/api/docs/v-err/versions", json=["a"])
    assert r.status_code == 400 and "JSON object" in r.json()["message"]
    r = await http.post("/api/docs/v-err/versions", json={"label": ""})
    assert r.status_code == 422 and "label" in r.json()["message"]
    r = await http.post("/api/docs/v-err/versions", json={"label": 5})
    assert r.status_code == 422 and "got 5" in r.json()["message"]
    r = await http.post("/api/docs/v-err/versions/abc/restore?user=a")
    assert r.status_code == 400 and "'abc'" in r.json()["message"]
    r = await http.post("/api/docs/v-err/versions/999999/restore?user=a")
    assert r.status_code == 404 and "999999" in r.json()["message"]
    r = await http.post("/api/docs/v-err/versions", content=b"x" * 100_000)
    assert r.status_code == 413
