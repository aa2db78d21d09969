"""Adapter from Starlette's WebSocket to the ``Channel`` protocol."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from collab.asgi.uvicorn_ws import DIRECT_WRITE, SERVER_CLOSE, DirectWriter, Receiver, frame_binary
from collab.exceptions import FrameTooLarge, TextFrame
from collab.session.transport import ChannelClosed, Framer

_WRITERS: dict[type, bool] = {}
# What Starlette's WebSocket sets in its __init__ and keeps up to date; the rest are caches.
_WEBSOCKET_STATE = frozenset(("scope", "_receive", "_send", "client_state", "application_state"))


def _is_writer(writer: object) -> bool:
    """``isinstance(writer, DirectWriter)``, answered once per class (a runtime-checkable
    Protocol check looks up every member each time)."""
    kind = type(writer)
    answer = _WRITERS.get(kind)
    if answer is None:
        answer = _WRITERS[kind] = isinstance(writer, DirectWriter)
    return answer


class StarletteChannel:
    # One per connection, most of them idle: no instance dict.
    __slots__ = ("_closed", "_max", "_on_closed", "_on_text", "_path", "_writer", "_ws")

    def __init__(self, websocket: WebSocket, *, max_frame_bytes: int) -> None:
        self._ws = websocket
        self._on_text: Callable[[], None] | None = None
        self._on_closed: Callable[[int | None, str | None], None] | None = None
        self._max = max_frame_bytes
        self._closed = False
        # Under NexusWebSocketProtocol (collab/asgi/uvicorn_ws.py): pre-framed writes skip ASGI.
        writer = websocket.scope.get("extensions", {}).get(DIRECT_WRITE, {}).get("writer")
        self._writer: DirectWriter | None = writer if _is_writer(writer) else None
        self._path: str = websocket.scope["path"]

    def drop_handshake(self) -> None:
        """Forget the handshake's scope (headers, query, server state, ~2 KiB a connection)
        and what Starlette cached from it: once accepted, nothing reads them again, and an
        idle connection should not keep them for hours. Only ``type`` and ``path`` stay."""
        scope = self._ws.scope
        kept = {"type": scope["type"], "path": scope["path"]}
        scope.clear()  # in place: uvicorn's protocol holds the same dict
        scope.update(kept)
        state = vars(self._ws)
        for name in [name for name in state if name not in _WEBSOCKET_STATE]:
            del state[name]  # Starlette's cached headers, URL, query parameters

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
        self._on_text, self._on_closed = on_text, on_closed
        self._writer.set_receiver(receiver, self._on_event)
        return True

    def _on_event(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.disconnect":
            self._closed = True
            by_server = message.get(SERVER_CLOSE)
            if self._on_closed is not None:
                self._on_closed(message.get("code"), message.get("reason") if by_server else None)
        elif self._on_text is not None:
            self._on_text()

    def detach(self) -> bool:
        """After ``set_receiver``: let the endpoint return with the connection open, so that
        an idle connection holds no task and no suspended coroutines; the endpoint's ending
        (``start``) closes it. False when the server protocol cannot (keep awaiting)."""
        return self._writer is not None and self._writer.detach()

    def start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run a detached connection's ending as a task the server's shutdown waits for."""
        assert self._writer is not None, "start is for detached connections"
        self._writer.start(coroutine)

    def clear_receiver(self) -> None:
        """Back to ``recv`` for everything (after ``set_receiver``)."""
        if self._writer is not None:
            self._writer.set_receiver(None)
        self._on_text = self._on_closed = None

    @property
    def max_frame_bytes(self) -> int:
        return self._max

    @property
    def path(self) -> str:
        return self._path

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
