"""The browser app (client/web, built by Vite into ``dist/``) served at ``/`` and ``/d/{doc_id}``.

The build's ``index.html`` answers every app route (the app routes on the path itself) with
``Cache-Control: no-cache``, so a new build is picked up at the next load; its assets carry a
content hash in their names and are served ``immutable`` for a year. The app is same-origin with
the API and ``/ws``, and nothing is loaded from elsewhere. When the build is missing, ``/`` says
how to make it instead of answering a bare 404.
"""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from collab.api._common import server_of
from collab.api.errors import error_response

ASSET_CACHE = "public, max-age=31536000, immutable"
# The repository's build, for a source checkout (the usual way to run the server).
DEFAULT_WEB_DIR = Path(__file__).resolve().parent.parent / "client" / "web" / "dist"

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("application/wasm", ".wasm")


def web_dir(request: Request) -> Path:
    configured = server_of(request).settings.web_dir
    return configured if configured is not None else DEFAULT_WEB_DIR


def _missing_build(where: Path) -> HTMLResponse:
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Nexus Canvas: the browser app is not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>The browser app is not built yet</h1>
<p>The server is running, but it found no build of the browser app in
<code>{html.escape(str(where))}</code>.</p>
<p>Build it with <code>make run</code> (which builds it, then starts the server), or with
<code>npm --prefix client/web ci &amp;&amp; npm --prefix client/web run build</code>, then reload
this page. Set <code>NEXUS_WEB_DIR</code> to serve a build kept elsewhere.</p>
<p>The API answers meanwhile: <a href="/health">/health</a>,
<a href="/openapi.json">/openapi.json</a>.</p>
</body></html>"""
    return HTMLResponse(body, status_code=503, headers={"Cache-Control": "no-cache"})


async def app_page(request: Request) -> Response:
    root = web_dir(request)
    index = root / "index.html"
    if not index.is_file():
        return _missing_build(root)
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})


async def asset(request: Request) -> Response:
    root = (web_dir(request) / "assets").resolve()
    wanted = (root / request.path_params["path"]).resolve()
    if not wanted.is_relative_to(root) or not wanted.is_file():
        return error_response(404, "not_found", f"no asset {request.path_params['path']!r}")
    return FileResponse(wanted, headers={"Cache-Control": ASSET_CACHE})


async def service_worker(request: Request) -> Response:
    """The app's service worker (it keeps the app shell for offline reloads), at the root so
    that its scope covers every app route."""
    path = web_dir(request) / "sw.js"
    if not path.is_file():
        return error_response(404, "not_found", "the browser app is not built")
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
    return FileResponse(path, media_type="text/javascript", headers=headers)


routes: list[BaseRoute] = [
    Route("/", app_page, methods=["GET", "HEAD"], include_in_schema=False),
    Route("/d/{doc_id}", app_page, methods=["GET", "HEAD"], include_in_schema=False),
    Route("/assets/{path:path}", asset, methods=["GET", "HEAD"], include_in_schema=False),
    Route("/sw.js", service_worker, methods=["GET", "HEAD"], include_in_schema=False),
]
