"""Adapter from Starlette's WebSocket to the ``Channel`` protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from collab.asgi.uvicorn_ws import DIRECT_WRITE, SERVER_CLOSE, DirectWriter, Receiver, frame_binary
from collab.exceptions import FrameTooLarge, TextFrame
from collab.session.transport import ChannelClosed, Framer

_WRITERS: dict[type, bool] = {}


def _is_writer(writer: object) -> bool:
    """``isinstance(writer, DirectWriter)``, answered once per class (a runtime-checkable
    Protocol check looks up every member each time)."""
    kind = type(writer)
    answer = _WRITERS.get(kind)
    if answer is None:
        answer = _WRITERS[kind] = isinstance(writer, DirectWriter)
    return answer


class StarletteChannel:
    def __init__(self, websocket: WebSocket, *, max_frame_bytes: int) -> None:
        self._ws = websocket
        self._max = max_frame_bytes
        self._closed = False
        # Under NexusWebSocketProtocol (collab/asgi/uvicorn_ws.py): pre-framed writes skip ASGI.
        writer = websocket.scope.get("extensions", {}).get(DIRECT_WRITE, {}).get("writer")
        self._writer: DirectWriter | None = writer if _is_writer(writer) else None

    @property
    def framer(self) -> Framer:
        """Server-to-client WebSocket framing (unmasked binary frames)."""
        return frame_binary

    def try_write(self, wire: bytes) -> bool:
        """Write an already framed message straight to the socket, if that is safe now."""
        return not self._closed and self._writer is not None and self._writer.try_write(wire)

    def set_receiver(
        self,
        receiver: Receiver,
        *,
        on_text: Callable[[], None],
        on_closed: Callable[[int | None, str | None], None],
    ) -> bool:
        """Have every binary message handed to ``receiver`` as it arrives, a text message
        reported to ``on_text`` and the disconnect to ``on_closed(code, reason)``: ``reason``
        is None when the peer ended it, the server's reason when the protocol closed it itself
        (the frame budget shed it, or a frame was malformed). Nothing then waits in
        ``recv``. False when the server protocol cannot (use ``recv``)."""
        if self._writer is None:
            return False

        def on_event(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.disconnect":
                self._closed = True
                by_server = message.get(SERVER_CLOSE)
                on_closed(message.get("code"), message.get("reason") if by_server else None)
            else:
                on_text()

        self._writer.set_receiver(receiver, on_event)
        return True

    def clear_receiver(self) -> None:
        """Back to ``recv`` for everything (after ``set_receiver``)."""
        if self._writer is not None:
            self._writer.set_receiver(None)

    @property
    def max_frame_bytes(self) -> int:
        return self._max

    @property
    def path(self) -> str:
        return self._ws.url.path

    async def send(self, message: bytes) -> None:
        if self._closed:
            raise ChannelClosed(None, "closed locally")
        try:
            await self._ws.send({"type": "websocket.send", "bytes": message})
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            self._closed = True
            raise ChannelClosed(getattr(exc, "code", None), str(exc)) from exc

    async def recv(self) -> bytes:
        message = await self._ws.receive()
        kind = message["type"]
        if kind == "websocket.disconnect":
            self._closed = True
            raise ChannelClosed(message.get("code"), message.get("reason") or "")
        data = message.get("bytes")
        if data is None:
            raise TextFrame()
        if len(data) > self._max:
            raise FrameTooLarge(len(data), self._max)
        return bytes(data)

    async def close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        if self._ws.application_state == WebSocketState.DISCONNECTED:
            return
        try:
            # A close reason is limited to 123 bytes by RFC 6455.
            await self._ws.close(code=code, reason=reason.encode()[:123].decode(errors="ignore"))
        except (RuntimeError, OSError, WebSocketDisconnect):
            pass  # the peer is gone already (uvicorn reports it as a disconnect)
