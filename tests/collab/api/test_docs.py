"""Documents over REST, and adding a raster layer from an upload in one step."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from canvasdoc.canvas import Canvas
from client import CanvasClient
from persistence.errors import DocumentNotFound
from tests.collab.api.conftest import encode, png
from tests.support.accounts import bearer, register
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.waiting import eventually

SECRET = "test-secret-" + "k" * 32


async def test_create_read_list_delete(running: RunningServer, http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/api/docs?user=ann",
        json={"id": "poster", "name": "Poster", "width": 800, "height": 600, "dpi": 300,
              "background": "transparent"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] == "poster" and created["owner"] == "ann"
    assert r.headers["location"] == "/api/docs/poster"

    doc = (await http.get("/api/docs/poster")).json()
    assert (doc["name"], doc["width"], doc["height"], doc["dpi"]) == ("Poster", 800, 600, 300)
    assert doc["background"] == "transparent" and doc["layers"] == []

    generated = (await http.post("/api/docs", json={})).json()
    assert len(generated["id"]) == 32 and generated["width"] == 1024

    listing = (await http.get("/api/docs?limit=1")).json()
    assert [d["id"] for d in listing["documents"]] == ["poster"]
    assert listing["next_offset"] == 1
    rest = (await http.get("/api/docs?limit=1&offset=1")).json()
    assert [d["id"] for d in rest["documents"]] == [generated["id"]]
    assert rest["next_offset"] is None

    r = await http.delete("/api/docs/poster")
    assert r.status_code == 204
    assert (await http.get("/api/docs/poster")).status_code == 404
    assert (await http.delete("/api/docs/poster")).status_code == 404
    await running.server.writer.flush("poster")
    assert [d["id"] for d in (await http.get("/api/docs")).json()["documents"]] == [generated["id"]]


async def test_create_refuses_bad_fields_naming_them(http: httpx.AsyncClient) -> None:
    cases = [
        ({"width": 0}, 422, "width must be an integer from 1 to 32768, got 0"),
        ({"background": "blue"}, 422, "background"),
        ({"dpi": 1.5}, 422, "dpi"),
        ({"colour": "red"}, 422, "unknown field(s) 'colour'"),
        ({"id": "bad id!"}, 400, "document id"),
        ({"id": 7}, 422, "id must be a string"),
    ]
    for body, status, named in cases:
        r = await http.post("/api/docs", json=body)
        assert r.status_code == status, (body, r.text)
        assert named in r.json()["message"]
    assert (await http.post("/api/docs", content=b"[1")).status_code == 400
    assert (await http.post("/api/docs", json={"id": "dup"})).status_code == 201
    r = await http.post("/api/docs", json={"id": "dup"})
    assert r.status_code == 409 and r.json()["error"] == "document_exists"
    r = await http.get("/api/docs?limit=0")
    assert r.status_code == 422 and "limit" in r.json()["message"]


async def test_delete_is_refused_while_people_are_connected(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    await http.post("/api/docs", json={"id": "busy"})
    async with CanvasClient(running.url, "busy", user="ann") as ann:
        await ann.wait_synced()
        r = await http.delete("/api/docs/busy")
        assert r.status_code == 409 and r.json()["error"] == "document_in_use"
    await eventually(lambda: not running.server.rooms.rooms["busy"].connections)
    assert (await http.delete("/api/docs/busy")).status_code == 204


async def test_layer_upload_is_one_change_of_the_caller_seen_by_everyone(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    await http.post("/api/docs?user=ann", json={"id": "collage", "width": 200, "height": 100})
    data = png(30, 20, seed=11)
    async with CanvasClient(running.url, "collage", user="ben") as ben:
        await ben.wait_synced()
        r = await http.post(
            "/api/docs/collage/layers",
            headers={"X-User": "ann", "X-User-Name": "Ann"},
            files={"image": ("sky photo.png", data, "image/png")},
            data={"blend_mode": "screen", "opacity": "70", "x": "12.5", "y": "-4"},
        )
        assert r.status_code == 201, r.text
        answer = r.json()
        layer_id = answer["id"]
        assert answer["blob"] == hashlib.sha256(data).hexdigest()
        assert (answer["width"], answer["height"]) == (30, 20)
        assert answer["layer"] | {"id": layer_id} == {
            "id": layer_id, "name": "sky photo", "kind": "raster", "blend_mode": "screen",
            "opacity": 70.0, "visible": True, "locked": False, "x": 12.5, "y": -4.0,
            "blob": answer["blob"], "strokes": 0, "provenance": None,
            "proposal": None,
        }  # fmt: skip
        assert r.headers["location"] == f"/api/docs/collage/layers/{layer_id}.png"

        await ben.wait_for(lambda: layer_id in ben.canvas.layer_ids())
        assert ben.canvas.get_layer(layer_id).blob == answer["blob"]
        await ben.wait_for(
            lambda: any(
                e.get("user") == "ann" and "add layer 'sky photo'" in str(e.get("label"))
                for e in ben.canvas.history()
            )
        )
        assert (await http.get(f"/api/blobs/{answer['blob']}")).content == data

        # It is ann's change: her undo removes it, for everyone.
        r = await http.post("/api/docs/collage/undo?user=ann")
        assert r.status_code == 200 and r.json()["done"] is True
        await ben.wait_for(lambda: layer_id not in ben.canvas.layer_ids())


async def test_layer_upload_refusals(running: RunningServer, http: httpx.AsyncClient) -> None:
    await http.post("/api/docs", json={"id": "strict"})
    image = ("a.png", png(seed=12), "image/png")
    cases = [
        ({"image": image}, {"blend_mode": "multipy"}, 422, "did you mean 'multiply'"),
        ({"image": image}, {"opacity": "140"}, 422, "opacity must be a number from 0 to 100"),
        ({"image": image}, {"x": "left"}, 422, "x must be a finite number"),
        ({"image": image}, {"y": "nan"}, 422, "y must be a finite number"),
        ({"picture": image}, {}, 422, "'image'"),
        ({"image": ("a.gif", encode_gif(), "image/gif")}, {}, 415, "GIF"),
    ]
    for files, data, status, named in cases:
        r = await http.post("/api/docs/strict/layers", files=files, data=data)
        assert r.status_code == status, (data, r.text)
        assert named in r.json()["message"]
    assert (await http.get("/api/docs/strict")).json()["layers"] == []
    assert await running.server.store.list_blob_hashes() == []
    r = await http.post("/api/docs/nowhere/layers", files={"image": image})
    assert r.status_code == 404


def encode_gif() -> bytes:
    from PIL import Image

    return encode(Image.new("RGB", (4, 4)), "GIF")


async def test_rename_changes_the_list_and_the_live_meta_as_the_callers_change(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    await http.post("/api/docs?user=zed", json={"id": "named", "name": "Draft"})
    async with CanvasClient(running.url, "named", user="bob") as other:
        await other.wait_synced()
        r = await http.patch("/api/docs/named?user=ann&name=Ann", json={"name": "Final poster"})
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "Final poster" and r.json()["owner"] == "zed"
        await eventually(lambda: other.canvas.read_meta().name == "Final poster")
        assert other.canvas.history()[-1]["user"] == "ann"
    listing = (await http.get("/api/docs")).json()["documents"]
    assert [d["name"] for d in listing if d["id"] == "named"] == ["Final poster"]
    assert (await http.post("/api/docs/named/undo?user=ann")).status_code == 200
    assert (await http.get("/api/docs/named")).json()["name"] == "Draft"


async def test_rename_refusals_name_the_problem(http: httpx.AsyncClient) -> None:
    await http.post("/api/docs", json={"id": "keep", "name": "Keep"})
    r = await http.patch("/api/docs/keep", json={"name": 5})
    assert r.status_code == 422 and "name" in r.json()["message"]
    r = await http.patch("/api/docs/keep", json={})
    assert r.status_code == 422 and "name is required" in r.json()["message"]
    r = await http.patch("/api/docs/keep", json={"name": "x", "width": 3})
    assert r.status_code == 422 and "'width'" in r.json()["message"]
    r = await http.patch("/api/docs/keep", json={"name": "x" * 1001})
    assert r.status_code == 422
    assert (await http.patch("/api/docs/nope", json={"name": "x"})).status_code == 404
    assert (await http.patch("/api/docs/bad%20id", json={"name": "x"})).status_code == 400
    assert (await http.get("/api/docs/keep")).json()["name"] == "Keep"


async def _names(http: httpx.AsyncClient, doc_id: str) -> tuple[str | None, str]:
    """The name ``GET /api/docs`` lists for ``doc_id`` (None: not listed) and the one
    ``GET /api/docs/{doc_id}`` shows."""
    listed = (await http.get("/api/docs")).json()["documents"]
    in_list = next((d["name"] for d in listed if d["id"] == doc_id), None)
    r = await http.get(f"/api/docs/{doc_id}")
    assert r.status_code == 200, r.text
    return in_list, r.json()["name"]


async def test_list_and_get_agree_on_the_name(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, room_idle_seconds=0.2)
    async with (
        serve(settings) as srv,
        httpx.AsyncClient(base_url=srv.http_url, timeout=60) as http,
    ):
        # Named by a Yjs client, not over REST: the row was created by its first edit.
        async with CanvasClient(srv.url, "by-ws", user="ann") as ann:
            await ann.wait_synced()
            ann.canvas.init(name="Poster", width=640, height=480)
            await srv.server.writer.flush("by-ws")
            await eventually(lambda: "by-ws" in srv.server.rooms.rooms)
            assert await _names(http, "by-ws") == ("Poster", "Poster")
            ann.canvas.set_meta(name="Poster v2")
            await eventually(
                lambda: Canvas(srv.server.rooms.rooms["by-ws"].doc).read_meta().name == "Poster v2"
            )
            assert await _names(http, "by-ws") == ("Poster v2", "Poster v2")
        # Unloaded, the list reads the stored row, which the room's save renamed.
        await eventually(lambda: "by-ws" not in srv.server.rooms.rooms)
        assert (await srv.server.store.get_document("by-ws")).name == "Poster v2"
        assert await _names(http, "by-ws") == ("Poster v2", "Poster v2")

        # A REST rename undone by its author: both go back to the first name.
        r = await http.post("/api/docs?user=al", json={"id": "renamed", "name": "First"})
        assert r.status_code == 201, r.text
        r = await http.patch("/api/docs/renamed?user=bo", json={"name": "Second"})
        assert r.status_code == 200 and r.json()["name"] == "Second"
        assert await _names(http, "renamed") == ("Second", "Second")
        r = await http.post("/api/docs/renamed/undo?user=bo")
        assert r.status_code == 200, r.text
        assert await _names(http, "renamed") == ("First", "First")
        await eventually(lambda: "renamed" not in srv.server.rooms.rooms)
        assert await _names(http, "renamed") == ("First", "First")


async def test_opening_a_mistyped_id_stores_nothing(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    store = running.server.store
    assert store.kind == "sqlite"  # the embedded default
    async with CanvasClient(running.url, "postr", user="ann") as typo:
        await typo.wait_synced()
        assert (await http.get("/api/docs/postr")).status_code == 404
    await eventually(lambda: "postr" not in running.server.rooms.rooms)
    assert (await http.get("/api/docs/postr")).status_code == 404
    assert (await http.get("/api/docs")).json()["documents"] == []
    with pytest.raises(DocumentNotFound):
        await store.get_document("postr")
    assert (await store.load("postr")).last_seq == 0

    # The first edit creates it: listed and readable at once, with what was drawn.
    async with CanvasClient(running.url, "poster", user="ann") as ann:
        await ann.wait_synced()
        ann.canvas.add_layer("Sky", layer_id="sky")
        await eventually(
            lambda: "sky" in Canvas(running.server.rooms.rooms["poster"].doc).layer_ids()
        )
        await running.server.writer.flush("poster")
    r = await http.get("/api/docs/poster")
    assert r.status_code == 200 and [layer["id"] for layer in r.json()["layers"]] == ["sky"]
    assert [d["id"] for d in (await http.get("/api/docs")).json()["documents"]] == ["poster"]


async def test_token_mode_claim_without_an_edit_leaves_nothing(tmp_path: Path) -> None:
    async with (
        serve(settings_for(tmp_path, auth_secret=SECRET)) as srv,
        httpx.AsyncClient(base_url=srv.http_url, timeout=60) as http,
    ):
        alice = await register(http, "alice")
        bob = await register(http, "bob")
        # Today's rule holds while alice is connected: the first opener owns the new document.
        async with CanvasClient(srv.url, "draft", token=alice) as a:
            await a.wait_synced()
            r = await http.get("/api/docs/draft", headers=bearer(bob))
            assert r.status_code == 403, r.text
        await eventually(lambda: "draft" not in srv.server.rooms.rooms)
        for token in (alice, bob):
            assert (await http.get("/api/docs/draft", headers=bearer(token))).status_code == 404
            listed = (await http.get("/api/docs", headers=bearer(token))).json()["documents"]
            assert listed == []
        # Edited, it stays, owned by its first opener.
        async with CanvasClient(srv.url, "draft", token=bob) as b:
            await b.wait_synced()
            b.canvas.add_layer("Ink", layer_id="ink")
            await eventually(
                lambda: "ink" in Canvas(srv.server.rooms.rooms["draft"].doc).layer_ids()
            )
        await eventually(lambda: "draft" not in srv.server.rooms.rooms)
        r = await http.get("/api/docs/draft", headers=bearer(bob))
        assert r.status_code == 200 and r.json()["owner_name"] == "bob"
        assert (await http.get("/api/docs/draft", headers=bearer(alice))).status_code == 403
