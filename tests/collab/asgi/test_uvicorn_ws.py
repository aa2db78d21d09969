"""The direct fan-out write path (collab/asgi/uvicorn_ws.py): the frames it builds, when it is
taken, when it steps aside for uvicorn's own send, and that deliveries stay complete and in
order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import websockets
from pycrdt import Array, Doc
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from canvasdoc import wire
from client import CanvasClient
from collab.asgi.starlette_channel import StarletteChannel
from collab.asgi.uvicorn_ws import NexusWebSocketProtocol, frame_binary
from tests.support.servers import serve, settings_for


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_frames_are_what_websockets_itself_serializes(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    expected = Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])
    assert frame_binary(payload) == expected


def _frames_in(wire: bytes) -> int:
    """How many server frames (unmasked) ``wire`` holds."""
    count = pos = 0
    while pos < len(wire):
        size, pos = wire[pos + 1] & 0x7F, pos + 2
        if size == 126:
            size, pos = int.from_bytes(wire[pos : pos + 2]), pos + 2
        elif size == 127:
            size, pos = int.from_bytes(wire[pos : pos + 8]), pos + 8
        pos += size
        count += 1
    assert pos == len(wire)
    return count


@dataclass
class Writes:
    """Every answer of try_write, and how many frames the direct writes carried."""

    answers: list[bool] = field(default_factory=list)
    frames: int = 0


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Writes]:
    seen = Writes()
    original = NexusWebSocketProtocol.try_write

    def counting(self: NexusWebSocketProtocol, wire: bytes) -> bool:
        answer = original(self, wire)
        seen.answers.append(answer)
        seen.frames += _frames_in(wire) if answer else 0
        return answer

    monkeypatch.setattr(NexusWebSocketProtocol, "try_write", counting)
    yield seen


async def _paint(tmp_path: Path, *, compression: bool, offer: str | None) -> list[float]:
    """Ann appends 200 numbers one update at a time; what Ben's replica receives."""
    settings = settings_for(tmp_path, ws_compression=compression)
    async with serve(settings) as srv:
        async with (
            CanvasClient(srv.url, "fast", user="ann") as ann,
            websockets.connect(
                f"{srv.url}/ws/fast?user=ben", compression=offer, max_size=None
            ) as ben,
        ):
            await ann.wait_synced()
            replica: Doc = Doc()
            numbers = ann.doc.get("numbers", type=Array)
            for i in range(200):
                numbers.append(float(i))
                if i % 20 == 0:
                    await asyncio.sleep(0)
            seen = replica.get("numbers", type=Array)
            async with asyncio.timeout(10):
                while len(seen) < 200:
                    message = wire.decode(await ben.recv(decode=False))
                    if isinstance(message, wire.SyncUpdate | wire.SyncStep2):
                        replica.apply_update(message.update)
            return [float(x) for x in seen]


async def test_broadcasts_are_written_directly_and_arrive_in_order(
    tmp_path: Path, writes: Writes
) -> None:
    received = await _paint(tmp_path, compression=False, offer="deflate")
    assert received == [float(i) for i in range(200)]
    assert writes.answers and all(writes.answers)  # every update to ben went the direct way
    assert writes.frames > 0  # fewer than 200: the room merges the updates of one loop turn


async def test_with_compression_negotiated_uvicorn_sends_every_frame(
    tmp_path: Path, writes: Writes
) -> None:
    received = await _paint(tmp_path, compression=True, offer="deflate")
    assert received == [float(i) for i in range(200)]
    assert writes.answers and not any(writes.answers)  # each receiver's deflated bytes differ


async def test_compression_enabled_but_not_offered_writes_directly(
    tmp_path: Path, writes: Writes
) -> None:
    received = await _paint(tmp_path, compression=True, offer=None)
    assert received == [float(i) for i in range(200)]
    # ben's updates went the direct way (merged per loop turn, so fewer than 200 frames);
    # ann negotiated deflate, so what the server sends ann is written by uvicorn
    assert writes.frames > 0 and True in writes.answers


async def test_binary_messages_reach_the_room_without_the_asgi_receive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under NexusWebSocketProtocol the reader task never sees a binary message: the room
    gets each one from the protocol's callback."""
    via_recv: list[bytes] = []
    original = StarletteChannel.recv

    async def recording(self: StarletteChannel) -> bytes:
        frame = await original(self)
        via_recv.append(frame)
        return frame

    monkeypatch.setattr(StarletteChannel, "recv", recording)
    received = await _paint(tmp_path, compression=False, offer=None)
    assert received == [float(i) for i in range(200)]
    assert via_recv == []


def _protocol() -> NexusWebSocketProtocol:
    config = Config(app=lambda *args: None, ws=NexusWebSocketProtocol)
    return NexusWebSocketProtocol(config, ServerState(), {})


async def test_messages_queued_before_the_receiver_is_set_are_handed_over_in_order() -> None:
    proto = _protocol()
    for message in (
        {"type": "websocket.receive", "bytes": b"1"},
        {"type": "websocket.receive", "text": "t"},
        {"type": "websocket.receive", "bytes": b"2"},
        {"type": "websocket.disconnect", "code": 1000},
    ):
        proto.queue.put_nowait(message)  # type: ignore[arg-type]
    got: list[bytes] = []
    proto.set_receiver(got.append)
    assert got == [b"1", b"2"]
    left = [proto.queue.get_nowait() for _ in range(proto.queue.qsize())]
    assert [m["type"] for m in left] == ["websocket.receive", "websocket.disconnect"]
    proto.curr_msg_data_type, proto.frames = "bytes", [b"3", b"4"]
    proto.send_receive_event_to_app()
    assert got == [b"1", b"2", b"34"]
    assert proto.queue.empty()
    proto.set_receiver(None)
    proto.transport = _PausableTransport()  # type: ignore[assignment]
    proto.curr_msg_data_type, proto.frames = "bytes", [b"5"]
    proto.send_receive_event_to_app()
    assert got == [b"1", b"2", b"34"]
    assert proto.queue.get_nowait() == {"type": "websocket.receive", "bytes": b"5"}


class _PausableTransport:
    paused = False

    def pause_reading(self) -> None:
        self.paused = True


async def test_with_an_event_sink_nothing_is_left_for_the_asgi_receive() -> None:
    proto = _protocol()
    proto.queue.put_nowait({"type": "websocket.receive", "text": "early"})  # type: ignore[arg-type]
    got: list[bytes] = []
    events: list[dict[str, object]] = []
    proto.set_receiver(got.append, events.append)
    proto.queue.put_nowait({"type": "websocket.disconnect", "code": 1006})  # type: ignore[arg-type]
    assert events == [
        {"type": "websocket.receive", "text": "early"},
        {"type": "websocket.disconnect", "code": 1006},
    ]
    assert proto.queue.empty()
    proto.set_receiver(None)  # back to ASGI: events queue again
    proto.queue.put_nowait({"type": "websocket.disconnect", "code": 1000})  # type: ignore[arg-type]
    assert proto.queue.qsize() == 1 and len(events) == 2


class _Transport:
    def __init__(self) -> None:
        self.reading = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


async def test_a_long_read_is_handled_a_turn_at_a_time_in_order() -> None:
    """A flood's read holds thousands of frames: other connections get turns in between."""
    proto = _protocol()
    transport = _Transport()
    proto.transport = transport  # type: ignore[assignment]
    proto.loop = asyncio.get_running_loop()
    got: list[bytes] = []
    proto.set_receiver(got.append)
    reads = [
        [Frame(Opcode.BINARY, bytes([i])) for i in range(70)],
        [Frame(Opcode.BINARY, bytes([i])) for i in range(70, 80)],
    ]
    proto.conn.events_received = lambda: reads.pop(0)  # type: ignore[method-assign]
    proto.handle_events()
    assert len(got) == 32 and not transport.reading
    proto.handle_events()  # more data before the next turn: queued behind, not ahead
    assert len(got) == 32
    for expected in (64, 80):
        await asyncio.sleep(0)
        assert len(got) == expected
    assert got == [bytes([i]) for i in range(80)]
    assert transport.reading


def test_the_installed_uvicorn_and_websockets_are_the_supported_releases() -> None:
    """This module subclasses uvicorn's private sans-I/O protocol and swaps websockets' frame
    parser: another release may change what it relies on, so it must be re-checked first."""
    from importlib.metadata import version

    from collab.asgi.uvicorn_ws import SUPPORTED_VERSIONS

    for package, prefix in SUPPORTED_VERSIONS.items():
        assert version(package).startswith(prefix), (package, version(package), prefix)


async def test_an_idle_connection_holds_no_task_and_its_end_releases_everything(
    tmp_path: Path,
) -> None:
    """The endpoint returns once the connection is served by callbacks (``detach``): idle
    connections add no task. Closing one still leaves the room and releases the address's
    connection slot; a server shutdown still closes the open ones with 1012."""
    settings = settings_for(tmp_path, max_connections_per_ip=3)
    async with serve(settings) as srv:
        async with contextlib.AsyncExitStack() as stack:
            before = len(asyncio.all_tasks())
            for i in range(3):
                client = await stack.enter_async_context(
                    websockets.connect(f"{srv.url}/ws/idle?user=u{i}", max_size=None)
                )
                await client.recv()  # synced
            await asyncio.sleep(0.1)
            # websockets' client runs one task per connection; the server adds none
            assert len(asyncio.all_tasks()) - before <= 3
            room = srv.server.rooms.rooms["idle"]
            assert len(room.connections) == 3
        async with asyncio.timeout(5):
            while room.connections:
                await asyncio.sleep(0.02)
        async with contextlib.AsyncExitStack() as stack:  # the three slots were released
            for i in range(3):
                client = await stack.enter_async_context(
                    websockets.connect(f"{srv.url}/ws/idle?user=v{i}", max_size=None)
                )
                await client.recv()
            with pytest.raises(websockets.InvalidStatus):  # and the limit still holds
                await websockets.connect(f"{srv.url}/ws/idle?user=w", max_size=None)
        async with asyncio.timeout(5):
            while room.connections:
                await asyncio.sleep(0.02)
        stay = await websockets.connect(f"{srv.url}/ws/idle?user=x", max_size=None)
        await stay.recv()
    # leaving ``serve`` shut the server down with ``stay`` open
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await stay.recv()
    assert stay.close_code == 1012
