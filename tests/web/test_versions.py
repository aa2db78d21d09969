"""The versions panel and the provenance panel in the browser (issue 14, points 5 and 6).

A names a version, paints, and restores the version from the panel; both contexts show the
restored canvas, and "Undo restore" in the panel brings the paint back in both. An AI layer's
provenance panel says in plain words that a CPU fallback made it.
Set NEXUS_WEB_SHOTS to a folder to keep screenshots of both panels.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.web.browser import (
    PageLog,
    create_doc,
    document_pixels,
    edit_doc,
    layers,
    open_editor,
    set_zoom_100,
    to_screen,
    wait_for,
)

pytestmark = pytest.mark.browser

STROKES = "() => window.__nexus.session.canvas.readLayers().flatMap((l) => l.strokes).length"


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("NEXUS_WEB_SHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"))


def strokes_are(page: Any, n: int) -> None:
    wait_for(page, f"() => ({STROKES})() === {n}")


def test_restore_a_named_version_and_undo_it_from_the_panel(browser: Any, web_server: str) -> None:
    create_doc(web_server, "vers", width=64, height=64)
    edit_doc(web_server, "vers", lambda canvas: canvas.add_layer("Ink", kind="paint"))
    log = PageLog()
    ctx_a, ctx_b = browser.new_context(), browser.new_context()
    try:
        a = open_editor(ctx_a, web_server, "vers", user="alice", name="Alice", log=log)
        b = open_editor(ctx_b, web_server, "vers", user="bob", name="Bob", log=log)
        clean = document_pixels(a)

        panel = a.get_by_role("region", name="Versions")
        panel.get_by_label("Version name").fill("Clean")
        panel.get_by_role("button", name="Name current state").click()
        row = panel.get_by_role("button", name="Restore 'Clean'")
        row.wait_for()
        # the thumbnail is the version's own route, loaded by the browser
        wait_for(
            a,
            "() => [...document.querySelectorAll('[aria-label=\"Version list\"] img')]"
            ".some((img) => img.complete && img.naturalWidth > 0)",
        )

        set_zoom_100(a)
        a.get_by_role("listbox", name="Layer list").get_by_role("option").first.click()  # Ink
        a.mouse.move(*to_screen(a, 8, 8))
        a.mouse.down()
        for x, y in ((30, 20), (50, 40), (56, 56)):
            a.mouse.move(*to_screen(a, x, y), steps=2)
        a.mouse.up()
        strokes_are(b, 1)
        painted = document_pixels(a)
        assert painted != clean
        assert document_pixels(b) == painted

        # A previews the version read-only, then restores it from the list.
        panel.get_by_role("button", name="Preview 'Clean'").click()
        dialog = a.get_by_role("dialog", name="Version: Clean")
        wait_for(
            a,
            "() => { const i = document.querySelector('[data-testid=version-preview] img');"
            " return i && i.complete && i.naturalWidth === 64; }",
        )
        shot(a, "version-preview")
        dialog.get_by_role("button", name="Close").click()
        assert len(layers(a)[0]["strokes"]) == 1  # previewing changed nothing

        row.click()
        for page in (a, b):
            strokes_are(page, 0)
        assert document_pixels(a) == clean
        assert document_pixels(b) == clean
        b.get_by_role("region", name="History").get_by_text("restore version 'Clean'").wait_for()
        undo = panel.get_by_role("button", name="Undo restore")
        undo.wait_for()
        panel.scroll_into_view_if_needed()
        shot(a, "versions-panel")

        undo.click()
        for page in (a, b):
            strokes_are(page, 1)
        assert document_pixels(a) == painted
        assert document_pixels(b) == painted
        assert undo.count() == 0
    finally:
        ctx_a.close()
        ctx_b.close()
    log.assert_clean()


TELEA = {
    "job_id": "job-1",
    "kind": "generative_fill",
    "user": "alice",
    "prompt": "a red barn",
    "seed": 1234,
    "steps": 20,
    "model": "opencv-telea",
    "backend": "fallback:opencv-telea",
    "fallback": True,
    "fallback_reason": "no inpainting model configured (NEXUS_INPAINT_MODEL)",
    "device": "cpu",
    "seconds": 0.042,
}


def test_provenance_panel_names_the_cpu_fallback(browser: Any, web_server: str) -> None:
    create_doc(web_server, "prov", width=64, height=64)

    def add(canvas: Any) -> None:
        canvas.add_layer("Plain", kind="paint")
        canvas.add_layer("Generative fill: a red barn", kind="paint", provenance=TELEA)

    edit_doc(web_server, "prov", add)
    log = PageLog()
    ctx = browser.new_context()
    try:
        page = open_editor(ctx, web_server, "prov", user="alice", name="Alice", log=log)
        options = page.get_by_role("listbox", name="Layer list").get_by_role("option")
        options.nth(0).click()  # top first: the AI layer
        panel = page.get_by_role("region", name="Provenance")
        fallback = "Made by OpenCV Telea inpainting on the CPU, not by an AI model"
        panel.get_by_text(fallback, exact=False).wait_for()
        for text in ("a red barn", "1234", "42 ms", "no inpainting model configured"):
            panel.get_by_text(text, exact=False).first.wait_for()
        shot(page, "provenance-panel")
        options.nth(1).click()  # a layer nobody generated has no provenance panel
        panel.wait_for(state="detached")
    finally:
        ctx.close()
    log.assert_clean()
