"""The browser app's build served at /, /d/{doc_id} and /assets/ (collab/asgi/web.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx

from collab.settings import Settings
from tests.support.servers import serve


def _fake_build(root: Path) -> None:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (root / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (root.parent / "secret.txt").write_text("not for you")


async def test_app_routes_serve_the_build_with_cache_headers(
    settings: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "dist"
    _fake_build(root)
    async with serve(dataclasses.replace(settings, web_dir=root)) as running:
        async with httpx.AsyncClient(base_url=running.http_url) as http:
            for path in ("/", "/d/poster", "/d/a.b:c-d_1"):
                r = await http.get(path)
                assert r.status_code == 200, path
                assert "<div id=root>" in r.text
                assert r.headers["content-type"].startswith("text/html")
                assert r.headers["cache-control"] == "no-cache"
            r = await http.get("/assets/index-abc123.js")
            assert r.status_code == 200 and r.text == "console.log(1)"
            assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert r.headers["content-type"].startswith("text/javascript")
            for bad in ("/assets/missing.js", "/assets/../index.html", "/assets/%2e%2e/secret.txt"):
                r = await http.get(bad)
                assert r.status_code == 404, bad
                assert "not for you" not in r.text
            r = await http.get("/d/bad%20id")
            assert r.status_code == 400 and "&#x27;bad id&#x27;" in r.text and 'href="/"' in r.text
            r = await http.get("/sw.js")
            assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
            assert r.headers["content-type"].startswith("text/javascript")
            assert (await http.get("/health")).json()["status"] == "ok"
            r = await http.get("/no/such/page")
            assert r.status_code == 404 and r.headers["content-type"] == "application/json"


async def test_a_missing_build_says_how_to_build_it(settings: Settings, tmp_path: Path) -> None:
    async with serve(dataclasses.replace(settings, web_dir=tmp_path / "nothing")) as running:
        async with httpx.AsyncClient(base_url=running.http_url) as http:
            r = await http.get("/")
            assert r.status_code == 503
            assert "make run" in r.text and "npm --prefix client/web ci" in r.text
            assert (await http.get("/d/x")).status_code == 503
