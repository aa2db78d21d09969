"""Blob upload and download: dedup, caching headers, refusals with the right status."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from PIL import Image

from collab.settings import Settings
from tests.collab.api.conftest import encode, png
from tests.support.servers import RunningServer, serve, settings_for


async def test_same_image_twice_stores_one_blob(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    data = png()
    digest = hashlib.sha256(data).hexdigest()
    first = await http.put("/api/blobs", content=data, headers={"Content-Type": "image/png"})
    assert first.status_code == 201, first.text
    assert first.json() == {
        "sha256": digest,
        "size": len(data),
        "media_type": "image/png",
        "width": 64,
        "height": 48,
        "created": True,
        "url": f"/api/blobs/{digest}",
    }
    assert first.headers["location"] == f"/api/blobs/{digest}"
    second = await http.post("/api/blobs", files={"image": ("again.png", data, "image/png")})
    assert second.status_code == 200, second.text
    assert second.json()["sha256"] == digest and second.json()["created"] is False
    assert await running.server.store.list_blob_hashes() == [digest]


async def test_put_at_its_hash_checks_the_hash(http: httpx.AsyncClient) -> None:
    data = png(seed=2)
    digest = hashlib.sha256(data).hexdigest()
    assert (await http.put(f"/api/blobs/{digest}", content=data)).status_code == 201
    wrong = hashlib.sha256(b"something else").hexdigest()
    r = await http.put(f"/api/blobs/{wrong}", content=data)
    assert r.status_code == 422 and r.json()["error"] == "hash_mismatch"
    assert digest in r.json()["message"]
    r = await http.put("/api/blobs/NOT-A-HASH", content=data)
    assert r.status_code == 400


async def test_get_serves_immutable_bytes_with_a_strong_etag(http: httpx.AsyncClient) -> None:
    data = png(seed=3)
    digest = (await http.put("/api/blobs", content=data)).json()["sha256"]
    r = await http.get(f"/api/blobs/{digest}")
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"] == "image/png"
    assert r.headers["etag"] == f'"{digest}"'
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["x-image-size"] == "64x48"
    r = await http.get(f"/api/blobs/{digest}", headers={"If-None-Match": f'"{digest}"'})
    assert r.status_code == 304 and r.content == b""
    r = await http.head(f"/api/blobs/{digest}")
    assert r.status_code == 200 and r.headers["content-length"] == str(len(data))
    missing = hashlib.sha256(b"never uploaded").hexdigest()
    r = await http.get(f"/api/blobs/{missing}")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert (await http.get("/api/blobs/xyz")).status_code == 400


async def test_bad_uploads_are_refused_and_the_server_stays_healthy(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    bomb = encode(Image.new("1", (20000, 20000)), "PNG")
    good = png(seed=4)
    truncated = good[: len(good) // 2]
    gif = encode(Image.new("RGB", (10, 10), "red"), "GIF")
    text = b"I am a text file, not an image.\n"
    cases = [
        (bomb, 413, "image_too_large", "20000x20000"),
        (truncated, 400, "corrupt_image", "truncated"),
        (gif, 415, "unsupported_media_type", "GIF"),
        (text, 415, "unsupported_media_type", "text"),
    ]
    assert (await http.post("/api/docs", json={"id": "bad-uploads"})).status_code == 201
    for data, status, code, named in cases:
        as_blob = await http.put("/api/blobs", content=data)
        as_layer = await http.post(
            "/api/docs/bad-uploads/layers", files={"image": ("x.png", data, "image/png")}
        )
        for r in (as_blob, as_layer):
            assert r.status_code == status, (named, r.text)
            assert r.json()["error"] == code
            assert named in r.json()["message"]
    message = (await http.put("/api/blobs", content=bomb)).json()["message"]
    assert "16384 pixels per side" in message and "NEXUS_MAX_IMAGE_DIMENSION" in message
    assert await running.server.store.list_blob_hashes() == []  # nothing half-stored
    layers = (await http.get("/api/docs/bad-uploads")).json()["layers"]
    assert layers == []
    health = await http.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert (await http.put("/api/blobs", content=good)).status_code == 201


async def test_body_over_the_byte_limit_is_refused_early(tmp_path: Path) -> None:
    settings: Settings = settings_for(tmp_path, max_blob_bytes=4096)
    async with serve(settings) as srv, httpx.AsyncClient(base_url=srv.http_url) as http:
        big = png(128, 128, seed=5)
        assert len(big) > 4096
        r = await http.put("/api/blobs", content=big)
        assert r.status_code == 413 and r.json()["error"] == "blob_too_large"
        assert "limit of 4096 bytes (NEXUS_MAX_BLOB_BYTES)" in r.json()["message"]

        async def chunks():  # no Content-Length: caught while streaming
            for i in range(0, len(big), 1000):
                yield big[i : i + 1000]

        r = await http.put("/api/blobs", content=chunks())
        assert r.status_code == 413
        r = await http.post("/api/blobs", files={"image": ("big.png", big, "image/png")})
        assert r.status_code == 413
        assert await srv.server.store.list_blob_hashes() == []
        assert (await http.put("/api/blobs", content=png(8, 8))).status_code == 201


async def test_multipart_without_an_image_field_is_refused(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/blobs", files={"file": ("a.png", png(), "image/png")})
    assert r.status_code == 422
    assert "'image'" in r.json()["message"] and "file" in r.json()["message"]
