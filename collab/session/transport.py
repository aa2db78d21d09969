"""The transport a room talks to: one bidirectional stream of binary frames.

The room and connection logic only see this protocol; Starlette's WebSocket is one adapter
(``collab/asgi/starlette_channel.py``), tests can supply in-memory ones. Framing belongs to the
transport: a room hands a broadcast's message over once as a :class:`SharedFrame`, and a
``DirectChannel`` frames it with its own ``framer`` (the first receiver frames it, the others
of the same kind of transport reuse those bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

Framer = Callable[[bytes], bytes]
"""Turns a message into the bytes a transport writes for it (a WebSocket frame)."""


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
    """A channel that can also take a message already framed for the wire, written at once
    (``collab/asgi/uvicorn_ws.py``)."""

    @property
    def framer(self) -> Framer:
        """How this channel frames a message for ``try_write``."""

    def try_write(self, wire: bytes) -> bool:
        """Write now without awaiting, or return False: the caller then awaits ``send``."""


class SharedFrame:
    """One message sent to several receivers, framed once per framer."""

    __slots__ = ("_framer", "_wire", "payload")

    def __init__(self, payload: bytes, *, framer: Framer | None = None, wire: bytes = b"") -> None:
        self.payload = payload
        self._framer = framer  # ``wire`` is ``payload`` framed by it (when given)
        self._wire = wire

    def wire(self, framer: Framer) -> bytes:
        if framer is not self._framer:
            self._wire = framer(self.payload)
            self._framer = framer
        return self._wire
