"""Several Python clients edit one canvas concurrently and converge."""

from __future__ import annotations

import asyncio
import random

from client import CanvasClient
from tests.support.servers import RunningServer
from tests.support.waiting import eventually


async def test_three_clients_converge(running: RunningServer) -> None:
    clients = [CanvasClient(running.url, "converge", user=f"u{i}") for i in range(3)]
    for c in clients:
        await c.start()
    try:
        await asyncio.gather(*(c.wait_synced() for c in clients))
        a, b, c = clients
        a.canvas.init(name="Shared", width=640, height=480)
        sky = a.canvas.add_layer("Sky", kind="paint")
        await b.wait_for(lambda: sky in b.canvas.layer_ids())
        await c.wait_for(lambda: sky in c.canvas.layer_ids())

        rng = random.Random(7)

        async def edit(client: CanvasClient, n: int) -> None:
            own = client.canvas.add_layer(f"layer-{n}", kind="paint")
            stroke = client.canvas.begin_stroke(sky, color="#112233", size=4)
            for step in range(20):
                client.canvas.append_points(sky, stroke, [step, step + n])
                if step % 5 == 0:
                    client.canvas.update_layer(sky, opacity=rng.randint(0, 100))
                    client.canvas.update_layer(own, blend_mode="multiply", x=step)
                if step == 10:
                    client.canvas.move_layer(own, 0)
                await asyncio.sleep(0)

        await asyncio.gather(*(edit(cl, i) for i, cl in enumerate(clients)))

        def same() -> bool:
            dumps = [cl.canvas.to_dict() for cl in clients]
            return dumps[0] == dumps[1] == dumps[2]

        await eventually(same)
        final = a.canvas.read_layers()
        assert len(final) == 4
        sky_layer = a.canvas.get_layer(sky)
        assert len(sky_layer.strokes) == 3
        assert all(len(s.points) == 40 for s in sky_layer.strokes)
        room = running.server.rooms.rooms["converge"]
        from canvasdoc.canvas import Canvas

        await eventually(lambda: Canvas(room.doc).to_dict() == a.canvas.to_dict())
        # The shared history panel recorded every user's work, identically everywhere.
        authors = {entry["user"] for entry in a.canvas.history()}
        assert authors == {"u0", "u1", "u2"}
    finally:
        for cl in clients:
            await cl.stop()
