"""What every authenticator shares: the protocol, its error, and where credentials travel."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import HTTPConnection

from collab.auth.identity import Principal

TOKEN_SUBPROTOCOL_PREFIX = "nexus.token."


class AuthenticationError(Exception):
    """The caller could not be identified or may not do this; ``status`` is the HTTP status
    to answer with (401: who are you?, 403: not allowed, 400: malformed)."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


class Authenticator(Protocol):
    async def authenticate(self, connection: HTTPConnection) -> Principal:
        """Identify the caller or raise ``AuthenticationError``."""
        ...


def bearer_token(connection: HTTPConnection) -> str | None:
    """The caller's token from, in order: ``Authorization: Bearer``, a WebSocket subprotocol
    ``nexus.token.<token>`` (browsers cannot set headers on WebSockets), or ``?token=``."""
    header = connection.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    for proto in connection.headers.get("sec-websocket-protocol", "").split(","):
        proto = proto.strip()
        if proto.startswith(TOKEN_SUBPROTOCOL_PREFIX):
            return proto[len(TOKEN_SUBPROTOCOL_PREFIX) :] or None
    return connection.query_params.get("token") or None
