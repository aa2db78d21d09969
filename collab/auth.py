"""Authenticators: turn a WebSocket upgrade or an HTTP request into a ``Principal``.

The room and API code only ever see the ``Principal``; replacing the authenticator (a token
based one arrives with the access-control work) touches nothing else.
"""

from __future__ import annotations

from typing import Protocol

from starlette.requests import HTTPConnection

from collab.identity import InvalidUser, Principal, principal_from_params


class AuthenticationError(Exception):
    """The caller could not be identified; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


class Authenticator(Protocol):
    async def authenticate(self, connection: HTTPConnection) -> Principal:
        """Identify the caller or raise ``AuthenticationError``."""
        ...


class OpenAuthenticator:
    """No authentication (embedded mode): the caller names itself with the ``user`` query
    parameter or the ``X-User`` header (display name: ``name`` / ``X-User-Name``); callers
    that name nobody get a generated anonymous id."""

    async def authenticate(self, connection: HTTPConnection) -> Principal:
        params = {
            "user": connection.query_params.get("user") or connection.headers.get("x-user", ""),
            "name": connection.query_params.get("name")
            or connection.headers.get("x-user-name", ""),
        }
        try:
            return principal_from_params(params)
        except InvalidUser as exc:
            raise AuthenticationError(str(exc), status=400) from exc
