"""The WebSocket protocol the server runs under uvicorn, with a direct write path for fan-out.

A broadcast sends the same y-websocket message to every connection of a room. Through ASGI each
delivery costs a queue hand-off, a sender-task wake-up, Starlette's and uvicorn's ``send``
wrappers and re-framing by ``websockets`` — 45 % of the server's CPU under painting load
(docs/performance.md). A server-to-client frame is unmasked, so without a compression
extension its bytes are the same for every receiver: ``frame_binary`` builds them once per
broadcast, and ``DirectWriter.try_write`` hands them straight to the connection's transport.

``NexusWebSocketProtocol`` is uvicorn's sans-I/O protocol (``websockets`` 14+), unchanged
except that an accepted connection's scope carries it under ``DIRECT_WRITE``, that the app
may take binary messages through a callback (``set_receiver``: the room handles each one as
uvicorn parses it, instead of a queue hand-off and a task wake-up per message), and that
reading pauses only under a backlog of queued messages, not after each one. ``try_write``
refuses (returns False) whenever a direct write could be wrong — before the handshake, after a
close was sent or received, when the transport is paused by back-pressure, or when
permessage-deflate was negotiated — and the caller then falls back to the ASGI ``send``.
Receiving, the handshake, pings and closes stay entirely uvicorn's.

Memory: every connection reports the bytes it holds — a partially received frame in
``websockets``' reader, fragments of a message being assembled, parsed frames waiting for
their turn, unsent bytes in the transport's write buffer — to the process's ``FrameBudget``
(``collab/session/budget.py``; the app hands it over in the lifespan state under
``FRAME_BUDGET``), which closes the biggest holders with 1013 when all of them together hold
more than ``NEXUS_FRAME_BUDGET_BYTES``. While its transport's write buffer is over the high
water mark (the peer does not read) a connection's reading pauses too: a client that does not
read its replies gets no new requests handled.

Idle connections (docs/performance.md, S3): every attribute is a slot (uvicorn's class sets
too many for a key-sharing instance dict); the app may ``detach`` once it takes its messages
through callbacks, so that its ASGI call returns while the connection stays open (no task or
suspended coroutine frames per idle connection; its ending runs as a task of its own,
``start``); keepalive pings and pong deadlines are filed in one process-wide wheel
(``collab/asgi/keepalive.py``) instead of a timer per connection; the handshake's request,
response and addresses are dropped once the connection is accepted.

Two changes to its logging: a refused upgrade (the app answered with an HTTP denial) is a
completed handshake, not an error (uvicorn logs "ASGI callable returned without completing
handshake." at ERROR for each); and the INFO lines uvicorn and websockets write for every
handshake ("WebSocket /ws/x" [accepted], "connection open", "connection rejected") are
logged at DEBUG: the app logs refusals itself, rate-limited (collab/asgi/ws_endpoint.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, runtime_checkable

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import Protocol as WebSocketProtocol
from websockets.protocol import State

from collab.asgi import keepalive
from collab.session.budget import FrameBudget
from foundation.aio import LightEvent

DIRECT_WRITE = "nexus.direct_write"  # key in scope["extensions"]
FRAME_BUDGET = "nexus.frame_budget"  # key in the lifespan state: the process's FrameBudget
# Set in the disconnect event of a connection the protocol closed itself (the frame budget
# shed it, or websockets refused a malformed frame): the server's verdict, not the client's.
SERVER_CLOSE = "nexus.server_close"
# The releases whose internals this module was written against and tested with (pyproject pins
# the same ranges); tests/collab/asgi/test_uvicorn_ws.py fails on any other.
SUPPORTED_VERSIONS = {"uvicorn": "0.54.", "websockets": "17."}

_OPCODE_BINARY_FIN = 0x82
_READ_BACKLOG = 64  # received messages queued for the app before reading pauses ...
_SMALL_MESSAGE = 64 * 1024  # ... or at once after a bigger one: at most ~4 MiB queued
_EVENTS_PER_TURN = 32  # frames handled from one read before other connections get a turn
_UPGRADES_PER_TURN = 4  # upgrades handed to the app per loop turn (a connection storm)


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


Receiver = Callable[[bytes], None]
EventSink = Callable[[dict[str, Any]], None]


@runtime_checkable
class DirectWriter(Protocol):
    def try_write(self, wire: bytes) -> bool:
        """Write an already framed message now, or return False (the caller uses ASGI)."""

    def set_receiver(self, receiver: Receiver | None, on_event: EventSink | None = None) -> None:
        """Hand every binary message to ``receiver`` as it is parsed, and every other ASGI
        receive event (a text message, the disconnect) to ``on_event`` (None: back to
        ASGI's ``receive``)."""

    def detach(self) -> bool:
        """Let the app's ASGI call return with the connection open (False: it cannot)."""

    def start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a task the server's shutdown waits for."""


class _Inbox:
    """What uvicorn's ``asyncio.Queue`` of received events is used for, in a fraction of its
    memory (a Queue holds three deques, ~2.4 KiB, for every connection): a list, and at most
    one waiter, since only the app's ``receive`` takes from it."""

    __slots__ = ("_items", "_waiter", "divert")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None
        self.divert: EventSink | None = None  # takes the events instead, when set

    def put_nowait(self, item: Any) -> None:
        if self.divert is not None:
            self.divert(item)
            return
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


class _HandshakeLog(logging.LoggerAdapter[logging.Logger]):
    """``uvicorn.error`` with the per-handshake INFO lines moved to DEBUG; warnings and errors
    stay as they are. ``level`` is read by uvicorn (its TRACE checks)."""

    @property
    def level(self) -> int:
        return self.logger.level

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


_HANDSHAKE_LOG = _HandshakeLog(logging.getLogger("uvicorn.error"))


class _UpgradeGate:
    """At most ``_UPGRADES_PER_TURN`` upgrades handed to the app per event-loop turn.

    Each upgrade costs the app a millisecond or so (the handshake answer, authentication,
    joining the room, the first sync); a storm of hundreds arriving in one read of the
    listening socket would otherwise run back to back while every other connection's frames
    wait. Waiting upgrades stay parsed, their connection's reading paused, and are let in a few
    per turn, in arrival order, between the other connections' callbacks."""

    __slots__ = ("loop", "started", "waiting")

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = 0  # upgrades let in during the current turn
        self.waiting: deque[NexusWebSocketProtocol] = deque()

    def admit(self, protocol: NexusWebSocketProtocol) -> bool:
        """True: go ahead now; False: ``protocol._next_turn`` is called when it may."""
        if protocol.admitted:
            return True
        if protocol.loop is not self.loop:  # a fresh loop (tests run several)
            self.loop, self.started, self.waiting = protocol.loop, 0, deque()
        if self.started < _UPGRADES_PER_TURN and not self.waiting:
            if self.started == 0:
                protocol.loop.call_soon(self._turn)
            self.started += 1
            protocol.admitted = True
            return True
        self.waiting.append(protocol)
        return False

    def _turn(self) -> None:
        self.started = 0
        while self.waiting and self.started < _UPGRADES_PER_TURN:
            protocol = self.waiting.popleft()
            if protocol.disconnected:
                continue
            self.started += 1
            protocol.admitted = True
            protocol._next_turn()
        if self.started and self.loop is not None:
            self.loop.call_soon(self._turn)


_UPGRADES = _UpgradeGate()


class NexusWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol that exposes ``try_write`` and
    ``set_receiver`` to the app."""

    # Every attribute uvicorn's __init__ and handshake set, and ours, as slots: uvicorn's
    # class sets over 30, past what CPython's key-sharing instance dicts hold, so each
    # connection got a dict of its own (~1.6 KiB); slots cost 8 bytes each and leave the
    # (inherited) instance dict unused.
    __slots__ = (
        "_backlog", "_budget", "_detached", "_held", "_receiver", "_turn_paused", "_write_paused",
        "admitted", "app", "app_state", "asgi_version", "client", "close_sent", "close_timeout",
        "close_timer", "config", "conn", "connections", "curr_msg_data_type", "default_headers",
        "disconnected", "frames", "handshake_complete", "handshake_initiated", "initial_response",
        "keepalive_tick", "last_ping_rtt", "logger", "loop", "pending_ping_payload",
        "ping_interval", "ping_sent_at", "ping_timeout", "ping_timer", "pong_timer", "queue",
        "read_paused", "request", "response", "root_path", "scheme", "scope", "server", "tasks",
        "transport", "writable",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._receiver: Receiver | None = None
        self._detached = False  # the app's call may return with the connection open
        self.keepalive_tick = -1  # where the keepalive wheel has it filed (-1: nowhere)
        super().__init__(*args, **kwargs)
        self.logger = _HANDSHAKE_LOG  # type: ignore[assignment]
        self.conn.logger = _HANDSHAKE_LOG
        self._backlog: list[Any] = []  # parsed events not handled yet (a long read)
        self._turn_paused = False
        self._write_paused = False  # reading paused because the peer does not read
        self.admitted = False  # its upgrade passed the gate (_UpgradeGate)
        budget = self.app_state.get(FRAME_BUDGET)
        self._budget: FrameBudget | None = budget if isinstance(budget, FrameBudget) else None
        self._held = 0  # bytes reported to the budget
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = LightEvent()  # type: ignore[assignment]
        self.writable.set()

    def set_receiver(self, receiver: Receiver | None, on_event: EventSink | None = None) -> None:
        inbox: _Inbox = self.queue  # type: ignore[assignment]
        if receiver is not None:
            # What was queued before now is handed over first, in order; without an
            # ``on_event`` the other events stay for the app's ASGI receive.
            queued = []
            while not inbox.empty():
                queued.append(inbox.get_nowait())
            for message in queued:
                data = message.get("bytes") if message["type"] == "websocket.receive" else None
                if data is not None:
                    receiver(data)
                elif on_event is not None:
                    on_event(message)
                else:
                    inbox.put_nowait(message)
        self._receiver = receiver
        inbox.divert = on_event if receiver is not None else None

    def detach(self) -> bool:
        """Let the app's ASGI call return while the connection stays open (uvicorn closes it
        when the call returns): an idle connection then holds no task and no suspended
        coroutine frames. The app closes it later through its ``send`` as before. False when
        it cannot (not accepted, or already closing)."""
        if not self.handshake_complete or self.close_sent or self.disconnected:
            return False
        if self.initial_response is not None or self._receiver is None:
            return False
        self._detached = True
        return True

    def start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a task uvicorn's shutdown waits for, as it waits for the app's
        (a detached connection's end: leaving its room, the closing handshake)."""
        task = self.loop.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # What run_asgi logs for an app that raised, had it still been awaiting.
            self.logger.error("Exception in ASGI application\n", exc_info=exc)

    async def run_asgi(self) -> None:
        """uvicorn's, except that an app that returned after ``detach`` leaves the connection
        open."""
        detached = False
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
            detached = self._detached
        if self.close_timer is None and not detached:
            self.transport.close()

    # -- keepalive: filed in the process's wheel (keepalive.py), not a timer each ----------

    def schedule_ping(self) -> None:
        assert self.ping_interval is not None
        delay = max(0.0, self.ping_interval - self.last_ping_rtt)
        keepalive.wheel(self.loop).add(self, delay)

    def send_keepalive_ping(self) -> None:
        """uvicorn's, with the pong deadline filed in the wheel."""
        if self.close_sent or self.transport.is_closing():
            return
        self.pending_ping_payload = struct.pack("!I", random.getrandbits(32))
        self.ping_sent_at = self.loop.time()
        self.conn.send_ping(self.pending_ping_payload)
        self.transport.write(b"".join(self.conn.data_to_send()))
        if self.ping_timeout is not None:
            keepalive.wheel(self.loop).add(self, self.ping_timeout)
        else:
            self.schedule_ping()

    def keepalive_due(self) -> None:
        if self.pending_ping_payload is not None and self.ping_timeout is not None:
            self.keepalive_timeout()  # no pong in time
        else:
            self.send_keepalive_ping()

    def handle_pong(self, event: Frame) -> None:
        if self.pending_ping_payload is None or bytes(event.data) != self.pending_ping_payload:
            return  # unsolicited, or a stale one
        self.last_ping_rtt = self.loop.time() - self.ping_sent_at
        self.pending_ping_payload = None
        if self.ping_timeout is not None:
            self.schedule_ping()  # in place of the pong deadline

    def stop_keepalive(self) -> None:
        if self.keepalive_tick >= 0:
            keepalive.wheel(self.loop).remove(self)
        super().stop_keepalive()

    # -- the frame budget --------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._budget is not None:
            self._account()

    def _account(self) -> None:
        """Report the bytes this connection holds now to the budget (which may shed it)."""
        budget = self._budget
        if budget is None or self.disconnected:
            return
        held = len(self.conn.reader.buffer)
        if self.frames:
            held += sum(map(len, self.frames))
        for event in self._backlog:
            if isinstance(event, Frame):
                held += len(event.data)
        if self.transport is not None:
            held += self.transport.get_write_buffer_size()
        if held != self._held:
            self._held = held
            budget.set(self, held, "receive")

    def shed(self, reason: str) -> None:
        """Close at once with 1013 (the budget's verdict), dropping what is held."""
        self._held = 0
        self._backlog = []
        self.frames = []
        if self.disconnected or self.transport is None:
            return
        if not self.handshake_complete or self.close_sent:
            self.transport.abort()
            return
        self.conn.fail(1013, reason[:120])
        wire = b"".join(self.conn.data_to_send())
        self.close_sent = True
        inbox: _Inbox = self.queue  # type: ignore[assignment]
        inbox.put_nowait(
            {"type": "websocket.disconnect", "code": 1013, "reason": reason, SERVER_CLOSE: True}
        )
        if self.transport.get_write_buffer_size() or not self.writable.is_set():
            self.transport.abort()  # the peer does not read: drop its unsent bytes now
            return
        self.transport.write(wire)
        self.transport.close()

    def pause_writing(self) -> None:
        super().pause_writing()
        if not self._write_paused:
            self._write_paused = True
            self.transport.pause_reading()
        if self._budget is not None:
            # Called from inside the transport's write: shed (if it must) after it returns.
            self.loop.call_soon(self._account)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_paused:
            self._write_paused = False
            if self._backlog:
                self.loop.call_soon(self._next_turn)
            elif not (self.read_paused or self._turn_paused or self.disconnected):
                self.transport.resume_reading()
        self._account()

    def handle_parser_exception(self) -> None:
        """uvicorn's, with the disconnect marked as the server's close (a malformed frame:
        1002, 1007, 1009), so the app counts it under that code rather than the client's."""
        sent = self.conn.close_sent
        if sent is None or not self.handshake_complete or self._receiver is None:
            super().handle_parser_exception()
            return
        reason = sent.reason or f"malformed frame (close {sent.code})"
        inbox: _Inbox = self.queue  # type: ignore[assignment]
        inbox.put_nowait(
            {
                "type": "websocket.disconnect",
                "code": sent.code,
                "reason": reason,
                SERVER_CLOSE: True,
            }
        )
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()

    # -- handshake, events ------------------------------------------------------------------

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:  # the app runs: give it the direct path
            self.scope["extensions"][DIRECT_WRITE] = {"writer": self}

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if (
            message["type"] == "websocket.http.response.body"
            and not message.get("more_body", False)
            and self.initial_response is not None
        ):
            # The denial response was the handshake's answer: uvicorn's run_asgi would log
            # a refused upgrade at ERROR as a handshake never completed.
            self.handshake_complete = True
        elif message["type"] == "websocket.accept" and self.handshake_complete:
            # The handshake's request and response (headers and all, ~3 KiB) are not needed
            # once the response is sent; an idle connection should not keep them for hours.
            del self.request, self.response
            # The addresses (~280 B) only served the scope and uvicorn's TRACE lines.
            self.client = self.server = None
            conn = self.conn
            if conn.state is State.OPEN and not conn.reader.buffer:
                # websockets' parser generator keeps the parsed request in its frame for the
                # connection's life; nothing was received since, so a fresh frame parser
                # (what it runs next anyway) takes its place, as websockets' own discard()
                # swaps do.
                conn.parser = WebSocketProtocol.parse(conn)
                next(conn.parser)

    def handle_events(self) -> None:
        """uvicorn's, a turn at a time: at most ``_EVENTS_PER_TURN`` parsed events, then the
        rest after the other ready callbacks (reading paused meanwhile). One read can hold
        thousands of small frames (a flood, or a client catching up); handled in one go they
        would delay every other connection of the server for as long."""
        events = self.conn.events_received()
        if self._backlog:
            self._backlog.extend(events)
            return  # a turn is already scheduled; keep the order
        self._handle_turn(events)

    def _handle_turn(self, events: list[Any]) -> None:
        turn, rest = events[:_EVENTS_PER_TURN], events[_EVENTS_PER_TURN:]
        self._backlog = rest
        if rest:
            self._pause_turns()
        for i, event in enumerate(turn):
            if self._write_paused or (isinstance(event, Request) and not _UPGRADES.admit(self)):
                # The peer does not read our replies (resume_writing goes on), or its upgrade
                # waits for a later loop turn (the gate calls _next_turn then).
                self._backlog = turn[i:] + rest
                self._pause_turns()
                return
            self._handle_event(event)
        if rest:
            self.loop.call_soon(self._next_turn)

    def _pause_turns(self) -> None:
        if not self._turn_paused:
            self._turn_paused = True
            self.transport.pause_reading()

    def _next_turn(self) -> None:
        if self.disconnected:
            self._backlog = []
            return
        events, self._backlog = self._backlog, []
        self._handle_turn(events)
        if self._backlog and isinstance(self._backlog[0], Request):
            return  # still waiting for the gate
        if not self._backlog and self._turn_paused:
            self._turn_paused = False
            if not (self.read_paused or self._write_paused):
                self.transport.resume_reading()
        if self._held:
            self._account()

    def _handle_event(self, event: Any) -> None:
        if isinstance(event, Request):
            self.handle_connect(event)
        elif isinstance(event, Frame):
            if event.opcode == Opcode.CONT:
                self.handle_cont(event)
            elif event.opcode == Opcode.TEXT:
                self.handle_text(event)
            elif event.opcode == Opcode.BINARY:
                self.handle_bytes(event)
            elif event.opcode == Opcode.PING:
                self.handle_ping()
            elif event.opcode == Opcode.PONG:
                self.handle_pong(event)
            elif event.opcode == Opcode.CLOSE:
                self.handle_close(event)

    def connection_lost(self, exc: Exception | None) -> None:
        backlog, self._backlog = self._backlog, []
        if (backlog and isinstance(backlog[0], Request)) or self._write_paused:
            # Gone while its upgrade waited (nothing of it reached the app), or while it did
            # not read our replies: its requests need no answer, and its client sends its
            # updates again when it reconnects (sync step 2).
            backlog = []
        for event in backlog:  # received before the loss: handled before the disconnect
            self._handle_event(event)
        if self._budget is not None:
            self._held = 0
            self._budget.release(self)
        super().connection_lost(exc)

    def send_receive_event_to_app(self) -> None:
        """uvicorn's, but reading pauses only once ``_READ_BACKLOG`` small messages wait for
        the app (uvicorn pauses after every message, and the app's reader resumes it at once:
        two ``epoll_ctl`` calls per message received)."""
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return  # past websocket.close: reads stay active until the peer's close reply
        if self.curr_msg_data_type == "bytes" and self._receiver is not None:
            self._receiver(data)  # no queue, no task wake-up: the room applies it now
            return
        if self.curr_msg_data_type == "text":
            try:
                self.queue.put_nowait({"type": "websocket.receive", "text": data.decode()})
            except UnicodeDecodeError:
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        else:
            self.queue.put_nowait({"type": "websocket.receive", "bytes": data})
        if not self.read_paused and (
            self.queue.qsize() >= _READ_BACKLOG or len(data) > _SMALL_MESSAGE
        ):
            self.read_paused = True
            self.transport.pause_reading()

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
        if self._budget is not None and (self._held or len(wire) > _SMALL_MESSAGE):
            self._account()  # a big write the socket did not take at once is held here
        return True
