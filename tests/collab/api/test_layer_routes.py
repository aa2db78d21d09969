"""The REST layer routes (add a paint layer, change, reorder, delete) against the embedded
server: each change reaches a connected Python client, is one undo step of the caller's that
nobody else's undo reverts, is named in the history as the caller's, and respects locks as
the browser does; bad values get 422 naming the field, unknown layers 404, viewers 403."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from canvasdoc.canvas import BLEND_MODES, Canvas
from client import CanvasClient
from collab.settings import Settings
from tests.collab.api.conftest import png
from tests.support.accounts import bearer, register
from tests.support.servers import RunningServer, settings_for

ANN = "?user=ann&name=Ann"


async def _document(http: httpx.AsyncClient, doc: str, *layers: str) -> list[str]:
    """A document of olga's with one raster layer per name, bottom first; their ids."""
    r = await http.post("/api/docs?user=olga", json={"id": doc, "width": 96, "height": 64})
    assert r.status_code == 201, r.text
    ids = []
    for seed, name in enumerate(layers):
        r = await http.post(
            f"/api/docs/{doc}/layers?user=olga",
            files={"image": ("a.png", png(16, 16, seed=seed))},
            data={"name": name},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def _undo(http: httpx.AsyncClient, doc: str, user: str) -> httpx.Response:
    return await http.post(f"/api/docs/{doc}/undo?user={user}")


def _history(running: RunningServer, doc: str, user: str) -> list[dict[str, Any]]:
    history = Canvas(running.server.rooms.rooms[doc].doc).history()
    return [entry for entry in history if entry["user"] == user]


async def test_each_change_reaches_a_client_and_only_the_callers_undo_reverts_it(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    # The default undo capture (500 ms) would merge quick edits: each call is still its own step.
    sky, sea = await _document(http, "board", "Sky", "Sea")
    async with CanvasClient(running.url, "board", user="bob", name="Bob") as bob:
        await bob.wait_synced()
        notes = bob.canvas.add_layer("Notes", kind="paint")
        await bob.wait_for(
            lambda: notes in Canvas(running.server.rooms.rooms["board"].doc).layer_ids()
        )

        # 1. Add a paint layer: on top, named, with the given properties.
        r = await http.post(
            f"/api/docs/board/paint-layers{ANN}", json={"name": "Ink", "opacity": 60, "x": 4}
        )
        assert r.status_code == 201, r.text
        ink = r.json()["id"]
        assert r.json()["index"] == 3 and r.json()["can_undo"] and r.json()["user"] == "ann"
        assert r.headers["location"] == f"/api/docs/board/layers/{ink}.png"
        await bob.wait_for(lambda: bob.canvas.layer_ids() == [sky, sea, notes, ink])
        layer = bob.canvas.get_layer(ink)
        assert (layer.kind, layer.name, layer.opacity, layer.x) == ("paint", "Ink", 60, 4)

        # 2. Change several properties in one request.
        r = await http.patch(
            f"/api/docs/board/layers/{ink}{ANN}",
            json={"name": "Ink 2", "blend_mode": "multiply", "visible": False, "y": -3.5},
        )
        assert r.status_code == 200, r.text
        assert (
            r.json()["layer"]["name"] == "Ink 2" and r.json()["layer"]["blend_mode"] == "multiply"
        )
        await bob.wait_for(lambda: bob.canvas.get_layer(ink).name == "Ink 2")
        layer = bob.canvas.get_layer(ink)
        assert (layer.blend_mode, layer.visible, layer.y, layer.opacity) == (
            "multiply",
            False,
            -3.5,
            60,
        )

        # 3. Reorder to the bottom.
        r = await http.post(f"/api/docs/board/layers/{ink}/reorder{ANN}", json={"index": 0})
        assert r.status_code == 200 and r.json()["index"] == 0, r.text
        await bob.wait_for(lambda: bob.canvas.layer_ids() == [ink, sky, sea, notes])

        # 4. Lock Sky: it keeps its place and position, but may still be renamed or reordered.
        r = await http.patch(f"/api/docs/board/layers/{sky}{ANN}", json={"locked": True})
        assert r.status_code == 200, r.text
        await bob.wait_for(lambda: bob.canvas.get_layer(sky).locked)
        for method, path, body in [
            ("PATCH", sky, {"x": 10}),
            ("PATCH", sky, {"y": 1, "locked": True, "name": "Sky!"}),
            ("DELETE", sky, None),
        ]:
            r = await http.request(method, f"/api/docs/board/layers/{path}{ANN}", json=body)
            assert r.status_code == 409 and r.json()["error"] == "layer_locked", r.text
            assert "'Sky'" in r.json()["message"] and "unlock" in r.json()["message"]
        assert bob.canvas.get_layer(sky).name == "Sky"  # the refused request changed nothing

        # 5. Delete Sea.
        r = await http.delete(f"/api/docs/board/layers/{sea}{ANN}")
        assert r.status_code == 200 and r.json()["name"] == "Sea", r.text
        await bob.wait_for(lambda: bob.canvas.layer_ids() == [ink, sky, notes])

        labels = [e["label"] for e in _history(running, "board", "ann")]
        assert {e["name"] for e in _history(running, "board", "ann")} == {"Ann"}
        # One entry per request; the PATCH's names its four changes in some order.
        assert len(labels) == 5 and labels[0] == "add layer 'Ink'" and "'Ink" in labels[1]
        assert labels[2:] == ["move layer 'Ink 2'", "lock 'Sky'", "remove layer 'Sea'"]

        # Nobody else's undo touches Ann's changes: Carol has nothing to undo, Bob's undo
        # (over REST, as another user) reverts only his own layer.
        r = await _undo(http, "board", "carol")
        assert r.status_code == 409 and r.json()["error"] == "nothing_to_undo"
        r = await _undo(http, "board", "bob")
        assert r.status_code == 200 and r.json()["done"], r.text
        await bob.wait_for(lambda: bob.canvas.layer_ids() == [ink, sky])
        assert bob.canvas.get_layer(ink).name == "Ink 2" and bob.canvas.get_layer(sky).locked

        # Ann's undo reverts her five changes, one request at a time, newest first.
        steps = [
            lambda: bob.canvas.layer_ids() == [ink, sky, sea],
            lambda: not bob.canvas.get_layer(sky).locked,
            lambda: bob.canvas.layer_ids() == [sky, sea, ink],
            lambda: bob.canvas.get_layer(ink).name == "Ink",
            lambda: bob.canvas.layer_ids() == [sky, sea],
        ]
        for step, reverted in enumerate(steps):
            r = await _undo(http, "board", "ann")
            assert r.status_code == 200 and r.json()["done"], (step, r.text)
            await bob.wait_for(reverted)
        layer = bob.canvas.get_layer(ink) if ink in bob.canvas.layer_ids() else None
        assert layer is None
        assert (await _undo(http, "board", "ann")).status_code == 409


async def test_bad_requests_name_the_field_and_change_nothing(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    sky, sea = await _document(http, "bad", "Sky", "Sea")
    before = (await http.get("/api/docs/bad")).json()["layers"]
    layer = f"/api/docs/bad/layers/{sky}{ANN}"
    patches = [
        ({"opacity": 140}, "opacity must be a number from 0 to 100, got 140"),
        ({"opacity": 50, "blend_mode": "multiplyy"}, "did you mean 'multiply'"),
        ({"visible": "yes"}, "visible must be true or false, got 'yes'"),
        ({"locked": 1}, "locked must be true or false, got 1"),
        ({"x": "12"}, "x must be a finite number, got '12'"),
        ({"y": 10**400}, "y must be a finite number"),
        ({"name": 5}, "name must be a string"),
        ({"name": "x" * 1001}, "name must be a string of at most 1000 characters"),
        ({"kind": "paint"}, "unknown field(s) 'kind'"),
        ({"blob": None, "name": "A"}, "unknown field(s) 'blob'"),
        ({}, "no field to change"),
    ]
    for body, named in patches:
        r = await http.patch(layer, json=body)
        assert r.status_code == 422 and r.json()["error"] == "invalid", (body, r.text)
        assert named in r.json()["message"], (body, r.json())
    for index, named in [
        (2, "index must be an integer from 0 to 1, got 2"),
        (-1, "index must be an integer from 0 to 1, got -1"),
        (0.5, "got 0.5"),
        (None, "got None"),
        (10**30, "index must be an integer from 0 to 1"),
    ]:
        r = await http.post(f"/api/docs/bad/layers/{sea}/reorder{ANN}", json={"index": index})
        assert r.status_code == 422 and named in r.json()["message"], (index, r.text)
    r = await http.post(f"/api/docs/bad/layers/{sea}/reorder{ANN}", json={})
    assert r.status_code == 422 and "index is required" in r.json()["message"]
    for body, named in [
        ({"index": 3}, "index must be an integer from 0 to 2, got 3"),
        ({"opacity": -1}, "opacity must be a number from 0 to 100, got -1"),
        ({"kind": "raster"}, "unknown field(s) 'kind'"),
        ({"name": None}, "name must be a string"),
    ]:
        r = await http.post(f"/api/docs/bad/paint-layers{ANN}", json=body)
        assert r.status_code == 422 and named in r.json()["message"], (body, r.text)
    # Bodies that are not a JSON object: 400.
    for content in (b"[1", b"[1]", b'"name"'):
        r = await http.patch(layer, content=content)
        assert r.status_code == 400 and r.json()["error"] == "bad_json", (content, r.text)
        r = await http.post(f"/api/docs/bad/paint-layers{ANN}", content=content)
        assert r.status_code == 400, (content, r.text)
    # Unknown layer or document: 404 naming it.
    for method, path, body in [
        ("PATCH", "/api/docs/bad/layers/nope", {"name": "A"}),
        ("DELETE", "/api/docs/bad/layers/nope", None),
        ("POST", "/api/docs/bad/layers/nope/reorder", {"index": 0}),
        ("PATCH", f"/api/docs/gone/layers/{sky}", {"name": "A"}),
        ("DELETE", f"/api/docs/gone/layers/{sky}", None),
        ("POST", f"/api/docs/gone/layers/{sky}/reorder", {"index": 0}),
        ("POST", "/api/docs/gone/paint-layers", {}),
    ]:
        r = await http.request(method, path + ANN, json=body)
        assert r.status_code == 404 and r.json()["error"] == "not_found", (method, path, r.text)
        assert ("'nope'" if "nope" in path else "'gone'") in r.json()["message"], r.text
    # A request that changes nothing is no undo step either.
    r = await http.patch(layer, json={"name": "Sky", "opacity": 100, "x": 0})
    assert r.status_code == 200 and not r.json()["can_undo"], r.text
    assert (await http.get("/api/docs/bad")).json()["layers"] == before
    assert _history(running, "bad", "ann") == []


class TestTokenMode:
    SECRET = "layer-routes-test-secret-" + "k" * 32

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return settings_for(tmp_path, auth_secret=self.SECRET, jobs_embedded_worker=False)

    async def test_a_viewer_gets_403_and_an_editor_may_change_layers(
        self, http: httpx.AsyncClient
    ) -> None:
        owner = bearer(await register(http, "olga"))
        viewer = bearer(await register(http, "vic"))
        editor = bearer(await register(http, "eda"))
        assert (await http.post("/api/docs", json={"id": "v"}, headers=owner)).status_code == 201
        for user, role in (("vic", "viewer"), ("eda", "editor")):
            r = await http.post(
                "/api/docs/v/members", json={"user": user, "role": role}, headers=owner
            )
            assert r.status_code == 200, r.text
        r = await http.post("/api/docs/v/paint-layers", json={"name": "Ink"}, headers=owner)
        assert r.status_code == 201, r.text
        ink = r.json()["id"]
        before = (await http.get("/api/docs/v", headers=viewer)).json()["layers"]
        calls: list[tuple[str, str, dict[str, Any] | None]] = [
            ("POST", "/api/docs/v/paint-layers", {}),
            ("PATCH", f"/api/docs/v/layers/{ink}", {"opacity": 10}),
            ("POST", f"/api/docs/v/layers/{ink}/reorder", {"index": 0}),
            ("DELETE", f"/api/docs/v/layers/{ink}", None),
        ]
        for method, path, body in calls:
            r = await http.request(method, path, json=body, headers=viewer)
            assert r.status_code == 403 and r.json()["error"] == "forbidden", (method, path, r.text)
            r = await http.request(method, path, json=body)
            assert r.status_code == 401, (method, path, r.text)
        assert (await http.get("/api/docs/v", headers=viewer)).json()["layers"] == before
        r = await http.patch(f"/api/docs/v/layers/{ink}", json={"opacity": 10}, headers=editor)
        assert r.status_code == 200 and r.json()["user"] != "olga", r.text
        r = await http.delete(f"/api/docs/v/layers/{ink}", headers=editor)
        assert r.status_code == 200, r.text


async def test_the_openapi_description_lists_the_routes_and_every_blend_mode(
    http: httpx.AsyncClient,
) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    layer = paths["/api/docs/{doc_id}/layers/{layer_id}"]
    assert set(layer) == {"patch", "delete"}
    assert "/api/docs/{doc_id}/layers/{layer_id}/reorder" in paths
    assert "409" in layer["patch"]["responses"] and "409" in layer["delete"]["responses"]
    for operation in (layer["patch"], paths["/api/docs/{doc_id}/paint-layers"]["post"]):
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body["properties"]["blend_mode"]["enum"] == list(BLEND_MODES)
        assert body["additionalProperties"] is False


async def test_the_layer_pixels_path_keeps_its_own_methods(http: httpx.AsyncClient) -> None:
    (sky,) = await _document(http, "px", "Sky")
    r = await http.patch(f"/api/docs/px/layers/{sky}.png{ANN}", json={"name": "A"})
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD", r.headers
    r = await http.get(f"/api/docs/px/layers/{sky}{ANN}")
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, PATCH", r.headers
