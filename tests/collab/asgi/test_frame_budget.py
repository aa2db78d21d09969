"""The process-wide frame budget: the biggest holders are shed, honest connections are not."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from pathlib import Path

from canvasdoc import close_codes
from client import CanvasClient
from collab.session.budget import FrameBudget
from tests.support.servers import serve, settings_for
from tests.support.waiting import eventually


class _Holder:
    def __init__(self) -> None:
        self.reason: str | None = None

    def shed(self, reason: str) -> None:
        self.reason = reason


def test_the_largest_holders_are_shed_until_the_total_fits() -> None:
    budget = FrameBudget(100)
    big, middle, small = _Holder(), _Holder(), _Holder()
    budget.set(big, 60, "receive")
    budget.set(middle, 30, "send")
    budget.set(small, 20, "receive")  # 110 > 100: the biggest goes, not the one that tipped it
    assert big.reason is not None and "budget" in big.reason
    assert middle.reason is None and small.reason is None
    assert budget.held == 50 and budget.peak <= 100
    budget.set(middle, 0, "send")
    budget.release(small)
    assert budget.held == 0 and len(budget) == 0
    names = {metric.name for metric in budget.collect()}
    assert {"nexus_frame_budget_bytes", "nexus_frame_budget_peak_bytes"} <= names


_open: list[asyncio.StreamWriter] = []  # a dropped StreamWriter closes its connection


async def _hanging(url: str, doc_id: str, declared: int, sent: int) -> asyncio.StreamReader:
    """A connection that sends ``sent`` bytes of a frame declaring ``declared`` and stops."""
    host, port = url.removeprefix("ws://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ws/{doc_id} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode()
    )  # fmt: skip
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    writer.write(struct.pack("!BBQ", 0x82, 0x80 | 127, declared) + os.urandom(4))
    writer.write(os.urandom(sent))
    await writer.drain()
    _open.append(writer)
    return reader


async def _close_code(reader: asyncio.StreamReader) -> int | None:
    """The code of the server's close frame, skipping what it sent before (None: EOF)."""
    try:
        while True:
            head = await reader.readexactly(2)
            size = head[1] & 0x7F
            if size == 126:
                size = int.from_bytes(await reader.readexactly(2))
            elif size == 127:
                size = int.from_bytes(await reader.readexactly(8))
            body = await reader.readexactly(size)
            if head[0] & 0x0F == 0x8:
                return int.from_bytes(body[:2])
    except asyncio.IncompleteReadError:
        return None


async def test_frames_left_hanging_are_shed_and_honest_clients_stay(tmp_path: Path) -> None:
    mib = 1024 * 1024
    settings = settings_for(tmp_path, frame_budget_bytes=mib, max_frame_bytes=mib)
    async with serve(settings) as srv, CanvasClient(srv.url, "honest", user="ann") as ann:
        await ann.wait_synced()
        budget = srv.server.frame_budget
        # 200 + 700 KiB fit; 300 more do not: when the total crosses the limit the biggest
        # holder (700) is shed, not the one whose bytes tipped it over.
        small = await _hanging(srv.url, "hog", mib - 100, 200 * 1024)
        big = await _hanging(srv.url, "hog", mib - 100, 700 * 1024)
        await eventually(lambda: budget.held >= 900 * 1024)
        tipping = await _hanging(srv.url, "hog", mib - 100, 300 * 1024)
        async with asyncio.timeout(10):
            assert await _close_code(big) == close_codes.TRY_AGAIN_LATER
        assert budget.peak <= mib
        assert budget.shed_count
        closed = srv.server.metrics.connections_closed.labels(str(close_codes.TRY_AGAIN_LATER))
        await eventually(lambda: closed._value.get() == 1)
        # The others are still open and counted; the honest client is untouched.
        await eventually(lambda: len(budget) == 2)
        assert not small.at_eof() and not tipping.at_eof()
        assert ann.connected
        for writer in _open:
            writer.close()
        _open.clear()
