"""Keepalive pings from one timer (collab/asgi/keepalive.py): each connection is filed under
the second its ping or pong deadline falls in, handled no earlier and at most a tick later;
a peer that answers stays, one that does not is closed with 1011."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
import websockets

from collab.app import create_app
from collab.asgi import keepalive
from collab.asgi.serving import uvicorn_options
from tests.support.servers import bound_socket, settings_for


class _Conn:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.keepalive_tick = -1
        self.loop = loop
        self.due_at: list[float] = []
        self.again: float | None = None  # file itself again this much later when due

    def keepalive_due(self) -> None:
        self.due_at.append(self.loop.time())
        if self.again is not None:
            keepalive.wheel(self.loop).add(self, self.again)


async def test_each_is_due_after_its_delay_at_most_a_tick_late() -> None:
    loop = asyncio.get_running_loop()
    wheel = keepalive.wheel(loop)
    conns = [_Conn(loop) for _ in range(3)]
    start = loop.time()
    for conn, delay in zip(conns, (0.1, 0.4, 1.2), strict=True):
        wheel.add(conn, delay)
    assert len(wheel) == 3
    async with asyncio.timeout(5):
        while any(not c.due_at for c in conns):
            await asyncio.sleep(0.05)
    for conn, delay in zip(conns, (0.1, 0.4, 1.2), strict=True):
        (when,) = conn.due_at
        assert delay <= when - start <= delay + keepalive.TICK + 1.0  # 1.0: a loaded CI
        assert conn.keepalive_tick == -1
    assert len(wheel) == 0


async def test_a_removed_one_is_not_called_and_refiling_replaces() -> None:
    loop = asyncio.get_running_loop()
    wheel = keepalive.wheel(loop)
    gone, moved, repeating = _Conn(loop), _Conn(loop), _Conn(loop)
    start = loop.time()
    wheel.add(gone, 0.1)
    wheel.remove(gone)
    wheel.add(moved, 0.1)
    wheel.add(moved, 1.5)  # filed once, under the later tick
    repeating.again = 0.1
    wheel.add(repeating, 0.1)
    assert len(wheel) == 2
    async with asyncio.timeout(10):
        while len(repeating.due_at) < 3 or not moved.due_at:
            await asyncio.sleep(0.05)
    wheel.remove(repeating)
    assert len(wheel) == 0 and gone.due_at == []
    (when,) = moved.due_at
    assert when - start >= 1.5
    # it filed itself again from its callback, each time a later tick
    assert all(b - a >= 0.1 for a, b in itertools.pairwise(repeating.due_at))


@contextlib.asynccontextmanager
async def _serve_with_pings(tmp_path: Path) -> AsyncIterator[str]:
    settings = settings_for(tmp_path)
    app = create_app(settings)
    sock = bound_socket()
    port = sock.getsockname()[1]
    options = {**uvicorn_options(settings), "ws_ping_interval": 0.3, "ws_ping_timeout": 0.3}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_a_peer_that_answers_pings_stays_one_that_does_not_is_closed(
    tmp_path: Path,
) -> None:
    async with _serve_with_pings(tmp_path) as address:
        async with websockets.connect(f"ws://{address}/ws/alive?user=ann") as answering:
            host, port = address.split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                b"GET /ws/alive?user=ben HTTP/1.1\r\nHost: " + address.encode() + b"\r\n"
                b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 101")
                received = await reader.read()  # never answers: the server closes it
            writer.close()
            opcodes = _opcodes(received)
            assert 0x9 in opcodes and opcodes[-1] == 0x8  # pinged, then closed
            assert _close_code(received) == 1011
            await asyncio.sleep(2.5)  # several ping rounds: the answering peer is still there
            pong = await answering.ping()
            async with asyncio.timeout(5):
                await pong


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos + 2 <= len(data):
        opcode, size = data[pos] & 0x0F, data[pos + 1] & 0x7F
        pos += 2
        if size == 126:
            size, pos = int.from_bytes(data[pos : pos + 2]), pos + 2
        elif size == 127:
            size, pos = int.from_bytes(data[pos : pos + 8]), pos + 8
        out.append((opcode, data[pos : pos + size]))
        pos += size
    return out


def _opcodes(data: bytes) -> list[int]:
    return [opcode for opcode, _ in _frames(data)]


def _close_code(data: bytes) -> int:
    payload = [p for opcode, p in _frames(data) if opcode == 0x8][-1]
    return int.from_bytes(payload[:2])
