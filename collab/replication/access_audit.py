"""Re-checking live connections' access after the broker comes back from an outage.

An access change (share link revoked, member removed, role lowered) made through another
instance reaches this one as an ``ACCESS`` envelope (collab/replication/access.py). While this
instance is cut off from the broker those envelopes are lost, so when the broker reports it is
back (``Broker.on_reconnect``) every connection this instance holds is checked against the
store, the source of truth: a connection whose principal now has a lower role than the one it
was opened with, or none, is closed with ``ACCESS_REVOKED`` (4403), as an envelope would have
closed it; its client reconnects with its new role or is refused.

Lookups are cached per principal and document within one audit, so a room of many
connections of one user costs one query. A store error ends that audit (logged) and it is
retried with backoff, a few times: the outage that cut the broker may have cut the store too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

from canvasdoc import close_codes
from collab.auth.access import AccessControl, rank
from collab.auth.identity import Principal
from collab.replication.broker.base import Broker
from collab.session.room import Room
from persistence.base import DocumentNotFound

log = logging.getLogger(__name__)

_RETRIES = 5
_FIRST_RETRY_SECONDS = 1.0


async def audit_rooms(rooms: Mapping[str, Room], access: AccessControl) -> int:
    """Close every connection of ``rooms`` whose principal lost access or rank since it was
    opened; returns how many were closed."""
    closed = 0
    roles: dict[tuple[Principal, str], str | None] = {}
    for doc_id, room in list(rooms.items()):
        for conn in list(room.connections):
            if conn.closed.is_set():
                continue
            key = (conn.principal, doc_id)
            if key not in roles:
                try:
                    roles[key] = await access.role_for(conn.principal, doc_id)
                except DocumentNotFound:
                    roles[key] = None
            role = roles[key]
            if rank(role) >= rank(conn.role) or conn.closed.is_set():
                continue
            reason = (
                f"access to document {doc_id!r} changed while this server was cut off from "
                f"the other instances (role now: {role or 'none'})"
            )
            conn.abort(close_codes.ACCESS_REVOKED, reason)
            closed += 1
    return closed


class AccessAudit:
    """Runs :func:`audit_rooms` after each broker reconnect, for the server's lifetime.

    ``rooms`` is called for the rooms loaded at that moment. One audit runs at a time; a
    reconnect during an audit makes it run once more after it."""

    def __init__(
        self,
        broker: Broker,
        rooms: Callable[[], Mapping[str, Room]],
        access: AccessControl,
        *,
        first_retry: float = _FIRST_RETRY_SECONDS,
    ) -> None:
        self._broker = broker
        self._rooms = rooms
        self._access = access
        self._first_retry = first_retry
        self._remove_hook: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self.audits = 0  # completed audits (tests, /health debugging)
        self.closed = 0  # connections closed by audits

    async def __aenter__(self) -> AccessAudit:
        self._remove_hook = self._broker.on_reconnect(self._after_reconnect)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._remove_hook is not None:
            self._remove_hook()
            self._remove_hook = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _after_reconnect(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="access-audit")

    async def _run(self) -> None:
        while True:
            self._again = False
            await self._audit_with_retries()
            if not self._again:
                return

    async def _audit_with_retries(self) -> None:
        delay = self._first_retry
        for attempt in range(1, _RETRIES + 1):
            try:
                closed = await audit_rooms(self._rooms(), self._access)
            except Exception as exc:  # the store is down too: try again later
                log.warning(
                    "access audit after a broker reconnect failed; retrying",
                    extra={"attempt": attempt, "error": f"{type(exc).__name__}: {exc}"},
                )
                await asyncio.sleep(delay)
                delay *= 2
                continue
            self.audits += 1
            self.closed += closed
            log.info("access audit after a broker reconnect", extra={"closed": closed})
            return
        log.error(
            "access audit after a broker reconnect gave up: connections whose access was "
            "revoked during the outage stay open until they reconnect",
            extra={"attempts": _RETRIES},
        )
