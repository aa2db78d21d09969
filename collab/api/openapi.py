"""``GET /openapi.json``: the OpenAPI description of every route, generated from the app.

Starlette's :class:`SchemaGenerator` reads each handler's docstring: the YAML after a ``---``
line is that operation's OpenAPI object. Handlers written before this existed have prose
docstrings; for those, ``DOCUMENTED_ELSEWHERE`` holds their description (kept here until
their docstrings carry it), and any route still undocumented gets at least a summary, so
the description never silently omits a route. The WebSocket endpoint, which OpenAPI cannot
describe as such, appears as the GET that upgrades.

Every operation is then completed with what holds for all of them, so the description states
every answer the server gives (schemathesis checks it against the running app): each path
parameter is declared (``doc_id`` with the pattern the server enforces), an API operation
lists the errors any request may meet (a malformed id or caller, authentication, the role,
an unavailable store) and every error answer carries the ``Error`` body schema.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import yaml  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.schemas import SchemaGenerator

from canvasdoc import ids
from collab import __version__

# The rule check_doc_id enforces: an id outside it answers 400 before anything is looked up.
_DOC_ID_SCHEMA = {"type": "string", "pattern": ids.DOC_ID.pattern}
_DOC_ID = {"name": "doc_id", "in": "path", "required": True, "schema": _DOC_ID_SCHEMA}
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_ERROR = {"$ref": "#/components/schemas/Error"}
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "machine-readable code, e.g. not_found"},
        "message": {"type": "string", "description": "what was wrong, naming the value"},
    },
}
# Answers any API request may get, whatever the operation (its docstring may say more).
_API_ERRORS = {
    "400": "bad_request / bad_user / bad_json: a malformed id, caller or body",
    "401": "unauthenticated: no valid token (token mode)",
    "403": "forbidden: the caller's role does not allow this",
    "503": "store_unavailable",
}
_PATH_ERRORS = {"404": "not_found: no such document or resource"}
_BODY_ERRORS = {"413": "request body too large", "422": "invalid: a field is wrong (named)"}
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
            "200": {
                "description": "{versions: [{id, label, kind: named | auto, created_at, seq, "
                "size, url, thumbnail_url, preview_url}]}"
            }
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
            {
                "name": "version_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "format": "int64", "minimum": 0},
            },
        ],
        "responses": {
            "200": {"description": "{restored, can_undo, can_redo, user}"},
            "400": {"description": "bad_request: the version id is not an integer"},
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
    "responses": {
        "101": {"description": "Switching Protocols"},
        "404": {"description": "a plain HTTP request, without the WebSocket upgrade"},
    },
}


class CanvasSchemaGenerator(SchemaGenerator):
    """Starlette's generator, but no route is left out and prose is never read as YAML."""

    def parse_docstring(self, func_or_method: Callable[..., Any]) -> dict[str, Any]:
        # cleandoc drops a docstring's leading blank line: "---" may be its first line.
        docstring = "\n" + inspect.cleandoc(func_or_method.__doc__ or "")
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
        schema["paths"] = {
            path: {method: _complete(path, op) for method, op in ops.items()}
            for path, ops in sorted(paths.items())
        }
        schema["components"] = {"schemas": {"Error": _ERROR_SCHEMA}}
        return schema


def _complete(path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``operation`` with its path parameters, common errors and error bodies."""
    op = {**operation, "parameters": list(operation.get("parameters", []))}
    declared = {p.get("name") for p in op["parameters"] if p.get("in") == "path"}
    for name in _PATH_PARAM.findall(path):
        if name not in declared:
            op["parameters"].append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
    op["parameters"] = [
        {**p, "schema": _DOC_ID_SCHEMA} if p.get("in") == "path" and p["name"] == "doc_id" else p
        for p in op["parameters"]
    ]
    if not op["parameters"]:
        del op["parameters"]
    responses = {str(code): dict(answer) for code, answer in op.get("responses", {}).items()}
    if path.startswith("/api/"):
        extra = dict(_API_ERRORS)
        if _PATH_PARAM.search(path):
            extra |= _PATH_ERRORS
        if "requestBody" in op:
            extra |= _BODY_ERRORS
        for code, description in extra.items():
            responses.setdefault(code, {"description": description})
        for code, answer in responses.items():
            if code[0] in "45" and "content" not in answer:
                answer["content"] = {"application/json": {"schema": _ERROR}}
    op["responses"] = responses
    return op


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
