"""Crash safety: SIGKILL the server process, restart it on the same data directory."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from client import Backoff, CanvasClient
from tests.support.servers import ServerProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.subprocess


async def test_sigkill_while_editing_then_clients_heal_everything(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "data")
    proc.start()
    clients = [
        CanvasClient(proc.url, "crash", user=f"u{i}", backoff=Backoff(base=0.05, cap=0.5))
        for i in range(3)
    ]
    made: list[str] = []
    try:
        for c in clients:
            await c.start()
        await asyncio.gather(*(c.wait_synced() for c in clients))

        async def edit(c: CanvasClient, i: int, n: int) -> None:
            for k in range(n):
                made.append(c.canvas.add_layer(f"{i}-{k}", layer_id=f"c{i}-{len(made)}"))
                await asyncio.sleep(0.005)

        await asyncio.gather(*(edit(c, i, 10) for i, c in enumerate(clients)))
        proc.kill()  # mid-session: no flush, no shutdown hook
        # Clients keep editing while the server is down (offline edits).
        await asyncio.gather(*(edit(c, i, 5) for i, c in enumerate(clients)))
        proc.start()
        expected = set(made)
        for c in clients:
            await c.wait_for(lambda c=c: set(c.canvas.layer_ids()) == expected, timeout=20)
    finally:
        for c in clients:
            await c.stop()
    # A new client, after the healers left, sees everything too.
    async with CanvasClient(proc.url, "crash", user="late") as late:
        await late.wait_for(lambda: set(late.canvas.layer_ids()) == expected, timeout=10)
    await eventually(lambda: proc.health()["pending_updates"] == 0)
    proc.kill()
    # ... and so does a fresh server process on the same data (it was written to disk).
    proc.start()
    try:
        async with CanvasClient(proc.url, "crash", user="later") as later:
            await later.wait_for(lambda: set(later.canvas.layer_ids()) == expected, timeout=10)
    finally:
        proc.stop()


async def test_updates_older_than_the_flush_window_survive_sigkill(tmp_path: Path) -> None:
    window = 0.1
    proc = ServerProcess(tmp_path / "data", NEXUS_FLUSH_WINDOW=str(window))
    proc.start()
    try:
        # No reconnect: after the crash nobody is left to heal the server from a replica.
        writer = CanvasClient(proc.url, "window", user="w", reconnect=False)
        await writer.start()
        await writer.wait_synced()
        stamped: list[tuple[float, str]] = []
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            layer = writer.canvas.add_layer(f"at {time.monotonic():.3f}")
            stamped.append((time.monotonic(), layer))
            await asyncio.sleep(0.01)
        killed_at = time.monotonic()
        proc.kill()
        await writer.stop()
    finally:
        proc.stop()
    # Everything the server had for longer than the window (plus delivery slack) is on disk.
    must_survive = {layer for t, layer in stamped if killed_at - t > window + 0.15}
    assert len(must_survive) > 50
    proc.start()
    try:
        async with CanvasClient(proc.url, "window", user="reader") as reader:
            await reader.wait_synced()
            present = set(reader.canvas.layer_ids())
        assert must_survive <= present, f"lost {len(must_survive - present)} updates"
    finally:
        proc.stop()
