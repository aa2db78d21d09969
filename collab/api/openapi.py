"""``GET /openapi.json``: the OpenAPI description of every route, generated from the app.

Starlette's :class:`SchemaGenerator` reads each handler's docstring: the YAML after a ``---``
line is that operation's OpenAPI object. Handlers written before this existed have prose
docstrings; for those, ``DOCUMENTED_ELSEWHERE`` holds their description (kept here until
their docstrings carry it), and any route still undocumented gets at least a summary, so
the description never silently omits a route. The WebSocket endpoint, which OpenAPI cannot
describe as such, appears as the GET that upgrades.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import yaml  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.schemas import SchemaGenerator

from collab import __version__

_DOC_ID = {"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"}}
_UNDO_ANSWER = "{done, can_undo, can_redo, user}"

# (method, path) -> operation, for handlers whose docstrings are prose (see protocol.md).
DOCUMENTED_ELSEWHERE: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/docs/{doc_id}/undo"): {
        "summary": "Undo the caller's last change in the document",
        "tags": ["history"],
        "parameters": [_DOC_ID],
        "responses": {
            "200": {"description": _UNDO_ANSWER},
            "404": {"description": "unknown document"},
            "409": {"description": "nothing_to_undo"},
        },
    },
    ("post", "/api/docs/{doc_id}/redo"): {
        "summary": "Redo the caller's last undone change",
        "tags": ["history"],
        "parameters": [_DOC_ID],
        "responses": {
            "200": {"description": _UNDO_ANSWER},
            "404": {"description": "unknown document"},
            "409": {"description": "nothing_to_redo"},
        },
    },
    ("get", "/api/docs/{doc_id}/undo-state"): {
        "summary": "Whether the caller can undo or redo",
        "tags": ["history"],
        "parameters": [_DOC_ID],
        "responses": {"200": {"description": "{can_undo, can_redo, user}"}},
    },
    ("get", "/api/docs/{doc_id}/versions"): {
        "summary": "The document's versions (named and automatic snapshots), newest first",
        "tags": ["versions"],
        "parameters": [_DOC_ID],
        "responses": {
            "200": {"description": "{versions: [{id, label, kind, created_at, seq, size}]}"}
        },
    },
    ("post", "/api/docs/{doc_id}/versions"): {
        "summary": "Name the current state as a version",
        "tags": ["versions"],
        "parameters": [_DOC_ID],
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["label"],
                        "properties": {"label": {"type": "string", "maxLength": 200}},
                    }
                }
            }
        },
        "responses": {
            "201": {"description": "The new named version"},
            "422": {"description": "missing or empty label"},
        },
    },
    ("post", "/api/docs/{doc_id}/versions/{version_id}/restore"): {
        "summary": "Restore a version as a new change of the caller's (undoable)",
        "tags": ["versions"],
        "parameters": [
            _DOC_ID,
            {"name": "version_id", "in": "path", "required": True, "schema": {"type": "integer"}},
        ],
        "responses": {
            "200": {"description": "{restored, can_undo, can_redo, user}"},
            "404": {"description": "unknown version"},
        },
    },
    ("get", "/health"): {
        "summary": "Health of this instance: status, rooms, connections, store, broker",
        "tags": ["operations"],
        "responses": {"200": {"description": "{status: ok | degraded, problems, ...}"}},
    },
    ("get", "/metrics"): {
        "summary": "Prometheus metrics",
        "tags": ["operations"],
        "responses": {"200": {"description": "Prometheus text format"}},
    },
}

_WEBSOCKET: dict[str, Any] = {
    "summary": "Live collaboration: upgrade to a WebSocket speaking the y-websocket protocol",
    "description": "Binary frames: sync step 1/2, updates, awareness; see docs/protocol.md.",
    "tags": ["collaboration"],
    "parameters": [
        _DOC_ID,
        {"name": "user", "in": "query", "schema": {"type": "string"}},
        {"name": "name", "in": "query", "schema": {"type": "string"}},
    ],
    "responses": {"101": {"description": "Switching Protocols"}},
}


class CanvasSchemaGenerator(SchemaGenerator):
    """Starlette's generator, but no route is left out and prose is never read as YAML."""

    def parse_docstring(self, func_or_method: Callable[..., Any]) -> dict[str, Any]:
        docstring = inspect.cleandoc(func_or_method.__doc__ or "")
        _, separator, spec = docstring.partition("\n---\n")
        if not separator:
            return {}  # prose only; yaml.safe_load would turn "Note: x" into {"Note": "x"}
        parsed = yaml.safe_load(spec)
        return parsed if isinstance(parsed, dict) else {}

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        schema = super().get_schema(routes)
        paths: dict[str, dict[str, Any]] = schema["paths"]
        for endpoint in self.get_endpoints(routes):
            operations = paths.setdefault(endpoint.path, {})
            if endpoint.http_method in operations:
                continue
            known = DOCUMENTED_ELSEWHERE.get((endpoint.http_method, endpoint.path))
            operations[endpoint.http_method] = known or _fallback(endpoint.func)
        for route in routes:
            if isinstance(route, WebSocketRoute):
                path = self._remove_converter(route.path)
                paths.setdefault(path, {}).setdefault("get", _WEBSOCKET)
        schema["paths"] = dict(sorted(paths.items()))
        return schema


def _fallback(func: Callable[..., Any]) -> dict[str, Any]:
    doc = (func.__doc__ or "").strip()
    summary = doc.splitlines()[0] if doc else func.__name__.replace("_", " ")
    return {"summary": summary, "responses": {"200": {"description": "OK"}}}


SCHEMAS = CanvasSchemaGenerator(
    {
        "openapi": "3.0.3",
        "info": {
            "title": "Nexus Canvas",
            "version": __version__,
            "description": (
                "Collaborative layered image canvas. Every request names its caller with "
                "`?user=` or the `X-User` header. Errors are JSON "
                '`{"error": code, "message": text}`.'
            ),
        },
    }
)


async def openapi_schema(request: Request) -> JSONResponse:
    """The OpenAPI description of this API.
    ---
    summary: This OpenAPI description
    tags: [operations]
    responses:
      200: {description: OpenAPI 3.0 JSON}
    """
    return JSONResponse(SCHEMAS.get_schema(routes=request.app.routes))


routes = [Route("/openapi.json", openapi_schema, methods=["GET"], include_in_schema=True)]
