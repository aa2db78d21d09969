"""Errors of the Python client.

Tree::

    ClientError            base of everything the client raises on its own
    ├── ReadOnlyError      a local edit of a replica the server only lets this user read
    │                      (also a PermissionError)
    └── ConnectionRefused  the server refused the connection for good: HTTP 401 / 403 / other
                           4xx on the upgrade, or a close code retrying cannot fix (4400,
                           4413); the client stops reconnecting (also a ConnectionError)
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of the client's own errors."""


class ReadOnlyError(ClientError, PermissionError):
    """A writer was called on a replica whose role on the document does not allow edits.

    Raised before anything is written, so the replica is unchanged."""

    def __init__(self, *, action: str, doc_id: str, role: str, name: str, user: str) -> None:
        self.action = action
        self.doc_id = doc_id
        self.role = role
        self.name = name
        self.user = user
        super().__init__(
            f"cannot {action}: {name!r} is a {role} of document {doc_id!r}, the replica is "
            "read-only (the server would refuse the change; nothing was changed)"
        )


class ConnectionRefused(ClientError, ConnectionError):
    """The server refused this client for a reason reconnecting cannot fix.

    ``status`` is the HTTP status of a refused upgrade (401, 403, ...), ``close_code`` the
    WebSocket close code of a connection closed for good (4400, 4413); exactly one is set.
    ``reason`` is the server's explanation, as it sent it."""

    def __init__(
        self, url: str, *, status: int | None = None, close_code: int | None = None, reason: str
    ) -> None:
        self.url = url
        self.status = status
        self.close_code = close_code
        self.reason = reason
        how = f"HTTP {status}" if status is not None else f"close code {close_code}"
        super().__init__(f"{url} refused the connection ({how}): {reason or 'no reason given'}")

    @property
    def code(self) -> int:
        """The HTTP status or the close code, whichever the refusal carried."""
        code = self.status if self.status is not None else self.close_code
        assert code is not None
        return code
