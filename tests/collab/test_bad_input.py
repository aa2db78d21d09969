"""Bad frames close only the offending connection, with a clear code; the room carries on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
import websockets
from pycrdt import Doc, Map

from canvasdoc import close_codes, wire
from client import CanvasClient
from collab.settings import Settings
from tests.support.servers import RunningServer, serve, settings_for


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return settings_for(tmp_path, max_frame_bytes=64 * 1024)


@pytest.fixture
async def watchers(running: RunningServer) -> AsyncIterator[tuple[CanvasClient, CanvasClient]]:
    async with (
        CanvasClient(running.url, "bad", user="w1") as w1,
        CanvasClient(running.url, "bad", user="w2") as w2,
    ):
        await w1.wait_synced()
        await w2.wait_synced()
        w1.canvas.init(name="Survives")
        await w2.wait_for(lambda: w2.canvas.read_meta().name == "Survives")
        yield w1, w2


async def _closed_with(url: str, frame: bytes | str) -> tuple[int | None, str]:
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(frame)
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(10):
                while True:
                    await ws.recv()
        rcvd = ws.protocol.close_rcvd
        assert rcvd is not None
        return rcvd.code, rcvd.reason


async def _still_working(w1: CanvasClient, w2: CanvasClient, name: str) -> None:
    layer = w1.canvas.add_layer(name)
    await w2.wait_for(lambda: layer in w2.canvas.layer_ids())
    assert w1.connected and w2.connected
    assert w1.stats.connects == 1 and w2.stats.connects == 1


def _update_with_probe(value: str) -> bytes:
    # A key nobody else writes, so no concurrent-write resolution can hide it.
    d: Doc = Doc()
    d.get("meta", type=Map)["probe"] = value
    return d.get_update()


@pytest.mark.parametrize(
    ("frame", "code", "reason_part"),
    [
        (b"\x00\x02\xff\xff\xff", close_codes.PROTOCOL_ERROR, "truncated"),
        (b"\x00\x09\x00", close_codes.PROTOCOL_ERROR, "unknown sync message type 9"),
        (b"\x00\x02\x10abc", close_codes.PROTOCOL_ERROR, "declares 16 bytes"),
        (b"", close_codes.PROTOCOL_ERROR, "empty frame"),
        (wire.encode_update(b"\x05garbage-update"), close_codes.INVALID_PAYLOAD, "cannot be"),
        (wire.encode_awareness(b"\x01\x02"), close_codes.PROTOCOL_ERROR, "awareness"),
        (wire.encode_sync_step1(b"\xff\xff"), close_codes.INVALID_PAYLOAD, "state vector"),
        # 15 random bytes that make yrs allocate 229 MiB for half a second: refused unread
        (
            wire.encode_update(bytes.fromhex("8fe881c3a0661970ef3f6df08ded7e")),
            close_codes.INVALID_PAYLOAD,
            "entries declared in 9 bytes",
        ),
        (
            wire.encode_sync_step1(b"\xf0\xff\x03\x01\x02"),
            close_codes.INVALID_PAYLOAD,
            "state vector cannot be read",
        ),
        ("a text frame", close_codes.UNSUPPORTED_DATA, "text frames"),
    ],
)
async def test_malformed_frames_close_only_that_connection(
    running: RunningServer,
    watchers: tuple[CanvasClient, CanvasClient],
    frame: bytes | str,
    code: int,
    reason_part: str,
) -> None:
    got_code, reason = await _closed_with(f"{running.url}/ws/bad", frame)
    assert got_code == code
    assert reason_part in reason
    await _still_working(*watchers, name=f"after-{code}")
    room = running.server.rooms.rooms["bad"]
    assert len(room.connections) == 2


async def test_oversized_frame_is_refused_with_1009(
    running: RunningServer, watchers: tuple[CanvasClient, CanvasClient]
) -> None:
    big = wire.encode_update(_update_with_probe("x" * 100_000))
    got_code, _ = await _closed_with(f"{running.url}/ws/bad", big)
    assert got_code == close_codes.MESSAGE_TOO_BIG
    w1, w2 = watchers
    await _still_working(w1, w2, "after-too-big")
    assert w2.canvas.read_meta().name == "Survives"


async def test_unknown_message_types_are_ignored(
    running: RunningServer, watchers: tuple[CanvasClient, CanvasClient]
) -> None:
    w1, w2 = watchers
    async with websockets.connect(f"{running.url}/ws/bad") as ws:
        await ws.send(b"\x07whatever")  # unknown type: ignored
        await ws.send(b"\x02\x00\x03abc")  # auth is server-to-client: ignored
        await ws.send(wire.encode_update(_update_with_probe("still open")))
        await w1.wait_for(lambda: w1.canvas.meta_map.get("probe") == "still open")
    await _still_working(w1, w2, "after-unknown")


@pytest.mark.parametrize(
    "doc_id", ["bad id with spaces", "-leading-dash", "x" * 200, "doc\n", "a/b"]
)
async def test_invalid_document_id_is_refused(running: RunningServer, doc_id: str) -> None:
    async with websockets.connect(f"{running.url}/ws/{quote(doc_id)}") as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        rcvd = ws.protocol.close_rcvd
        assert rcvd is not None and rcvd.code == close_codes.INVALID_DOCUMENT_ID
        assert "document id" in rcvd.reason


async def test_invalid_update_does_not_corrupt_the_room(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with serve(settings_for(tmp_path)) as srv, CanvasClient(srv.url, "c", user="a") as a:
        await a.wait_synced()
        a.canvas.init(name="Before")
        room_doc = None
        while room_doc is None or room_doc.get("meta", type=Map).get("name") != "Before":
            await asyncio.sleep(0.01)
            room_doc = srv.server.rooms.rooms["c"].doc
        await _closed_with(f"{srv.url}/ws/c", wire.encode_update(b"\x01\x01\x01\x01"))
        a.canvas.set_meta(name="After")
        async with CanvasClient(srv.url, "c", user="late") as late:
            await late.wait_for(lambda: late.canvas.read_meta().name == "After")
