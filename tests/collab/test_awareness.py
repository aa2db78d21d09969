"""Awareness crosses clients, is answered on query, and is removed when a connection closes."""

from __future__ import annotations

import websockets

from canvasdoc import wire
from client import CanvasClient
from tests.support.servers import RunningServer
from tests.support.waiting import eventually


async def test_presence_crosses_and_disappears_on_close(running: RunningServer) -> None:
    async with CanvasClient(running.url, "aw", user="a") as a:
        await a.wait_synced()
        b = CanvasClient(running.url, "aw", user="b")
        await b.start()
        await b.wait_synced()
        b.set_presence({"user": "b", "cursor": [10, 20]})
        a.set_presence({"user": "a"})
        await a.wait_for(lambda: {"user": "b", "cursor": [10, 20]} in a.peers.values())
        await b.wait_for(lambda: {"user": "a"} in b.peers.values())
        await b.stop()
        await a.wait_for(lambda: all(s.get("user") != "b" for s in a.peers.values()))
        room = running.server.rooms.rooms["aw"]
        assert b.awareness.client_id not in room.awareness.states
        assert a.awareness.client_id in room.awareness.states


async def test_query_awareness_is_answered(running: RunningServer) -> None:
    async with CanvasClient(running.url, "awq", user="a") as a:
        await a.wait_synced()
        a.set_presence({"user": "a", "color": "#00ff00"})
        room_ready = running.server.rooms.rooms["awq"]
        await eventually(lambda: a.awareness.client_id in room_ready.awareness.states)
        async with websockets.connect(f"{running.url}/ws/awq") as raw:
            await raw.send(wire.encode_query_awareness())
            while True:
                frame = await raw.recv()
                assert isinstance(frame, bytes)
                msg = wire.decode(frame)
                if isinstance(msg, wire.AwarenessUpdate) and b"#00ff00" in msg.payload:
                    break
