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

A docstring the OpenAPI format does not allow is refused when the description is built
(:class:`OpenApiDocError`, naming the handler and the bad key), not left for a validator to
find: YAML's flow mappings make such mistakes easy (``{description: taken, or open mode}`` is
a mapping with a second key ``or open mode``). The readable form of this description, Swagger
UI from the browser app's build, is served at :data:`DOCS_PAGE`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.schemas import SchemaGenerator

from canvasdoc import ids
from collab import __version__

# The readable API documentation (collab/asgi/web.py serves it). Not under /api/docs/: "ui" is
# a valid document id there (canvasdoc.ids.DOC_ID), so /api/docs/ui already means a document.
DOCS_PAGE = "/api-docs"

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
        "docs": {"type": "string", "description": "a path nothing serves: the API docs page"},
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
_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "Token mode: an access token (POST /api/auth/login), a service token or a "
    "share-link token; see docs/security.md. Open mode reads no token.",
}
# Either a bearer token or nothing: open mode reads none; token mode answers 401 without one.
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {}]

# What OpenAPI 3.0 allows in an operation and in a response object ("x-" extensions aside).
_OPERATION_FIELDS = frozenset(
    {
        "tags",
        "summary",
        "description",
        "externalDocs",
        "operationId",
        "parameters",
        "requestBody",
        "responses",
        "callbacks",
        "deprecated",
        "security",
        "servers",
    }
)
_RESPONSE_FIELDS = frozenset({"description", "headers", "content", "links"})
_RESPONSE_CODE = re.compile(r"^(default|[1-5](\d\d|XX))$")
_PARAMETER_PLACES = frozenset({"path", "query", "header", "cookie"})

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


class OpenApiDocError(ValueError):
    """A route's OpenAPI text is malformed; the message names the route and the bad value."""


class CanvasSchemaGenerator(SchemaGenerator):
    """Starlette's generator, but no route is left out, prose is never read as YAML, and an
    operation OpenAPI does not allow is refused (:class:`OpenApiDocError`)."""

    def parse_docstring(self, func_or_method: Callable[..., Any]) -> dict[str, Any]:
        where = f"{func_or_method.__module__}.{func_or_method.__qualname__}"
        # cleandoc drops a docstring's leading blank line: "---" may be its first line.
        docstring = "\n" + inspect.cleandoc(func_or_method.__doc__ or "")
        _, separator, spec = docstring.partition("\n---\n")
        if not separator:
            return {}  # prose only; yaml.safe_load would turn "Note: x" into {"Note": "x"}
        try:
            parsed = yaml.safe_load(spec)
        except yaml.YAMLError as exc:
            raise OpenApiDocError(f"{where}: the docstring's YAML does not parse: {exc}") from None
        if not isinstance(parsed, dict):
            raise OpenApiDocError(
                f"{where}: the YAML after '---' must be an OpenAPI operation (a mapping), "
                f"got {type(parsed).__name__}"
            )
        check_operation(where, parsed, complete=False)
        return parsed

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
        for path, ops in schema["paths"].items():
            for method, op in ops.items():
                check_operation(f"{method.upper()} {path}", op, complete=True)
        schema["components"] = {
            "schemas": {"Error": _ERROR_SCHEMA},
            "securitySchemes": {"bearer": _BEARER},
        }
        schema["security"] = _SECURITY
        schema["tags"] = _tags(schema["paths"])
        return schema


# The docs page's order: documents first, then the rest of the API, then these.
_FIRST_TAGS = ("documents",)
_LAST_TAGS = ("operations", "app")


def _tags(paths: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """Every tag in use, in the order the docs page shows them."""
    used = {tag for ops in paths.values() for op in ops.values() for tag in op.get("tags", [])}
    middle = sorted(used - set(_FIRST_TAGS) - set(_LAST_TAGS))
    order = [t for t in _FIRST_TAGS if t in used] + middle + [t for t in _LAST_TAGS if t in used]
    return [{"name": tag} for tag in order]


def check_operation(where: str, operation: Mapping[str, Any], *, complete: bool) -> None:
    """Refuse an operation object OpenAPI 3.0 does not allow, naming ``where`` and the bad
    value. ``complete``: it is the final operation, which must state its answers."""
    for key in operation:
        if not (isinstance(key, str) and (key in _OPERATION_FIELDS or key.startswith("x-"))):
            raise OpenApiDocError(
                f"{where}: unknown operation field {key!r} "
                f"(allowed: {', '.join(sorted(_OPERATION_FIELDS))}, x-*)"
            )
    for key in ("summary", "description", "operationId"):
        if key in operation and not isinstance(operation[key], str):
            raise OpenApiDocError(
                f"{where}: {key} must be a string, got {operation[key]!r} (quote it in YAML)"
            )
    tags = operation.get("tags", [])
    if not (isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)):
        raise OpenApiDocError(f"{where}: tags must be a list of strings, got {tags!r}")
    parameters = operation.get("parameters", [])
    if not isinstance(parameters, list):
        raise OpenApiDocError(f"{where}: parameters must be a list, got {parameters!r}")
    for parameter in parameters:
        if not (
            isinstance(parameter, dict)
            and isinstance(parameter.get("name"), str)
            and parameter.get("in") in _PARAMETER_PLACES
        ):
            raise OpenApiDocError(
                f"{where}: a parameter needs a string name and 'in' one of "
                f"{', '.join(sorted(_PARAMETER_PLACES))}, got {parameter!r}"
            )
    responses = operation.get("responses", {})
    if not isinstance(responses, dict) or (complete and not responses):
        raise OpenApiDocError(
            f"{where}: responses must map status codes to answers, got {responses!r}"
        )
    for code, answer in responses.items():
        _check_response(where, code, answer)


def _check_response(where: str, code: object, answer: object) -> None:
    if not _RESPONSE_CODE.match(str(code)):
        raise OpenApiDocError(
            f"{where}: response key {code!r} is not a status code (100-599, 1XX-5XX) or 'default'"
        )
    if not isinstance(answer, dict):
        raise OpenApiDocError(
            f"{where}: response {code} must be a mapping with a description, got {answer!r}"
        )
    for key in answer:
        if not (isinstance(key, str) and (key in _RESPONSE_FIELDS or key.startswith("x-"))):
            raise OpenApiDocError(
                f"{where}: response {code} has an unknown field {key!r} (allowed: "
                f"{', '.join(sorted(_RESPONSE_FIELDS))}, x-*); in a YAML flow mapping "
                "({description: ...}) a comma starts a new key: quote the description"
            )
    if not isinstance(answer.get("description"), str):
        raise OpenApiDocError(
            f"{where}: response {code} needs a description string, "
            f"got {answer.get('description')!r}"
        )


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
    if not _reads_a_token(path):
        op.setdefault("security", [])
    return op


def _reads_a_token(path: str) -> bool:
    """Whether the route authenticates its caller: the API (accounts aside) and the WebSocket.
    The app's pages, its files, health, metrics and these docs are public."""
    if path.startswith("/api/auth/"):
        return False
    return path.startswith(("/api/", "/ws/"))


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
                "Collaborative layered image canvas. In open mode (the embedded default) "
                "a request names its caller with `?user=` or the `X-User` header; in token "
                "mode it carries `Authorization: Bearer <token>` (log in with "
                "`POST /api/auth/login`, then use Authorize). Errors are JSON "
                '`{"error": code, "message": text}`. See docs/protocol.md and '
                "docs/security.md."
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
