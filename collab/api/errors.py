"""JSON error responses: every failure answers ``{"error": code, "message": text}`` with the
right status, never a bare 500 for a caller's mistake."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from canvasdoc.canvas import SchemaError
from collab.auth import AuthenticationError
from collab.exceptions import InvalidDocumentId
from inference.jobs.queue.base import QueueUnavailable
from persistence.base import (
    BlobNotFound,
    DocumentExists,
    DocumentNotFound,
    SnapshotNotFound,
    StoreError,
    StoreUnavailable,
)

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, str(exc))


_AUTH_CODES = {401: "unauthenticated", 403: "forbidden", 400: "bad_user"}


async def _auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthenticationError)
    return error_response(exc.status, _AUTH_CODES.get(exc.status, "forbidden"), str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(404, "not_found", str(exc))


async def _conflict(request: Request, exc: Exception) -> Response:
    return error_response(409, "conflict", str(exc))


async def _bad_request(request: Request, exc: Exception) -> Response:
    return error_response(400, "bad_request", str(exc))


async def _invalid(request: Request, exc: Exception) -> Response:
    return error_response(422, "invalid", str(exc))


async def _store_error(request: Request, exc: Exception) -> Response:
    """An outage (``StoreUnavailable``) is logged where it happens (the group-commit writer's
    error, /health's problems): here a warning per refused request. Any other store error
    answering a request is unexpected: an error."""
    log.log(
        logging.WARNING if isinstance(exc, StoreUnavailable) else logging.ERROR,
        "store error answering a request",
        extra={"path": request.url.path, "error": str(exc)},
    )
    return error_response(503, "store_unavailable", f"storage is unavailable: {exc}")


async def _queue_unavailable(request: Request, exc: Exception) -> Response:
    """An outage the operator sees in the queue's own logs: a warning here, not a stack."""
    assert isinstance(exc, QueueUnavailable)
    log.warning(
        "job queue unavailable answering a request",
        extra={"path": request.url.path, "error": str(exc)},
    )
    response = error_response(503, "jobs_unavailable", str(exc))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path: one path may have a Route per method,
    while Starlette's 405 names only the first route's."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, "http_error", str(exc.detail))
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:
        response.headers["Allow"] = _allowed_methods(request)  # RFC 9110 requires it
    return response


HANDLERS = {
    ApiError: _api_error,
    AuthenticationError: _auth_error,
    DocumentNotFound: _not_found,
    SnapshotNotFound: _not_found,
    BlobNotFound: _not_found,
    DocumentExists: _conflict,
    InvalidDocumentId: _bad_request,
    SchemaError: _invalid,
    StoreError: _store_error,
    QueueUnavailable: _queue_unavailable,
    HTTPException: _http_error,
}
