"""The browser app (client/web, built by Vite into ``dist/``) served at ``/``, ``/d/{doc_id}``,
``/signin`` and ``/register``; the readable API docs of the same build (Swagger UI over
``/openapi.json``) at ``/api-docs``; and the answer to a path nothing serves.

The build's ``index.html`` answers every app route (the app routes on the path itself) with
``Cache-Control: no-cache``, so a new build is picked up at the next load; its assets carry a
content hash in their names and are served ``immutable`` for a year. The app is same-origin with
the API and ``/ws``, and nothing is loaded from elsewhere. When the build is missing, ``/`` says
how to make it instead of answering a bare 404.

The docs page is public in every mode (the API it describes is not: its "Authorize" button
takes a bearer token) and carries a Content-Security-Policy that allows nothing but this
server, so a Swagger UI default that would reach the network (its online validator badge) fails
loudly instead of leaking. An unknown path answers 404 pointing at the docs: JSON for the API
and programs, a small page for a browser.
"""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from collab.api._common import server_of
from collab.api.errors import error_response
from collab.api.openapi import DOCS_PAGE
from collab.auth.identity import check_doc_id
from collab.exceptions import InvalidDocumentId

ASSET_CACHE = "public, max-age=31536000, immutable"
DOCS_FILE = "api-docs.html"
# Swagger UI sets inline styles (style-src 'unsafe-inline'); everything else is this server.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# The repository's build, for a source checkout (the usual way to run the server).
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "client" / "web" / "dist"

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("application/wasm", ".wasm")


def web_dir(request: Request) -> Path:
    configured = server_of(request).settings.web_dir
    return configured if configured is not None else DEFAULT_WEB_DIR


def _page(status: int, title: str, content: str) -> HTMLResponse:
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Nexus Canvas: {html.escape(title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>{html.escape(title)}</h1>
{content}
</body></html>"""
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-cache"})


def _missing_build(where: Path) -> HTMLResponse:
    content = f"""<p>The server is running, but it found no build of the browser app in
<code>{html.escape(str(where))}</code>.</p>
<p>Build it with <code>make run</code> (which builds it, then starts the server), or with
<code>npm --prefix client/web ci &amp;&amp; npm --prefix client/web run build</code>, then reload
this page. Set <code>NEXUS_WEB_DIR</code> to serve a build kept elsewhere.</p>
<p>The API answers meanwhile: <a href="/health">/health</a>,
<a href="/openapi.json">/openapi.json</a>.</p>"""
    return _page(503, "The browser app is not built yet", content)


async def api_docs(request: Request) -> Response:
    """The API's readable documentation.
    ---
    summary: "The API documentation: Swagger UI over /openapi.json (public in every mode)"
    tags: [operations]
    responses:
      200: {description: the docs page, content: {text/html: {schema: {type: string}}}}
      503:
        description: the browser app's build is missing; the page says how to build it
        content: {text/html: {schema: {type: string}}}
    """
    root = web_dir(request)
    page = root / DOCS_FILE
    if not page.is_file():
        return _missing_build(root)
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": DOCS_CSP}
    return FileResponse(page, media_type="text/html", headers=headers)


async def unknown_path(request: Request, exc: Exception) -> Response:
    """The 404 of a path no route serves (Starlette's router raises it): it names the path and
    points at the API docs. A browser navigating outside ``/api/`` gets a page with the links;
    everything else the JSON error body, with the docs' address in ``docs``."""
    assert isinstance(exc, HTTPException) and exc.status_code == 404
    path = request.url.path
    accepts_html = "text/html" in request.headers.get("accept", "")
    if accepts_html and not path.startswith("/api/"):
        content = f"""<p>Nothing is served at <code>{html.escape(path)}</code>.</p>
<p><a href="/">Open the documents list</a>, or read the
<a href="{DOCS_PAGE}">API documentation</a>.</p>"""
        return _page(404, "Page not found", content)
    message = (
        f"no route for {request.method} {path}; the API is described at {DOCS_PAGE} "
        "(OpenAPI: /openapi.json)"
    )
    return JSONResponse(
        {"error": "not_found", "message": message, "docs": DOCS_PAGE}, status_code=404
    )


async def app_page(request: Request) -> Response:
    """The browser app.
    ---
    summary: "The browser app: the documents list at /, a document's editor at /d/{doc_id}"
    tags: [app]
    responses:
      200: {description: the app's page, content: {text/html: {schema: {type: string}}}}
      400:
        description: the document id is malformed; the page names it
        content: {text/html: {schema: {type: string}}}
      503:
        description: the app is not built; the page says how to build it
        content: {text/html: {schema: {type: string}}}
    """
    doc_id = request.path_params.get("doc_id")
    if doc_id is not None:
        try:
            check_doc_id(doc_id)
        except InvalidDocumentId as exc:
            return _page(
                400,
                "No such document address",
                f'<p>{html.escape(str(exc))}.</p><p><a href="/">Open the documents list</a></p>',
            )
    root = web_dir(request)
    index = root / "index.html"
    if not index.is_file():
        return _missing_build(root)
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})


async def asset(request: Request) -> Response:
    """A file of the app's build.
    ---
    summary: A file of the browser app's build (content-hashed name, cached for a year)
    tags: [app]
    parameters:
      - {name: path, in: path, required: true, schema: {type: string}}
    responses:
      200: {description: the file}
      404:
        description: "not_found: no such file in the build"
        content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
    """
    root = (web_dir(request) / "assets").resolve()
    wanted = (root / request.path_params["path"]).resolve()
    if not wanted.is_relative_to(root) or not wanted.is_file():
        return error_response(404, "not_found", f"no asset {request.path_params['path']!r}")
    return FileResponse(wanted, headers={"Cache-Control": ASSET_CACHE})


async def service_worker(request: Request) -> Response:
    """The app's service worker (it keeps the app shell for offline reloads), at the root so
    that its scope covers every app route.
    ---
    summary: The browser app's service worker (offline reloads)
    tags: [app]
    responses:
      200: {description: JavaScript, content: {text/javascript: {schema: {type: string}}}}
      404:
        description: "not_found: the app is not built"
        content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
    """
    path = web_dir(request) / "sw.js"
    if not path.is_file():
        return error_response(404, "not_found", "the browser app is not built")
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
    return FileResponse(path, media_type="text/javascript", headers=headers)


routes: list[BaseRoute] = [
    Route("/", app_page, methods=["GET", "HEAD"]),
    Route("/d/{doc_id}", app_page, methods=["GET", "HEAD"]),
    # token mode's account pages (docs/security.md); in open mode they say there are no accounts
    Route("/signin", app_page, methods=["GET", "HEAD"]),
    Route("/register", app_page, methods=["GET", "HEAD"]),
    Route("/assets/{path:path}", asset, methods=["GET", "HEAD"]),
    Route("/sw.js", service_worker, methods=["GET", "HEAD"]),
    Route(DOCS_PAGE, api_docs, methods=["GET", "HEAD"]),
]
