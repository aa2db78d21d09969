"""The WebSocket protocol the server runs under uvicorn, with a direct write path for fan-out.

A broadcast sends the same y-websocket message to every connection of a room. Through ASGI each
delivery costs a queue hand-off, a sender-task wake-up, Starlette's and uvicorn's ``send``
wrappers and re-framing by ``websockets`` — 45 % of the server's CPU under painting load
(docs/performance.md). A server-to-client frame is unmasked, so without a compression
extension its bytes are the same for every receiver: ``frame_binary`` builds them once per
broadcast, and ``DirectWriter.try_write`` hands them straight to the connection's transport.

``NexusWebSocketProtocol`` is uvicorn's sans-I/O protocol (``websockets`` 14+), unchanged
except that an accepted connection's scope carries it under ``DIRECT_WRITE``. ``try_write``
refuses (returns False) whenever a direct write could be wrong — before the handshake, after a
close was sent or received, when the transport is paused by back-pressure, or when
permessage-deflate was negotiated — and the caller then falls back to the ASGI ``send``.
Receiving, the handshake, pings and closes stay entirely uvicorn's.
"""

from __future__ import annotations

import struct
from typing import Protocol, runtime_checkable

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

DIRECT_WRITE = "nexus.direct_write"  # key in scope["extensions"]

_OPCODE_BINARY_FIN = 0x82


def frame_binary(payload: bytes) -> bytes:
    """One unmasked, final, binary WebSocket frame (RFC 6455 §5.2) holding ``payload``."""
    size = len(payload)
    if size < 126:
        header = bytes((_OPCODE_BINARY_FIN, size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", _OPCODE_BINARY_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _OPCODE_BINARY_FIN, 127, size)
    return header + payload


@runtime_checkable
class DirectWriter(Protocol):
    def try_write(self, wire: bytes) -> bool:
        """Write an already framed message now, or return False (the caller uses ASGI)."""


class NexusWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol that exposes ``try_write`` to the app."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:  # the app runs: give it the direct path
            self.scope["extensions"][DIRECT_WRITE] = {"writer": self}

    def try_write(self, wire: bytes) -> bool:
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.initial_response is not None
            or not self.writable.is_set()
            or self.conn.extensions  # deflate: each receiver's bytes differ
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(wire)
        return True
