"""A client that stops reading is disconnected, not buffered without limit, and does not delay
the others."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from pathlib import Path

from canvasdoc import close_codes
from client import CanvasClient
from tests.support.servers import serve, settings_for
from tests.support.waiting import eventually


async def test_slow_reader_is_dropped_and_others_keep_pace(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, send_queue_bytes=512 * 1024, send_queue_messages=10_000)
    async with (
        serve(settings) as srv,
        CanvasClient(srv.url, "slow", user="writer") as writer,
        CanvasClient(srv.url, "slow", user="watcher") as watcher,
    ):
        await writer.wait_synced()
        await watcher.wait_synced()
        room = srv.server.rooms.rooms["slow"]

        stalled = await _stalled_client(srv.url, "slow")
        await eventually(lambda: len(room.connections) == 3)

        sent_at: dict[int, float] = {}
        latencies: list[float] = []
        seen = 0

        def on_change() -> bool:
            nonlocal seen
            value = watcher.canvas.meta_map.get("seq")
            if value is not None and int(value) > seen:
                seen = int(value)
                latencies.append(time.perf_counter() - sent_at[seen])
            return seen == 400

        payload = "x" * 30_000
        for i in range(1, 401):
            with writer.doc.transaction():
                writer.canvas.meta_map["blob"] = payload + str(i)
                writer.canvas.meta_map["seq"] = i
            sent_at[i] = time.perf_counter()
            await asyncio.sleep(0.002)
            on_change()
        await watcher.wait_for(on_change, timeout=20)

        # The stalled connection was cut off with the slow-consumer code; memory stayed bounded.
        await eventually(lambda: len(room.connections) == 2)
        closed = srv.server.metrics.connections_closed.labels(str(close_codes.SLOW_CONSUMER))
        assert closed._value.get() == 1
        assert max(c.queued_bytes for c in room.connections) <= settings.send_queue_bytes
        # The watcher saw every update promptly: 12 MB went through while a peer stalled.
        latencies.sort()
        assert latencies[len(latencies) // 2] < 0.5, latencies[-10:]
        assert latencies[-1] < 3.0, latencies[-10:]
        assert writer.connected and watcher.connected
        stalled.close()


async def _stalled_client(url: str, doc_id: str) -> socket.socket:
    """A WebSocket client that completes the handshake, then never reads again; its receive
    buffer is small and fixed so the kernel does not auto-tune it to tens of megabytes."""
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws/{doc_id} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += await loop.sock_recv(sock, 1)  # byte by byte: read nothing past the headers
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock
