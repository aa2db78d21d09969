"""The ``/ws/{doc_id}`` endpoint: moves frames between a socket and its room."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from canvasdoc import close_codes
from collab.asgi.client_address import trusted_proxies
from collab.asgi.starlette_channel import StarletteChannel
from collab.auth import AuthenticationError
from collab.auth.base import TOKEN_SUBPROTOCOL_PREFIX
from collab.auth.identity import check_doc_id
from collab.exceptions import (
    DocumentTooLarge,
    FrameTooLarge,
    InvalidDocumentId,
    InvalidUpdate,
    ProtocolError,
    RateLimited,
    TextFrame,
)
from collab.observability.logs import ThrottledLog
from collab.server import Server
from collab.session.connection import Connection
from collab.session.limits import implausible_sync
from collab.session.room import Room
from collab.session.transport import ChannelClosed

log = logging.getLogger(__name__)
_REFUSAL_LINES_PER_SECOND = 10
# Per process, as the log it protects; a refusal past the limit is still counted in metrics.
_refusals = ThrottledLog(log, logging.WARNING, _REFUSAL_LINES_PER_SECOND)
_bad_input = ThrottledLog(log, logging.WARNING, _REFUSAL_LINES_PER_SECOND)
# Close codes counted as a client sent them when the client ended the connection; any other
# code a client sends (its own 1011 on exit, an application code) is counted as "client":
# it is not the server's verdict, and clients must not add label values at will.
_CLIENT_ENDS = frozenset((close_codes.NORMAL, close_codes.GOING_AWAY, 1005, 1006, 1012))
_SERVER_CODES = frozenset(
    v for k, v in vars(close_codes).items() if k.isupper() and isinstance(v, int)
)
_CLOSE_TIMEOUT = 2.0
_FAIR_SHARE = 16  # frames handled from one connection before others get a turn


async def websocket_endpoint(websocket: WebSocket) -> None:
    server: Server = websocket.app.state.server
    peer = websocket.client.host if websocket.client else "unknown"
    address = trusted_proxies(server.settings.trusted_proxies).client_address(
        peer, websocket.headers.getlist("forwarded"), websocket.headers.getlist("x-forwarded-for")
    )
    refused = server.address_guard.admit(address)
    if refused is not None:
        server.metrics.connections_refused.inc()
        code = await _deny(websocket, 429, refused)
        _refusal(server, websocket, address, code, refused)
        return
    detached = False
    try:
        detached = await _accepted(websocket, server, address)
    finally:
        if not detached:  # else the session's end releases the address
            server.address_guard.release(address)


def _refusal(
    server: Server, websocket: WebSocket, address: str, code: int, reason: str, **who: object
) -> None:
    """Count a refused upgrade under the HTTP status or close code it got, and log it: an
    expected event (a bad token, a foreign origin, a limit), so a warning, and rate-limited,
    since a client can cause any number of them."""
    server.metrics.connections_closed.labels(str(code)).inc()
    doc_id = websocket.scope["path"].removeprefix("/ws/")[:140]
    _refusals.log(
        "connection refused",
        {"address": address, "doc_id": doc_id, "code": code, "reason": reason, **who},
    )


async def _close_at_once(websocket: WebSocket, code: int, reason: str) -> None:
    await websocket.accept()
    await StarletteChannel(websocket, max_frame_bytes=1024).close(code, reason)


def _subprotocol(websocket: WebSocket) -> str | None:
    """Browsers send the token as a subprotocol and require one to be echoed: echo the plain
    ``nexus`` protocol when offered, never the token."""
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    if "nexus" in offered:
        return "nexus"
    return next((p for p in offered if p.startswith(TOKEN_SUBPROTOCOL_PREFIX)), None)


def origin_allowed(origin: str, connection: HTTPConnection, allowed: tuple[str, ...]) -> bool:
    """Same host as the server, or listed in NEXUS_ALLOWED_ORIGINS ("*" allows any)."""
    if "*" in allowed or origin.rstrip("/") in allowed:
        return True
    host = connection.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def _deny(websocket: WebSocket, status: int, message: str) -> int:
    """Refuse the upgrade with an HTTP answer (or a close where the server cannot); returns
    the status or close code sent."""
    response = JSONResponse({"error": "refused", "message": message}, status_code=status)
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:
        await websocket.accept()
        await websocket.close(close_codes.TRY_AGAIN_LATER, message[:120])
        return close_codes.TRY_AGAIN_LATER
    return status


async def _accepted(websocket: WebSocket, server: Server, address: str) -> bool:
    """Refuse, or serve the connection; True when it lives on past this call (detached):
    then its session's ``end`` releases what the endpoint holds for it."""
    settings = server.settings
    # Taken from the raw path: the route pattern's "$" would let "doc\n" match as "doc".
    doc_id = websocket.scope["path"].removeprefix("/ws/")
    origin = websocket.headers.get("origin")
    if origin is not None and not origin_allowed(origin, websocket, settings.origins):
        reason = f"origin {origin!r} is not allowed (NEXUS_ALLOWED_ORIGINS)"
        code = await _deny(websocket, 403, reason)
        _refusal(server, websocket, address, code, reason, origin=origin)
        return False
    principal = None
    try:
        check_doc_id(doc_id)
        principal = await server.authenticator.authenticate(websocket)
        role = await server.access.require(principal, doc_id, "viewer", create=True)
    except AuthenticationError as exc:
        who = {"user": principal.user_id} if principal is not None else {}
        if exc.status == 400:
            await _close_at_once(websocket, close_codes.INVALID_DOCUMENT_ID, str(exc))
            code = close_codes.INVALID_DOCUMENT_ID
        else:  # refused before any document data is sent
            code = await _deny(websocket, exc.status, str(exc))
        _refusal(server, websocket, address, code, str(exc), **who)
        return False
    except InvalidDocumentId as exc:
        await _close_at_once(websocket, close_codes.INVALID_DOCUMENT_ID, str(exc))
        _refusal(server, websocket, address, close_codes.INVALID_DOCUMENT_ID, str(exc))
        return False
    await websocket.accept(subprotocol=_subprotocol(websocket))
    channel = StarletteChannel(websocket, max_frame_bytes=settings.max_frame_bytes)
    channel.drop_handshake()
    conn = Connection(
        channel,
        principal,
        max_queue_bytes=settings.send_queue_bytes,
        max_queue_messages=settings.send_queue_messages,
        on_sent=server.metrics.on_sent,
        max_messages_per_second=settings.max_messages_per_second,
        max_bytes_per_second=settings.max_bytes_per_second,
        role=role,
        budget=server.frame_budget,
    )
    server.metrics.connections.inc()
    session = _Session(server, doc_id, address, conn, channel)
    detached = False
    try:
        try:
            room = await server.rooms.acquire(doc_id)
        except Exception as exc:
            conn.abort(close_codes.INTERNAL_ERROR, f"document {doc_id!r} could not be loaded")
            log.error("room unavailable", extra={"doc_id": doc_id, "error": str(exc)})
            return False
        try:
            room.join(conn)
            session.room = room
            detached = await _serve(session)
        finally:
            if not detached:
                room.leave(conn)
                server.rooms.release(doc_id)
    finally:
        if not detached:
            await session.count_and_close()
    return detached


class _Session:
    """An accepted connection in its room: what the protocol calls back as frames and the
    disconnect arrive, and what ends it. One slotted object rather than closures (a cell per
    captured name): thousands are held at once, most of them idle."""

    __slots__ = ("address", "channel", "conn", "doc_id", "ended_by_client", "room", "server")

    def __init__(
        self,
        server: Server,
        doc_id: str,
        address: str,
        conn: Connection,
        channel: StarletteChannel,
    ) -> None:
        self.server = server
        self.doc_id = doc_id
        self.address = address
        self.conn = conn
        self.channel = channel
        self.room: Room | None = None
        self.ended_by_client = False

    def receive(self, frame: bytes) -> None:
        conn = self.conn
        if conn.closed.is_set():
            return  # closed: what the peer still sends is dropped
        room = self.room
        assert room is not None
        try:
            if len(frame) > self.channel.max_frame_bytes:
                raise FrameTooLarge(len(frame), self.channel.max_frame_bytes)
            _handle(room, conn, frame)
        except Exception as exc:
            _fail(room, conn, exc)

    def text(self) -> None:
        assert self.room is not None
        _fail(self.room, self.conn, TextFrame())

    def client_closed(self, code: int | None, server_reason: str | None = None) -> None:
        conn = self.conn
        if conn.closed.is_set():  # not after the server's own close
            return
        if server_reason is not None:  # the protocol closed it: budget, malformed frame
            _bad_input.log(
                "connection closed by the protocol",
                {
                    "doc_id": self.doc_id,
                    "connection": conn.id,
                    "code": code,
                    "reason": server_reason,
                },
            )
            conn.abort(code or close_codes.TRY_AGAIN_LATER, server_reason)
            return
        self.ended_by_client = code != 1012  # 1012: uvicorn's shutdown, not the client
        conn.abort(code or close_codes.NORMAL, "closed by client")

    def closed(self) -> None:
        """``conn.closed`` was set on a detached connection: end it."""
        self.channel.start(self.end())

    async def end(self) -> None:
        """What the endpoint does after its connection closed, for a detached one."""
        try:
            try:
                self.channel.clear_receiver()
                await self.conn.stop()
            finally:
                assert self.room is not None
                self.room.leave(self.conn)
                self.server.rooms.release(self.doc_id)
        finally:
            try:
                await self.count_and_close()
            finally:
                self.server.address_guard.release(self.address)

    async def count_and_close(self) -> None:
        conn, metrics = self.conn, self.server.metrics
        metrics.connections.dec()
        metrics.connections_closed.labels(_closed_label(conn, self.ended_by_client)).inc()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self.channel.close(conn.close_code or close_codes.NORMAL, conn.close_reason)


def _closed_label(conn: Connection, ended_by_client: bool) -> str:
    """The ``code`` label a closed connection is counted under (docs/operations.md)."""
    code = conn.close_code
    if code in _CLIENT_ENDS or (not ended_by_client and code in _SERVER_CODES):
        return str(code)
    return "client"  # a code of the client's own, also one a failed send reported


async def _serve(session: _Session) -> bool:
    """Serve until the connection closes; True: detached instead (the protocol calls the
    session back, ``session.end`` runs once it closed)."""
    room, conn, channel = session.room, session.conn, session.channel
    assert room is not None
    # Binary messages go straight from the protocol to the room when it can (fast_ws), and
    # so do a text message and the disconnect: then no reader task waits for each connection,
    # and with ``detach`` not even this coroutine.
    if channel.set_receiver(session.receive, on_text=session.text, on_closed=session.client_closed):
        if channel.detach():
            conn.closed.call_when_set(session.closed)
            return True
        try:
            await conn.closed.wait()
        finally:
            channel.clear_receiver()
            await conn.stop()
        return False
    reader = asyncio.create_task(_read(room, conn, session.client_closed), name=f"recv:{conn.id}")
    try:
        await conn.closed.wait()
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await conn.stop()
    return False


def _handle(room: Room, conn: Connection, frame: bytes) -> None:
    conn.check_rate(len(frame))
    if frame[:1] == b"\x00":  # a sync message: refuse a decompression bomb unread
        why = implausible_sync(frame)
        if why is not None:
            raise InvalidUpdate(why)
    room.receive(conn, frame)


async def _read(
    room: Room, conn: Connection, client_closed: Callable[[int | None, str | None], None]
) -> None:
    received = 0
    try:
        while True:
            frame = await conn.channel.recv()
            _handle(room, conn, frame)
            received += 1
            if received % _FAIR_SHARE == 0:
                # recv() does not yield while frames are buffered: without this, one flooding
                # connection's backlog runs ahead of every other connection's messages.
                await asyncio.sleep(0)
    except ChannelClosed as exc:
        client_closed(exc.code, None)
    except Exception as exc:
        _fail(room, conn, exc)


def _fail(room: Room, conn: Connection, exc: Exception) -> None:
    """Close ``conn`` with the code that names what was wrong with its input."""
    for kind, code in _CLOSE_CODES:
        if isinstance(exc, kind):
            _refuse(room, conn, code, exc)
            return
    log.exception("unexpected error handling a frame", extra={"doc_id": room.doc_id})
    _refuse(room, conn, close_codes.INTERNAL_ERROR, exc)


_CLOSE_CODES: tuple[tuple[type[Exception], int], ...] = (
    (FrameTooLarge, close_codes.MESSAGE_TOO_BIG),
    (RateLimited, close_codes.POLICY_VIOLATION),
    (DocumentTooLarge, close_codes.DOCUMENT_TOO_LARGE),
    (InvalidUpdate, close_codes.INVALID_PAYLOAD),
    (TextFrame, close_codes.UNSUPPORTED_DATA),
    (ProtocolError, close_codes.PROTOCOL_ERROR),
)


def _refuse(room: Room, conn: Connection, code: int, exc: Exception) -> None:
    _bad_input.log(
        "closing connection after bad input",
        {
            "doc_id": room.doc_id,
            "connection": conn.id,
            "user": conn.principal.user_id,
            "code": code,
            "reason": str(exc),
        },
    )
    conn.abort(code, str(exc))
