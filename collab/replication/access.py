"""Access changes that every instance must apply to its live connections.

A share link revoked, a member removed or a member's role changed through one instance's
REST API must also reach the connections other instances hold: the instance that made the
change closes its own matching connections and publishes an ``ACCESS`` envelope on the
document's broker channel, which every instance holding the document (and only those)
receives; each closes its matching connections with ``ACCESS_REVOKED`` (4403), as the
instance that made the change does, and the clients reconnect with their new role or are
refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgpack  # type: ignore[import-untyped]

from canvasdoc import close_codes
from collab.auth.identity import Principal
from collab.replication.broker.base import BrokerError
from collab.session.room import Room


@dataclass(frozen=True, slots=True)
class AccessChange:
    """Connections to ``doc_id`` that lost their access or role: those of ``user_id`` or
    those opened with share link ``link_id`` (exactly one of the two)."""

    doc_id: str
    reason: str
    user_id: str | None = None
    link_id: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.link_id is None):
            raise ValueError(
                "an access change names exactly one of user_id and link_id, got "
                f"user_id={self.user_id!r}, link_id={self.link_id!r}"
            )

    def matches(self, principal: Principal) -> bool:
        if self.link_id is not None:
            return principal.link_id == self.link_id
        return principal.user_id == self.user_id

    def encode(self) -> bytes:
        """The envelope payload: msgpack ``[user_id, link_id, reason]``."""
        data: bytes = msgpack.packb([self.user_id, self.link_id, self.reason])
        return data

    @classmethod
    def decode(cls, doc_id: str, payload: bytes) -> AccessChange:
        """Parse :meth:`encode` output; raises :class:`BrokerError` naming what is wrong."""
        try:
            raw = msgpack.unpackb(payload, raw=False, use_list=True)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            raise BrokerError(f"access change is not valid msgpack ({exc})") from None
        if not isinstance(raw, list) or len(raw) != 3:
            raise BrokerError(f"access change must be [user_id, link_id, reason], got {raw!r}")
        user_id, link_id, reason = raw
        for name, value in (("user_id", user_id), ("link_id", link_id)):
            if value is not None and (not isinstance(value, str) or not value):
                raise BrokerError(f"access change {name} must be a string or nil, got {value!r}")
        if not isinstance(reason, str):
            raise BrokerError(f"access change reason must be a string, got {reason!r}")
        try:
            return cls(doc_id, reason, user_id, link_id)
        except ValueError as exc:
            raise BrokerError(str(exc)) from None


def close_matching(room: Room, change: AccessChange) -> int:
    """Close the room's connections that ``change`` names (4403); returns how many."""
    closed = 0
    for conn in list(room.connections):
        if change.matches(conn.principal) and not conn.closed.is_set():
            conn.abort(close_codes.ACCESS_REVOKED, change.reason)
            closed += 1
    return closed
