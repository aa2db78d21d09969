"""One client connection: a direct write when the socket keeps up, else a bounded send queue.

The room never awaits a socket. ``send`` writes the frame at once when the channel can take it
without waiting (``DirectChannel.try_write``: nothing queued, the transport not paused) —
the common case, and the cheap one. Otherwise it enqueues, and a sender task (started for
the backlog, gone when it is drained) awaits the socket. A connection whose queue grows past
its byte or message bound has fallen too far behind; it is closed with ``SLOW_CONSUMER`` and
its client resyncs (sync step 1/2) when it reconnects, so nothing is lost by dropping it.
The queue's bytes also count against the process's ``FrameBudget`` (all connections
together); when that is exhausted the connections holding the most are closed with
``TRY_AGAIN_LATER``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TypeGuard

from canvasdoc import close_codes
from collab.auth.identity import Principal
from collab.exceptions import RateLimited
from collab.session.budget import FrameBudget
from collab.session.limits import TokenBucket
from collab.session.transport import Channel, ChannelClosed, DirectChannel, Framer, SharedFrame
from foundation.aio import LightEvent

log = logging.getLogger(__name__)
_ids = itertools.count(1)


_DIRECT: dict[type, bool] = {}


def _is_direct(channel: Channel) -> TypeGuard[DirectChannel]:
    """``isinstance(channel, DirectChannel)``, answered once per class: a runtime-checkable
    Protocol check looks up every member each time (a tenth of the cost of accepting a
    connection under a storm of them)."""
    kind = type(channel)
    answer = _DIRECT.get(kind)
    if answer is None:
        answer = _DIRECT[kind] = isinstance(channel, DirectChannel)
    return answer


class Connection:
    """A client's connection to one room."""

    # Thousands are held at once, most of them idle: no per-instance __dict__.
    __slots__ = (
        "__weakref__", "_batch", "_budget", "_byte_rate", "_direct", "_framer", "_loop",
        "_max_bytes", "_max_messages", "_message_rate", "_on_sent", "_queue", "_queued_bytes",
        "_sender", "_sending", "awareness_ids", "channel", "close_code", "close_reason", "closed",
        "denied_at", "id", "principal", "role",
    )  # fmt: skip

    def __init__(
        self,
        channel: Channel,
        principal: Principal,
        *,
        max_queue_bytes: int,
        max_queue_messages: int,
        on_sent: Callable[[int, float], None] | None = None,
        max_messages_per_second: float | None = None,
        max_bytes_per_second: float | None = None,
        role: str = "editor",
        budget: FrameBudget | None = None,
    ) -> None:
        self.id = next(_ids)
        self._budget = budget  # the process's bound on queued bytes, all connections together
        self.channel = channel
        self.principal = principal
        self.role = role  # on this connection's document: viewers cannot change it
        self.denied_at = 0.0  # last permission-denied notice (rate limited)
        self.awareness_ids: set[int] = set()
        self._max_bytes = max_queue_bytes
        self._max_messages = max_queue_messages
        self._on_sent = on_sent
        self._direct = channel if _is_direct(channel) else None
        self._framer: Framer | None = self._direct.framer if self._direct is not None else None
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None  # made outside an event loop (synchronous tests)
        self._queue: deque[tuple[bytes, float]] | None = None  # made for a backlog only
        self._queued_bytes = 0
        self._sending = False  # the sender task is awaiting the channel with a frame
        self._sender: asyncio.Task[None] | None = None  # runs only while frames are queued
        # Frames sent during this loop iteration, written together at its end (direct only).
        self._batch: list[tuple[bytes, SharedFrame | None, float | None]] | None = None
        self.closed = LightEvent()
        self.close_code: int | None = None
        self.close_reason = ""
        self._message_rate = (
            TokenBucket(max_messages_per_second, 2 * max_messages_per_second)
            if max_messages_per_second
            else None
        )
        self._byte_rate = (
            TokenBucket(max_bytes_per_second, 2 * max_bytes_per_second)
            if max_bytes_per_second
            else None
        )

    def check_rate(self, size: int) -> None:
        """Count one received frame of ``size`` bytes; raise RateLimited over the limits."""
        if self._message_rate is not None and not self._message_rate.take():
            raise RateLimited(
                f"more than {self._message_rate.rate:g} messages per second "
                f"(burst {self._message_rate.burst:g}); slow down"
            )
        if self._byte_rate is not None and not self._byte_rate.take(size):
            raise RateLimited(f"more than {self._byte_rate.rate:g} bytes per second; slow down")

    @property
    def queued_bytes(self) -> int:
        return self._queued_bytes

    def send(
        self, frame: bytes, received_at: float | None = None, shared: SharedFrame | None = None
    ) -> None:
        """Send a frame without waiting: written at the end of this loop iteration together
        with the others sent to this connection meanwhile, or queued when the socket is
        behind; close the connection if it is too far behind. ``shared`` is ``frame`` as a
        broadcast hands it to all its receivers (framed once for all of them)."""
        if self.closed.is_set():
            return
        if self._direct is not None and self._loop is not None:
            if self._batch is None:
                _flusher.add(self, self._loop)
                self._batch = []
            self._batch.append((frame, shared, received_at))
            return
        self._enqueue(frame, received_at)

    def _flush(self) -> None:
        """Write this iteration's frames in one go (one syscall, not one per frame)."""
        batch, self._batch = self._batch, None
        if not batch or self.closed.is_set():
            return
        if self._direct is not None and not self._queue and not self._sending:
            framer = self._framer
            assert framer is not None
            wires = [
                shared.wire(framer) if shared is not None else framer(frame)
                for frame, shared, _ in batch
            ]
            if self._direct.try_write(wires[0] if len(wires) == 1 else b"".join(wires)):
                if self._on_sent is not None:
                    sent_at = time.perf_counter()
                    for frame, _, received_at in batch:
                        latency = 0.0 if received_at is None else sent_at - received_at
                        self._on_sent(len(frame), latency)
                return
        for frame, _, received_at in batch:
            self._enqueue(frame, received_at)

    def _enqueue(self, frame: bytes, received_at: float | None) -> None:
        if self.closed.is_set():
            return
        # A single frame larger than the byte bound (a big document's first sync) is let
        # through on an empty queue; the bound is about falling behind, not frame size.
        if self._queue and (
            self._queued_bytes + len(frame) > self._max_bytes
            or len(self._queue) >= self._max_messages
        ):
            self.abort(
                close_codes.SLOW_CONSUMER,
                f"send queue full ({len(self._queue)} messages, {self._queued_bytes} bytes): "
                "client too slow, reconnect to resync",
            )
            return
        if self._queue is None:
            self._queue = deque()
        self._queue.append((frame, received_at if received_at is not None else time.perf_counter()))
        self._queued_bytes += len(frame)
        if self._sender is None:
            self._start_sender()
        if self._budget is not None:
            self._budget.set(self, self._queued_bytes, "send")  # may shed this connection

    def abort(self, code: int, reason: str) -> None:
        """Mark the connection closed with ``code``; the endpoint closes the socket."""
        if self.closed.is_set():
            return
        self.close_code = code
        self.close_reason = reason
        self._queue = None
        self._batch = None
        self._queued_bytes = 0
        if self._budget is not None:
            self._budget.release(self)
        self.closed.set()

    def shed(self, reason: str) -> None:
        """The frame budget's verdict: close with ``TRY_AGAIN_LATER``, dropping the queue."""
        self.abort(close_codes.TRY_AGAIN_LATER, reason)

    async def stop(self) -> None:
        """Stop the sender task if one is running (it may be stuck on a dead socket)."""
        sender = self._sender
        if sender is not None and sender is not asyncio.current_task():
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    async def drained(self) -> None:
        """Wait until the sender task has nothing left to send (or the connection closed)."""
        while self._sender is not None:
            await asyncio.shield(self._sender)

    def _start_sender(self) -> None:
        # A task per backlog, not per connection: idle connections (most of them) and ones
        # whose socket keeps up hold no task, no wake-up event, no suspended frame.
        if self._loop is None:
            return  # used outside an event loop (synchronous tests): frames stay queued
        self._sender = self._loop.create_task(self._drain(), name=f"send:{self.id}")

    async def _drain(self) -> None:
        try:
            await self._send_queued()
        finally:
            self._sender = None

    async def _send_queued(self) -> None:
        while self._queue and not self.closed.is_set():
            frame, received_at = self._queue.popleft()
            if not self._queue:
                self._queue = None  # an empty deque still holds ~600 B
            self._queued_bytes -= len(frame)
            if self._budget is not None:
                self._budget.set(self, self._queued_bytes, "send")
            direct, framer = self._direct, self._framer
            if direct is None or framer is None or not direct.try_write(framer(frame)):
                self._sending = True
                try:
                    await self.channel.send(frame)
                except ChannelClosed as exc:
                    self.abort(exc.code or close_codes.GOING_AWAY, "peer went away")
                    return
                finally:
                    self._sending = False
            if self._on_sent is not None:
                self._on_sent(len(frame), time.perf_counter() - received_at)


class _Flusher:
    """Connections with frames batched in the current loop iteration (the server runs one
    event loop; a connection used from another loop starts a fresh batch)."""

    __slots__ = ("loop", "pending")

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pending: list[Connection] = []

    def add(self, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
        """Have ``conn._flush`` called once the callbacks ready now have run.

        A broadcast reaches every receiver in the same iteration, and so do the other updates
        that arrived with it: under load one write carries several frames to a socket, at no
        cost in latency when the server is idle (the flush runs right after the current
        callback)."""
        if not self.pending or self.loop is not loop:
            self.loop = loop
            self.pending = []
            loop.call_soon(self.flush)
        self.pending.append(conn)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        for conn in pending:
            try:
                conn._flush()
            except Exception:  # one broken socket must not leave the others unwritten
                log.exception("writing to a connection failed", extra={"connection": conn.id})
                conn._batch = None
                conn.abort(close_codes.INTERNAL_ERROR, "the server failed to write to it")


_flusher = _Flusher()
