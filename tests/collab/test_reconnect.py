"""Drop, edit offline, reconnect: everyone converges and the server sends only the diff."""

from __future__ import annotations

from canvasdoc.canvas import Canvas
from client import CanvasClient
from tests.support.servers import RunningServer
from tests.support.waiting import eventually


async def test_offline_edits_merge_and_reconnect_gets_only_the_diff(
    running: RunningServer,
) -> None:
    async with (
        CanvasClient(running.url, "recon", user="alice") as alice,
        CanvasClient(running.url, "recon", user="bob") as bob,
    ):
        await alice.wait_synced()
        await bob.wait_synced()
        alice.canvas.init(name="Big", width=2048, height=2048)
        paint = alice.canvas.add_layer("Paint", kind="paint")
        # Make the document large so that a full resend would be obvious.
        for _ in range(40):
            stroke = alice.canvas.begin_stroke(paint, color="#ff0000")
            alice.canvas.append_points(paint, stroke, [float(i) for i in range(400)])
        full_size = len(alice.doc.get_update())
        await eventually(lambda: bob.canvas.content() == alice.canvas.content())

        await bob.go_offline()
        assert not bob.connected
        # Both sides edit while bob is away.
        bob_layer = bob.canvas.add_layer("Bob offline", kind="raster", opacity=50)
        bob.canvas.update_layer(paint, name="Renamed offline")
        alice_layer = alice.canvas.add_layer("Alice meanwhile", blend_mode="screen")
        room = running.server.rooms.rooms["recon"]
        await eventually(lambda: alice_layer in Canvas(room.doc).layer_ids())
        missed = len(room.doc.get_update(bob.doc.get_state()))

        received_before = bob.stats.bytes_received
        bob.go_online()
        await bob.wait_synced()
        await bob.wait_for(lambda: alice_layer in bob.canvas.layer_ids())
        await alice.wait_for(lambda: bob_layer in alice.canvas.layer_ids())
        await eventually(lambda: alice.canvas.content() == bob.canvas.content())
        assert alice.canvas.get_layer(paint).name == "Renamed offline"

        # The server's step 2 carried only what bob missed, not the whole document.
        assert bob.stats.connects == 2
        assert bob.stats.last_step2_bytes < missed + 64
        assert bob.stats.last_step2_bytes * 20 < full_size
        assert bob.stats.bytes_received - received_before < full_size / 4


async def test_client_reconnects_by_itself_after_server_side_drop(
    running: RunningServer,
) -> None:
    async with CanvasClient(running.url, "drop", user="carol") as carol:
        await carol.wait_synced()
        room = running.server.rooms.rooms["drop"]
        (conn,) = room.connections
        conn.abort(4008, "test drop")
        await carol.wait_for(lambda: carol.stats.connects == 2 and carol.synced, timeout=10)
        carol.canvas.add_layer("after reconnect")
        room = running.server.rooms.rooms["drop"]
        await eventually(lambda: len(Canvas(room.doc).layer_ids()) == 1)
