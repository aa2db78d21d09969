"""An unmodified Yjs client (yjs + y-websocket's WebsocketProvider in Node) and the Python
client edit one canvas on our server and converge, both ways; awareness crosses both ways."""

from __future__ import annotations

import pytest

from client import CanvasClient
from tests.interop.yjs_peer import YjsPeer
from tests.support.servers import RunningServer

pytestmark = pytest.mark.interop


def _layer(doc: dict, layer_id: str) -> dict | None:
    return next((la for la in doc["layers"] if la.get("id") == layer_id), None)


async def test_yjs_and_python_edit_the_same_canvas(running: RunningServer) -> None:
    async with (
        CanvasClient(running.url, "interop", user="py") as py,
        YjsPeer(f"{running.url}/ws", "interop", params={"user": "js"}) as js,
    ):
        await py.wait_synced()
        await js.wait_synced()

        # Yjs -> Python: a paint layer with a stroke, then live point appends.
        await js.call(
            "add_layer",
            layer={
                "id": "js-layer", "name": "From Yjs", "kind": "paint", "blend_mode": "screen",
                "opacity": 80, "visible": True, "locked": False, "x": 5, "y": 6, "strokes": [],
            },
        )  # fmt: skip
        await js.call(
            "add_stroke",
            layer="js-layer",
            stroke={"id": "s1", "tool": "brush", "color": "#ff0000", "size": 3,
                    "hardness": 0.5, "opacity": 100, "points": [1, 2]},
        )  # fmt: skip
        await js.call("append_points", layer="js-layer", stroke="s1", points=[3, 4, 5, 6])
        await js.call("set_meta", key="name", value="Made in Yjs")
        await py.wait_for(
            lambda: (
                "js-layer" in py.canvas.layer_ids()
                and py.canvas.get_layer("js-layer").strokes != ()
                and len(py.canvas.get_layer("js-layer").strokes[0].points) == 6
            )
        )
        layer = py.canvas.get_layer("js-layer")
        assert (layer.name, layer.kind, layer.blend_mode, layer.opacity) == (
            "From Yjs", "paint", "screen", 80,
        )  # fmt: skip
        assert layer.strokes[0].points == (1, 2, 3, 4, 5, 6)
        await py.wait_for(lambda: py.canvas.read_meta().name == "Made in Yjs")

        # Python -> Yjs: a new layer, an edit of the Yjs layer, a stroke on the Yjs layer.
        py_layer = py.canvas.add_layer("From Python", kind="raster", blend_mode="multiply")
        py.canvas.update_layer("js-layer", opacity=25, name="Edited in Python")
        stroke = py.canvas.begin_stroke("js-layer", color="#00ff00")
        py.canvas.append_points("js-layer", stroke, [7, 8, 9, 10])

        def js_sees_python(doc: dict) -> bool:
            js_layer = _layer(doc, "js-layer")
            return (
                _layer(doc, py_layer) is not None
                and js_layer is not None
                and js_layer["opacity"] == 25
                and js_layer.get("name") == "Edited in Python"
                and len(js_layer["strokes"]) == 2
                and len(js_layer["strokes"][1]["points"]) == 4  # appended in a later update
            )

        doc = await js.wait_doc(js_sees_python)
        assert _layer(doc, py_layer)["blend_mode"] == "multiply"
        assert _layer(doc, "js-layer")["name"] == "Edited in Python"
        assert _layer(doc, "js-layer")["strokes"][1]["points"] == [7, 8, 9, 10]

        # Both replicas are identical, byte for byte in content.
        final_js = await js.dump()
        py_view = {
            "meta": py.canvas.meta_map.to_py(),
            "layers": py.canvas.layers_array.to_py(),
        }
        assert final_js["meta"] == py_view["meta"]
        assert final_js["layers"] == py_view["layers"]


async def test_awareness_crosses_both_ways(running: RunningServer) -> None:
    async with (
        CanvasClient(running.url, "interop-aw", user="py") as py,
        YjsPeer(f"{running.url}/ws", "interop-aw") as js,
    ):
        await py.wait_synced()
        await js.wait_synced()
        py.set_presence({"user": {"name": "python"}, "cursor": [1, 2]})
        await js.call("set_awareness", state={"user": {"name": "yjs"}, "cursor": [3, 4]})
        await js.wait_awareness(
            lambda states: {"user": {"name": "python"}, "cursor": [1, 2]} in states.values()
        )
        await py.wait_for(lambda: {"user": {"name": "yjs"}, "cursor": [3, 4]} in py.peers.values())
        # The Yjs client leaves: its presence disappears for the Python client.
        await js.close()
        await py.wait_for(lambda: all(s.get("user") != {"name": "yjs"} for s in py.peers.values()))


async def test_yjs_client_reconnects_and_pushes_offline_edits(running: RunningServer) -> None:
    async with (
        CanvasClient(running.url, "interop-off", user="py") as py,
        YjsPeer(f"{running.url}/ws", "interop-off") as js,
    ):
        await py.wait_synced()
        await js.wait_synced()
        await js.disconnect()
        await js.call("add_layer", layer={"id": "offline-js", "name": "Offline", "kind": "raster"})
        online = py.canvas.add_layer("While Yjs away")
        mark = js.mark()
        await js.connect()
        await js.wait_status("connected", since=mark)
        await py.wait_for(lambda: "offline-js" in py.canvas.layer_ids())
        await js.wait_doc(lambda d: _layer(d, online) is not None)
