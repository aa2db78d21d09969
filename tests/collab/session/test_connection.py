"""A connection's bounded send queue and its sender task, on an in-memory channel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from canvasdoc import close_codes
from collab.asgi.uvicorn_ws import frame_binary
from collab.auth.identity import Principal
from collab.session.connection import Connection
from collab.session.transport import ChannelClosed, SharedFrame
from tests.support.waiting import eventually


class FakeChannel:
    """Records sent frames; ``fail`` makes the next send raise, ``gate`` holds sends."""

    def __init__(self) -> None:
        self.path = "/ws/doc"
        self.sent: list[bytes] = []
        self.fail: ChannelClosed | None = None
        self.gate = asyncio.Event()
        self.gate.set()
        self.changed = asyncio.Event()

    async def send(self, message: bytes) -> None:
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)
        self.changed.set()

    async def recv(self) -> bytes:
        raise ChannelClosed(1000)

    async def close(self, code: int, reason: str) -> None:
        pass

    async def wait_sent(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.sent) < count:
                self.changed.clear()
                await self.changed.wait()


def _connection(
    channel: FakeChannel,
    *,
    max_bytes: int = 1 << 20,
    max_messages: int = 100,
    on_sent: Callable[[int, float], None] | None = None,
) -> Connection:
    return Connection(
        channel,
        Principal("u", "U"),
        max_queue_bytes=max_bytes,
        max_queue_messages=max_messages,
        on_sent=on_sent,
    )


async def _finished(task: asyncio.Task[None], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        await task


def test_connections_get_distinct_ids() -> None:
    channel = FakeChannel()
    ids = {_connection(channel).id for _ in range(10)}
    assert len(ids) == 10


def test_queue_within_bounds_is_kept() -> None:
    conn = _connection(FakeChannel(), max_bytes=1024, max_messages=3)
    for size in (400, 400, 224):  # exactly 1024 bytes in exactly 3 messages
        conn.send(b"x" * size)
    assert not conn.closed.is_set()
    assert conn.queued_bytes == 1024
    assert conn.close_code is None


def test_exceeding_max_messages_aborts_as_slow_consumer() -> None:
    conn = _connection(FakeChannel(), max_messages=3)
    for _ in range(3):
        conn.send(b"frame")
    assert not conn.closed.is_set()
    conn.send(b"one too many")
    assert conn.closed.is_set()
    assert conn.close_code == close_codes.SLOW_CONSUMER
    assert "3 messages" in conn.close_reason
    assert "reconnect" in conn.close_reason
    assert conn.queued_bytes == 0


def test_exceeding_max_bytes_aborts_as_slow_consumer() -> None:
    conn = _connection(FakeChannel(), max_bytes=1024)
    conn.send(b"x" * 1000)
    conn.send(b"y" * 24)
    assert not conn.closed.is_set()
    conn.send(b"z")
    assert conn.closed.is_set()
    assert conn.close_code == close_codes.SLOW_CONSUMER
    assert "1024 bytes" in conn.close_reason
    assert conn.queued_bytes == 0


async def test_aborted_queue_is_cleared_and_never_delivered() -> None:
    channel = FakeChannel()
    conn = _connection(channel, max_messages=2)
    conn.send(b"a")
    conn.send(b"b")
    conn.send(b"c")  # overflows
    conn.send(b"d")  # ignored: already closed
    assert conn.queued_bytes == 0
    await _finished(asyncio.create_task(conn.drained()))
    assert channel.sent == []


async def test_the_sender_delivers_in_order_and_reports_each_frame() -> None:
    channel = FakeChannel()
    reports: list[tuple[int, float]] = []
    conn = _connection(channel, on_sent=lambda size, latency: reports.append((size, latency)))
    frames = [bytes([i]) * (i + 1) for i in range(20)]
    for frame in frames[:10]:
        conn.send(frame)
    await channel.wait_sent(10)
    await _finished(asyncio.create_task(conn.drained()))
    assert conn._sender is None  # no task while nothing is queued
    for frame in frames[10:]:  # a new backlog starts a new sender
        conn.send(frame)
    await channel.wait_sent(20)
    assert channel.sent == frames
    assert [size for size, _ in reports] == [len(f) for f in frames]
    assert all(latency >= 0 for _, latency in reports)
    assert conn.queued_bytes == 0
    conn.abort(close_codes.NORMAL, "done")
    await _finished(asyncio.create_task(conn.stop()))


async def test_latency_is_measured_from_received_at() -> None:
    channel = FakeChannel()
    reports: list[float] = []
    conn = _connection(channel, on_sent=lambda size, latency: reports.append(latency))
    conn.send(b"late", received_at=time.perf_counter() - 1.0)
    await channel.wait_sent(1)
    assert reports[0] >= 1.0


async def test_queue_counts_only_frames_not_yet_handed_to_the_channel() -> None:
    channel = FakeChannel()
    channel.gate.clear()  # the socket is stuck
    conn = _connection(channel, max_messages=2)
    conn.send(b"first")
    await eventually(lambda: conn.queued_bytes == 0)  # taken, blocked in channel.send
    conn.send(b"second")
    conn.send(b"third")
    assert not conn.closed.is_set()
    conn.send(b"fourth")
    assert conn.close_code == close_codes.SLOW_CONSUMER
    channel.gate.set()
    await _finished(asyncio.create_task(conn.drained()))
    assert channel.sent == [b"first"]


@pytest.mark.parametrize(
    ("error", "expected_code"),
    [(ChannelClosed(1006, "abnormal"), 1006), (ChannelClosed(None), close_codes.GOING_AWAY)],
)
async def test_channel_closed_during_send_aborts(error: ChannelClosed, expected_code: int) -> None:
    channel = FakeChannel()
    reports: list[int] = []
    conn = _connection(channel, on_sent=lambda size, latency: reports.append(size))
    conn.send(b"ok")
    await channel.wait_sent(1)
    channel.fail = error
    conn.send(b"lost")
    conn.send(b"also lost")
    await _finished(asyncio.create_task(conn.drained()))  # returns instead of raising
    assert conn.closed.is_set()
    assert conn.close_code == expected_code
    assert conn.close_reason == "peer went away"
    assert conn.queued_bytes == 0
    assert reports == [2]


async def test_stop_ends_a_sender_stuck_on_a_dead_socket() -> None:
    channel = FakeChannel()
    channel.gate.clear()  # the socket never takes the frame
    conn = _connection(channel)
    conn.send(b"stuck")
    await eventually(lambda: conn.queued_bytes == 0)  # taken, blocked in channel.send
    conn.abort(close_codes.GOING_AWAY, "room closed")
    await _finished(asyncio.create_task(conn.stop()))
    assert conn._sender is None
    assert conn.close_code == close_codes.GOING_AWAY
    assert channel.sent == []


def test_without_an_event_loop_frames_wait_in_the_queue() -> None:
    conn = _connection(FakeChannel())
    conn.send(b"queued")
    assert conn.queued_bytes == 6 and conn._sender is None


def test_first_abort_wins() -> None:
    conn = _connection(FakeChannel())
    conn.abort(close_codes.PROTOCOL_ERROR, "bad frame")
    conn.abort(close_codes.NORMAL, "later")
    assert (conn.close_code, conn.close_reason) == (close_codes.PROTOCOL_ERROR, "bad frame")


def test_one_frame_larger_than_the_byte_bound_passes_on_an_empty_queue() -> None:
    # A big document's first sync must not lock its clients out.
    conn = _connection(FakeChannel(), max_bytes=1024, max_messages=3)
    conn.send(b"x" * 5000)
    assert not conn.closed.is_set()
    conn.send(b"y")  # but nothing may pile up behind it
    assert conn.closed.is_set()
    assert conn.close_code == close_codes.SLOW_CONSUMER


class DirectFakeChannel(FakeChannel):
    """A channel whose socket takes writes at once (as fast_ws's), unless ``writable`` is
    False; records each write."""

    framer = staticmethod(frame_binary)

    def __init__(self) -> None:
        super().__init__()
        self.writable = True
        self.writes: list[bytes] = []

    def try_write(self, wire: bytes) -> bool:
        if self.writable:
            self.writes.append(wire)
        return self.writable


async def test_frames_sent_in_one_loop_iteration_go_out_in_one_write() -> None:
    channel = DirectFakeChannel()
    reports: list[int] = []
    conn = _connection(channel, on_sent=lambda size, latency: reports.append(size))
    for frame in (b"a", b"bb", b"ccc"):
        conn.send(frame)
    assert channel.writes == []  # not yet: at the end of the iteration
    await asyncio.sleep(0)
    assert channel.writes == [frame_binary(b"a") + frame_binary(b"bb") + frame_binary(b"ccc")]
    assert reports == [1, 2, 3]
    conn.send(b"d", shared=SharedFrame(b"d", framer=frame_binary, wire=b"pre-framed"))
    await asyncio.sleep(0)
    assert channel.writes[1:] == [b"pre-framed"]  # a broadcast's shared bytes, as given


async def test_a_socket_that_cannot_take_a_write_gets_the_frames_queued_in_order() -> None:
    channel = DirectFakeChannel()
    channel.writable = False
    conn = _connection(channel)
    for frame in (b"1", b"2"):
        conn.send(frame)
    await asyncio.sleep(0)
    assert conn.queued_bytes == 2 and channel.writes == []
    channel.writable = True  # the socket drained: the queue goes first, then the new frame
    conn.send(b"3")
    await asyncio.sleep(0)
    await _finished(asyncio.create_task(conn.drained()))
    assert channel.sent == []
    assert channel.writes == [frame_binary(b"1"), frame_binary(b"2"), frame_binary(b"3")]


async def test_frames_batched_before_an_abort_are_dropped() -> None:
    channel = DirectFakeChannel()
    conn = _connection(channel)
    conn.send(b"x")
    conn.abort(close_codes.GOING_AWAY, "room closed")
    await asyncio.sleep(0)
    assert channel.writes == [] and channel.sent == []


async def test_a_write_that_raises_closes_its_connection_only() -> None:
    """The connections written at the end of a loop turn are flushed together: one whose
    write raises is closed with 1011, and the others of that turn still get their frames
    (else their batch would stay open and they would never be written to again)."""
    broken, fine = DirectFakeChannel(), DirectFakeChannel()

    def explode(wire: bytes) -> bool:
        raise RuntimeError("transport gone")

    broken.try_write = explode  # type: ignore[method-assign]
    first, second = _connection(broken), _connection(fine)
    first.send(b"a")
    second.send(b"b")
    await asyncio.sleep(0)
    assert first.closed.is_set() and first.close_code == close_codes.INTERNAL_ERROR
    assert fine.writes == [frame_binary(b"b")]
    second.send(b"c")
    await asyncio.sleep(0)
    assert fine.writes == [frame_binary(b"b"), frame_binary(b"c")]
