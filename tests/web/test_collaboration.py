"""Two people in two browsers on one canvas: live strokes, layers, undo, offline, presence.

Each page is Debian's Chromium with WebGL (SwiftShader) driving the built app against a real
server process; every test checks that the page used WebGL and logged no error or warning.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.browser import (
    PageLog,
    create_doc,
    document_pixels,
    edit_doc,
    layers,
    open_editor,
    point_count,
    to_screen,
    wait_for,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def pair(browser: Any, web_server: str) -> Any:
    create_doc(web_server, "duo")
    log = PageLog()
    ctx_a, ctx_b = browser.new_context(), browser.new_context()
    a = open_editor(ctx_a, web_server, "duo", user="alice", name="Alice", log=log)
    b = open_editor(ctx_b, web_server, "duo", user="bob", name="Bob", log=log)
    yield a, b, ctx_a, ctx_b, log
    ctx_a.close()
    ctx_b.close()
    log.assert_clean()


def add_paint_layer(page: Any) -> str:
    before = {layer["id"] for layer in layers(page)}
    page.get_by_label("Add paint layer").click()
    wait_for(page, "(n) => window.__nexus.session.canvas.readLayers().length > n", len(before))
    new = [layer["id"] for layer in layers(page) if layer["id"] not in before]
    assert len(new) == 1
    return new[0]


def draw(page: Any, points: list[tuple[float, float]]) -> None:
    x, y = to_screen(page, *points[0])
    page.mouse.move(x, y)
    page.mouse.down()
    for px, py in points[1:]:
        page.mouse.move(*to_screen(page, px, py), steps=2)
    page.mouse.up()


def test_a_stroke_grows_live_and_both_canvases_converge(pair: Any) -> None:
    a, b, _, _, _ = pair
    add_paint_layer(a)
    wait_for(b, "() => window.__nexus.session.canvas.readLayers().length === 1")
    start = to_screen(a, 30, 30)
    a.mouse.move(*start)
    a.mouse.down()
    for i in range(1, 8):
        a.mouse.move(*to_screen(a, 30 + i * 10, 30 + i * 6), steps=2)
    # B sees the stroke while A still holds the button ...
    first = wait_for(
        b,
        "() => { const n = window.__nexus.session.canvas.readLayers()"
        ".flatMap((l) => l.strokes).reduce((n, s) => n + s.points.length, 0);"
        " return n >= 4 ? n : 0; }",
    )
    for i in range(8, 16):
        a.mouse.move(*to_screen(a, 30 + i * 10, 30 + (i % 5) * 12), steps=2)
    # ... and it keeps growing before A lets go.
    wait_for(
        b,
        f"""() => window.__nexus.session.canvas.readLayers()
        .flatMap((l) => l.strokes).reduce((n, s) => n + s.points.length, 0) > {first}""",
    )
    a.mouse.up()
    wait_for(
        b,
        f"() => {{ const n = window.__nexus.session.canvas.readLayers()"
        f".flatMap((l) => l.strokes).reduce((n, s) => n + s.points.length, 0);"
        f" return n === {point_count(a)}; }}",
    )

    # Layers added, re-blended, hidden and reordered from A's panels converge on B.
    top = add_paint_layer(a)
    draw(a, [(60, 100), (160, 140), (200, 60)])
    a.get_by_label("Blend mode").select_option("multiply")
    second = add_paint_layer(a)
    a.get_by_label("Opacity", exact=True).fill("60")
    a.get_by_label("Hide layer", exact=False).first.click()
    wait_for(a, "() => window.__nexus.session.canvas.readLayers().some((l) => !l.visible)")
    rows = a.get_by_role("listbox", name="Layer list").get_by_role("option")
    rows.nth(0).drag_to(rows.nth(2))  # rows are top first: the top layer to the bottom
    wait_for(a, "(id) => window.__nexus.session.canvas.readLayers()[0].id === id", second)
    wait_for(
        b,
        "(want) => JSON.stringify(window.__nexus.session.canvas.readLayers()) === want",
        a.evaluate("() => JSON.stringify(window.__nexus.session.canvas.readLayers())"),
    )
    got = {layer["id"]: layer for layer in layers(b)}
    assert got[top]["blendMode"] == "multiply"
    assert got[second]["opacity"] == 60
    assert [layer["visible"] for layer in layers(b)].count(False) == 1
    assert document_pixels(a) == document_pixels(b)


def test_undo_removes_only_my_stroke_and_history_names_both(pair: Any, web_server: str) -> None:
    a, b, _, _, _ = pair
    edit_doc(web_server, "duo", lambda canvas: canvas.add_layer("Ink", kind="paint"))
    for page in (a, b):
        wait_for(page, "() => window.__nexus.session.canvas.readLayers().length === 1")
    draw(a, [(20, 20), (120, 40), (200, 50)])
    wait_for(b, "() => window.__nexus.session.canvas.readLayers()[0].strokes.length === 1")
    draw(b, [(20, 200), (120, 180), (220, 220)])
    wait_for(a, "() => window.__nexus.session.canvas.readLayers()[0].strokes.length === 2")
    wait_for(a, "() => !document.querySelector('[aria-label=\"Undo\"]').disabled")
    a.keyboard.press("Control+z")
    for page in (a, b):
        wait_for(page, "() => window.__nexus.session.canvas.readLayers()[0].strokes.length === 1")
    left = layers(b)[0]["strokes"][0]
    assert left["points"][1] >= 150  # B's stroke (drawn at y 180-220) is the one left
    history = b.get_by_role("region", name="History")
    history.get_by_text("Alice").first.wait_for()
    history.get_by_text("Bob").first.wait_for()
    a.keyboard.press("Control+Shift+z")
    wait_for(b, "() => window.__nexus.session.canvas.readLayers()[0].strokes.length === 2")

    # A locked layer refuses paint, and says so where the person looks.
    a.get_by_label("Lock layer 'Ink'").click()
    wait_for(b, "() => window.__nexus.session.canvas.readLayers()[0].locked")
    draw(a, [(40, 120), (160, 130)])
    a.get_by_text("is locked", exact=False).first.wait_for()
    assert len(layers(b)[0]["strokes"]) == len(layers(a)[0]["strokes"]) == 2


def test_offline_edits_survive_a_reload_and_sync_once(pair: Any, web_server: str) -> None:
    a, b, ctx_a, _, log = pair
    edit_doc(web_server, "duo", lambda canvas: canvas.add_layer("Ink", kind="paint"))
    for page in (a, b):
        wait_for(page, "() => window.__nexus.session.canvas.readLayers().length === 1")
    # The service worker must control the page before an offline reload can work.
    a.wait_for_function(
        "() => navigator.serviceWorker.controller !== null || "
        "navigator.serviceWorker.ready.then(() => true)"
    )
    a.evaluate("() => navigator.serviceWorker.ready")
    ctx_a.set_offline(True)
    a.get_by_text("Offline", exact=False).first.wait_for()
    draw(a, [(30, 30), (90, 90), (150, 40)])
    draw(a, [(40, 200), (200, 210)])
    a.get_by_text("2 unsynced", exact=False).first.wait_for()  # two strokes: two changes
    a.reload()
    wait_for(a, "() => window.__nexus && window.__nexus.session", timeout=30_000)
    a.evaluate("() => window.__nexus.session.synced")
    wait_for(a, "() => window.__nexus.session.canvas.readLayers()[0].strokes.length === 2")
    assert b.evaluate("() => window.__nexus.session.canvas.readLayers()[0].strokes.length") == 0
    ctx_a.set_offline(False)
    wait_for(
        b,
        "() => window.__nexus.session.canvas.readLayers()[0].strokes.length === 2",
        timeout=20_000,
    )
    want = a.evaluate("() => JSON.stringify(window.__nexus.session.canvas.readLayers())")
    wait_for(b, "(w) => JSON.stringify(window.__nexus.session.canvas.readLayers()) === w", want)
    ids = [s["id"] for s in layers(b)[0]["strokes"]]
    assert len(ids) == len(set(ids)) == 2
    # A reload while offline cannot reach the server: those failed requests are expected.
    log.problems[:] = [p for p in log.problems if "ERR_INTERNET_DISCONNECTED" not in p]


def test_cursor_and_follow_mode(pair: Any) -> None:
    a, b, _, _, _ = pair
    a.mouse.move(*to_screen(a, 100, 120))
    a.mouse.move(*to_screen(a, 110, 125))
    cursor = b.get_by_test_id("peer-cursor").filter(has_text="Alice")
    cursor.wait_for(timeout=1_000)
    b.get_by_role("button", name="Alice", exact=False).first.click()
    wait_for(b, "() => window.__nexus.store.getState().following !== null")
    a.evaluate("() => window.__nexus.store.getState().setCamera({x: -40, y: -30, zoom: 3})")
    # Both windows are the same size, so following shows exactly A's view.
    wait_for(
        b,
        """() => { const c = window.__nexus.store.getState().camera;
                   return Math.abs(c.zoom - 3) < 0.01 && Math.abs(c.x + 40) < 1
                       && Math.abs(c.y + 30) < 1; }""",
    )
    b.get_by_text("Following Alice", exact=False).first.wait_for()
    # B's own zoom ends following.
    b.evaluate("() => window.__nexus.store.getState().setCamera({x: 0, y: 0, zoom: 1})")
    wait_for(b, "() => window.__nexus.store.getState().following === null")
    a.evaluate("() => window.__nexus.store.getState().setCamera({x: 5, y: 5, zoom: 2})")
    b.get_by_text("Following Alice", exact=False).first.wait_for(state="detached")
    assert b.evaluate("() => window.__nexus.store.getState().camera.zoom") == 1
