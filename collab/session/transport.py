"""The transport a room talks to: one bidirectional stream of binary frames.

The room and connection logic only see this protocol; Starlette's WebSocket is one adapter
(``collab/asgi/starlette_channel.py``), tests can supply in-memory ones.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class ChannelClosed(Exception):
    """The peer went away; ``code`` is its close code when known."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(f"channel closed (code={code}, reason={reason!r})")
        self.code = code
        self.reason = reason


class Channel(Protocol):
    @property
    def path(self) -> str: ...

    async def send(self, message: bytes) -> None:
        """Send one binary frame; raises ``ChannelClosed`` when the peer is gone."""

    async def recv(self) -> bytes:
        """Receive one binary frame; raises ``ChannelClosed`` when the peer is gone,
        ``ProtocolError`` for a text frame, ``FrameTooLarge`` over the size limit."""

    async def close(self, code: int, reason: str) -> None:
        """Close with a WebSocket close code; safe to call more than once."""


@runtime_checkable
class DirectChannel(Channel, Protocol):
    """A channel that can also take a message already framed for the wire (``fast_ws``)."""

    def try_write(self, wire: bytes) -> bool:
        """Write now without awaiting, or return False: the caller then awaits ``send``."""
