"""Abuse limits: floods close only the flooding connection, connection storms are throttled
per address, documents cannot grow past their size limit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import websockets
from pycrdt import Doc, Map

from canvasdoc import close_codes, wire
from canvasdoc.canvas import Canvas
from client import CanvasClient
from collab.session.limits import AddressGuard, TokenBucket
from tests.support.servers import serve, settings_for
from tests.support.waiting import eventually


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, 20, clock=clock)
    assert sum(bucket.take() for _ in range(25)) == 20  # the burst
    clock.now += 0.5
    assert sum(bucket.take() for _ in range(25)) == 5


def test_address_guard_limits_each_address_on_its_own() -> None:
    clock = FakeClock()
    guard = AddressGuard(max_concurrent=3, attempts_per_second=5, burst=5, clock=clock)
    assert [guard.admit("a") for _ in range(3)] == [None, None, None]
    refused = guard.admit("a")
    assert refused is not None and "too many open connections from a (limit 3)" in refused
    assert guard.admit("b") is None  # another address is unaffected
    guard.release("a")
    assert guard.admit("a") is None
    assert guard.admit("a") is not None and "attempts" in str(guard.admit("a"))


def _probe_update(value: str) -> bytes:
    d: Doc = Doc()
    d.get("meta", type=Map)[f"probe-{value[:8]}"] = value
    return d.get_update()


async def test_a_flood_closes_only_the_flooding_connection(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_messages_per_second=200)
    async with (
        serve(settings) as srv,
        CanvasClient(srv.url, "flood", user="a") as a,
        CanvasClient(srv.url, "flood", user="b") as b,
    ):
        await a.wait_synced()
        await b.wait_synced()
        async with websockets.connect(f"{srv.url}/ws/flood") as flooder:
            frame = wire.encode_awareness(b"\x00")  # tiny, valid, harmless
            with pytest.raises(websockets.ConnectionClosed):
                for _ in range(5000):
                    await flooder.send(frame)
                    # keep sending until the server's close arrives
                await asyncio.wait_for(flooder.recv(), 5)
                while True:
                    await asyncio.wait_for(flooder.recv(), 5)
            rcvd = flooder.protocol.close_rcvd
            assert rcvd is not None and rcvd.code == close_codes.POLICY_VIOLATION
            assert "messages per second" in rcvd.reason
        # The room's other clients lost nothing and still edit at normal speed.
        started = time.perf_counter()
        layer = a.canvas.add_layer("after the flood")
        await b.wait_for(lambda: layer in b.canvas.layer_ids())
        assert time.perf_counter() - started < 1.0
        assert a.stats.connects == 1 and b.stats.connects == 1


async def test_a_connection_storm_is_throttled_per_address(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_connections_per_ip=20, connection_attempts_per_second=10)
    async with serve(settings) as srv:
        host, port = "127.0.0.1", int(srv.url.rsplit(":", 1)[1])

        async def attempt(source: str) -> bool:
            try:
                ws = await websockets.connect(
                    f"ws://{host}:{port}/ws/storm", local_addr=(source, 0), open_timeout=5
                )
            except websockets.InvalidStatus as exc:
                assert exc.response.status_code == 429
                assert b"too many" in exc.response.body
                return False
            connections.append(ws)
            return True

        connections: list[websockets.ClientConnection] = []
        try:
            storm = await asyncio.gather(*(attempt("127.0.0.2") for _ in range(100)))
            assert sum(storm) <= 20  # the burst, at most the concurrent cap
            assert not all(storm)
            # Another address connects normally, right now, during the storm.
            normal = await asyncio.gather(*(attempt("127.0.0.3") for _ in range(5)))
            assert all(normal)
            assert srv.server.metrics.connections_refused._value.get() >= 80
        finally:
            await asyncio.gather(*(ws.close() for ws in connections))


async def test_an_update_past_the_document_size_limit_is_refused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_document_bytes=20_000)
    async with serve(settings) as srv, CanvasClient(srv.url, "big", user="a") as a:
        await a.wait_synced()
        a.canvas.add_layer("small", layer_id="small")
        room = srv.server.rooms.rooms["big"]
        await eventually(lambda: "small" in Canvas(room.doc).layer_ids())
        before = room.doc.get_update()
        async with websockets.connect(f"{srv.url}/ws/big") as raw:
            await raw.send(wire.encode_update(_probe_update("x" * 30_000)))
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(raw.recv(), 5)
            rcvd = raw.protocol.close_rcvd
            assert rcvd is not None and rcvd.code == close_codes.DOCUMENT_TOO_LARGE
            assert "20000 bytes" in rcvd.reason
        assert room.doc.get_update() == before  # unchanged
        assert a.connected
