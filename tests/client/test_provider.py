"""CanvasClient lifecycle and behaviour that the server-side tests do not already cover."""

from __future__ import annotations

import pytest

from client import Backoff, CanvasClient
from tests.support.servers import RunningServer, free_port


async def test_starting_twice_is_an_error(running: RunningServer) -> None:
    c = CanvasClient(running.url, "twice")
    await c.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            await c.start()
    finally:
        await c.stop()
    await c.stop()  # stopping twice is harmless


async def test_edits_made_before_the_server_exists_arrive_when_it_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.servers import ServerProcess

    port = free_port()
    early = CanvasClient(f"ws://127.0.0.1:{port}", "later", backoff=Backoff(base=0.05, cap=0.2))
    await early.start()
    try:
        layer = early.canvas.add_layer("made offline")
        assert not early.connected
        proc = ServerProcess(tmp_path / "data", port=port)
        proc.start()
        try:
            await early.wait_synced(timeout=20)
            async with CanvasClient(proc.url, "later", user="other") as other:
                await other.wait_for(lambda: layer in other.canvas.layer_ids())
        finally:
            proc.stop()
    finally:
        await early.stop()


def test_http_urls_are_turned_into_websocket_urls() -> None:
    c = CanvasClient("http://host:8000/", "my doc", user="al", name="Al Bo")
    assert c.url == "ws://host:8000/ws/my%20doc?user=al&name=Al+Bo"
    assert CanvasClient("https://h", "d").url == "wss://h/ws/d"
