"""A version previewed read-only: its canvas JSON, thumbnail and rendered image come from the
stored snapshot, not the live document; bad ids are 400/404; viewers may preview."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np

from canvasdoc.canvas import Canvas
from client import CanvasClient
from tests.collab.api.conftest import decode, png
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.waiting import eventually

SECRET = "test-secret-" + "v" * 32


async def _named_version(http: httpx.AsyncClient, doc: str, label: str, **auth: str) -> int:
    r = await http.post(f"/api/docs/{doc}/versions", json={"label": label}, headers=auth)
    assert r.status_code == 201, r.text
    version_id: int = r.json()["id"]
    return version_id


async def test_a_named_version_previews_as_it_was_before_a_paint(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    doc = "vp"
    r = await http.post("/api/docs?user=ann", json={"id": doc, "width": 120, "height": 80})
    assert r.status_code == 201, r.text
    r = await http.post(
        f"/api/docs/{doc}/layers?user=ann", files={"image": ("a.png", png(60, 40, seed=3))}
    )
    assert r.status_code == 201, r.text
    before_export = (await http.get(f"/api/docs/{doc}/export")).content
    before_thumb = (await http.get(f"/api/docs/{doc}/thumbnail?size=64")).content
    v1 = await _named_version(http, doc, "before paint", **{"X-User": "ann"})

    async with CanvasClient(running.url, doc, user="ann") as ann:
        await ann.wait_synced()
        paint = ann.canvas.add_layer("Paint", kind="paint", layer_id="paint")
        ann.canvas.begin_stroke(paint, color="#ff0000", size=20, points=[0, 0, 119, 79, 0, 79])
        room = running.server.rooms.rooms[doc]
        await eventually(lambda: Canvas(room.doc).content() == ann.canvas.content())

    after_export = (await http.get(f"/api/docs/{doc}/export")).content
    after_thumb = (await http.get(f"/api/docs/{doc}/thumbnail?size=64")).content
    assert not np.array_equal(decode(after_export), decode(before_export))

    # The list gives a panel what it needs; its URLs answer.
    r = await http.get(f"/api/docs/{doc}/versions")
    listed = next(v for v in r.json()["versions"] if v["id"] == v1)
    assert listed["kind"] == "named" and listed["label"] == "before paint"
    assert isinstance(listed["created_at"], float)
    base = f"/api/docs/{doc}/versions/{v1}"
    assert (listed["url"], listed["thumbnail_url"], listed["preview_url"]) == (
        base,
        f"{base}/thumbnail",
        f"{base}/preview",
    )

    r = await http.get(f"{listed['thumbnail_url']}?size=64")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    version_thumb = decode(r.content)
    assert version_thumb.shape == (43, 64, 4)
    assert np.array_equal(version_thumb, decode(before_thumb))
    assert not np.array_equal(version_thumb, decode(after_thumb))
    default_thumb = decode((await http.get(listed["thumbnail_url"])).content)
    assert default_thumb.shape == (80, 120, 4)  # 256 by default, never enlarged

    r = await http.get(listed["preview_url"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"] == f'inline; filename="{doc}-v{v1}.png"'
    assert np.array_equal(decode(r.content), decode(before_export))
    assert not np.array_equal(decode(r.content), decode(after_export))
    assert decode((await http.get(f"{base}/preview?scale=0.5")).content).shape == (40, 60, 4)
    r = await http.get(f"{base}/preview?format=jpeg&quality=70")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"

    # A version never changes: a repeated request is answered 304 by its ETag.
    etag = (await http.get(base + "/preview")).headers["etag"]
    r = await http.get(base + "/preview", headers={"If-None-Match": etag})
    assert r.status_code == 304 and not r.content
    r = await http.get(base + "/preview?scale=0.5", headers={"If-None-Match": etag})
    assert r.status_code == 200

    # Its canvas JSON is the live document's shape, with the version's layers.
    r = await http.get(base)
    assert r.status_code == 200, r.text
    version = r.json()
    live = (await http.get(f"/api/docs/{doc}")).json()
    assert version["id"] == doc and version["version"]["id"] == v1
    assert version["version"]["label"] == "before paint"
    assert (version["width"], version["height"]) == (120, 80)
    assert [layer["kind"] for layer in version["layers"]] == ["raster"]
    assert [layer["id"] for layer in live["layers"]][-1] == "paint"
    assert version["layers"][0] == live["layers"][0]

    # Previewing changed nothing: the live document still has the paint.
    assert "paint" in Canvas(running.server.rooms.rooms[doc].doc).layer_ids()


async def test_bad_version_and_document_ids(http: httpx.AsyncClient) -> None:
    for doc in ("ids-a", "ids-b"):
        r = await http.post("/api/docs", json={"id": doc, "width": 16, "height": 16})
        assert r.status_code == 201, r.text
    v = await _named_version(http, "ids-a", "one")
    assert (await http.get(f"/api/docs/ids-a/versions/{v}/thumbnail")).status_code == 200

    for suffix in ("", "/thumbnail", "/preview"):
        for raw in ("abc", "1_0", "1.5", "0x1", "--1"):
            r = await http.get(f"/api/docs/ids-a/versions/{raw}{suffix}")
            assert r.status_code == 400, (raw, suffix, r.text)
            assert r.json()["error"] == "bad_request" and repr(raw) in r.json()["message"]
        for raw in ("999999", "9" * 40, "-1"):
            r = await http.get(f"/api/docs/ids-a/versions/{raw}{suffix}")
            assert r.status_code == 404, (raw, suffix, r.text)
            assert raw in r.json()["message"] and "'ids-a'" in r.json()["message"]
        # A version of another document is unknown here.
        r = await http.get(f"/api/docs/ids-b/versions/{v}{suffix}")
        assert r.status_code == 404 and f"no version {v}" in r.json()["message"]
        r = await http.get(f"/api/docs/ghost/versions/{v}{suffix}")
        assert r.status_code == 404 and "ghost" in r.json()["message"]
        r = await http.get(f"/api/docs/bad%20id/versions/{v}{suffix}")
        assert r.status_code == 400 and "bad id" in r.json()["message"]

    r = await http.post("/api/docs/ids-a/versions/1_0/restore")
    assert r.status_code == 400 and "'1_0'" in r.json()["message"]
    r = await http.get(f"/api/docs/ids-a/versions/{v}/thumbnail?size=8")
    assert r.status_code == 422 and "size" in r.json()["message"]
    r = await http.get(f"/api/docs/ids-a/versions/{v}/preview?scale=0")
    assert r.status_code == 422 and "scale" in r.json()["message"]
    r = await http.get(f"/api/docs/ids-a/versions/{v}/preview?format=gif")
    assert r.status_code == 422 and "format" in r.json()["message"]


async def test_a_version_too_large_to_render_is_refused(tmp_path: Path) -> None:
    async with (
        serve(settings_for(tmp_path, max_export_pixels=10_000)) as srv,
        httpx.AsyncClient(base_url=srv.http_url) as http,
    ):
        await http.post("/api/docs", json={"id": "big", "width": 200, "height": 100})
        v = await _named_version(http, "big", "big")
        r = await http.get(f"/api/docs/big/versions/{v}/preview")
        assert r.status_code == 413 and "20000" in r.json()["message"]
        assert (await http.get(f"/api/docs/big/versions/{v}/preview?scale=0.5")).status_code == 200


async def test_a_viewer_may_preview_and_a_stranger_may_not(tmp_path: Path) -> None:
    async with (
        serve(settings_for(tmp_path, auth_secret=SECRET)) as srv,
        httpx.AsyncClient(base_url=srv.http_url) as http,
    ):
        tokens = {}
        for name in ("olivia", "sam"):
            r = await http.post(
                "/api/auth/register", json={"name": name, "password": "pw-" + name * 3}
            )
            assert r.status_code == 200, r.text
            tokens[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        owner, stranger = tokens["olivia"], tokens["sam"]
        r = await http.post(
            "/api/docs", json={"id": "plan", "width": 32, "height": 32}, headers=owner
        )
        assert r.status_code == 201, r.text
        v = await _named_version(http, "plan", "draft", **owner)
        r = await http.post("/api/docs/plan/links", json={"role": "viewer"}, headers=owner)
        assert r.status_code == 201, r.text
        viewer = {"Authorization": f"Bearer {r.json()['token']}"}

        paths = [
            "/api/docs/plan/versions",
            f"/api/docs/plan/versions/{v}",
            f"/api/docs/plan/versions/{v}/thumbnail",
            f"/api/docs/plan/versions/{v}/preview",
        ]
        for path in paths:
            r = await http.get(path, headers=viewer)
            assert r.status_code == 200, (path, r.text)
            r = await http.get(path, headers=stranger)
            assert r.status_code == 403 and "may not view" in r.json()["message"], path
            assert (await http.get(path)).status_code == 401, path
        # <img> cannot send headers: the token may come as ?token=.
        r = await http.get(
            f"/api/docs/plan/versions/{v}/thumbnail?token={viewer['Authorization'][7:]}"
        )
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        # Previewing is read-only; restoring is an edit.
        r = await http.post(f"/api/docs/plan/versions/{v}/restore", headers=viewer)
        assert r.status_code == 403 and "may not edit" in r.json()["message"]
