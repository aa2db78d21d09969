"""The selection and the AI panel: a rectangle selection painted with the toolbar's tool shows
as a tinted overlay (the composited pixels stay as they were), a generative fill run from the
panel (CPU fallback) lands a staged proposal layer; a bad field is refused with the message
(the client's check for steps 0, the server's own 422 for steps above its configured limit)
and nothing is queued. The source picker says what a job reads (the composite leaves an
earlier mask layer out) and lets the user choose a layer; the job board then names the
result honestly (the fallback that ran) and the layer it read."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support.servers import ServerProcess
from tests.web.browser import (
    PageLog,
    create_doc,
    document_pixels,
    edit_doc,
    layers,
    open_editor,
    require_browser,
    set_zoom_100,
    to_screen,
    wait_for,
)

pytestmark = pytest.mark.browser

MAX_STEPS = 50  # the server's NEXUS_JOBS_MAX_STEPS here: the client only knows the widest (500)

JOBS = "() => window.__nexus.session.doc.getMap('jobs').size"
MASK_AREA = (
    "(want) => Number(document.querySelector('[data-testid=\"mask-overlay\"]')"
    "?.dataset.maskArea) === want"
)


@pytest.fixture
def ai_server(tmp_path: Path) -> Iterator[str]:
    require_browser()
    proc = ServerProcess(
        tmp_path / "data", NEXUS_ROOM_IDLE_SECONDS="5", NEXUS_JOBS_MAX_STEPS=str(MAX_STEPS)
    )
    proc.start()
    try:
        yield f"http://127.0.0.1:{proc.port}"
    finally:
        proc.stop()


def _drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*to_screen(page, *start))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *end), steps=4)
    page.mouse.up()


def test_select_and_generative_fill_from_the_panel(browser: Any, ai_server: str) -> None:
    create_doc(ai_server, "fill", width=64, height=64)
    log = PageLog()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = open_editor(context, ai_server, "fill", user="alice", name="Alice", log=log)
    set_zoom_100(page)
    _, _, before = document_pixels(page)

    page.get_by_role("button", name="Rectangle select (M)").click()
    _drag(page, (16, 16), (48, 40))
    wait_for(page, MASK_AREA, 32 * 24)
    assert page.get_by_test_id("selection-size").inner_text() == "768 px"
    assert document_pixels(page)[2] == before  # the overlay is not in the composite

    panel = page.get_by_test_id("ai-panel")
    panel.get_by_label("Prompt", exact=True).fill("a red sofa")
    steps = panel.get_by_label("Steps")
    generate = panel.get_by_role("button", name="Generate fill")

    # the client's check: nothing is sent
    steps.fill("0")
    generate.click()
    refusal = "steps must be an integer from 1 to 500, got 0"
    panel.get_by_role("alert").filter(has_text=refusal).wait_for()
    # the server's check (its configured limit), its message as it wrote it
    steps.fill(str(MAX_STEPS + 10))
    generate.click()
    panel.get_by_role("alert").filter(
        has_text=f"steps must be an integer from 1 to {MAX_STEPS}, got {MAX_STEPS + 10}"
    ).wait_for()
    assert page.evaluate(JOBS) == 0 and layers(page) == []

    steps.fill("12")
    generate.click()
    wait_for(
        page,
        "() => window.__nexus.session.canvas.readLayers().some((l) => l.proposal)",
        timeout=90_000,
    )
    (layer,) = layers(page)
    assert layer["id"].startswith("ai-") and layer["kind"] == "raster" and layer["blob"]
    assert layer["proposal"]["user"] == "alice"
    assert layer["provenance"]["prompt"] == "a red sofa"
    assert page.evaluate(JOBS) == 1
    panel.get_by_test_id("ai-job-status").and_(page.locator("[data-state=done]")).wait_for()
    # the selection is still there for another try
    wait_for(page, MASK_AREA, 32 * 24)
    page.screenshot(path="/tmp/w3-ai-panel.png")
    context.close()
    # the refused request's 422 is the browser's own network log line, not an app error
    log.assert_clean(allow=("status of 422",))


@pytest.fixture
def no_model_server(tmp_path: Path) -> Iterator[str]:
    """Background removal without its model (an empty model folder): the GrabCut fallback."""
    require_browser()
    (tmp_path / "no-models").mkdir()
    proc = ServerProcess(
        tmp_path / "data", NEXUS_ROOM_IDLE_SECONDS="5", NEXUS_REMBG_HOME=str(tmp_path / "no-models")
    )
    proc.start()
    try:
        yield f"http://127.0.0.1:{proc.port}"
    finally:
        proc.stop()


def test_the_source_picker_and_the_honest_job_label(browser: Any, no_model_server: str) -> None:
    base = no_model_server
    create_doc(base, "source", width=48, height=48)
    png = io.BytesIO()
    Image.new("RGBA", (48, 48), (200, 30, 30, 255)).save(png, "PNG")
    r = httpx.post(
        f"{base}/api/docs/source/layers?user=setup",
        files={"image": ("photo.png", png.getvalue())},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    photo = r.json()["id"]
    edit_doc(
        base,
        "source",
        lambda canvas: canvas.add_layer(
            "Old mask", layer_id="old-mask", provenance={"kind": "segment", "output": "mask"}
        ),
    )
    log = PageLog()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = open_editor(context, base, "source", user="alice", name="Alice", log=log)
    panel = page.get_by_test_id("ai-panel")
    reads = panel.get_by_test_id("ai-source-reads")
    # The composite leaves the earlier mask layer out, and says so.
    reads.filter(has_text="Reads: photo").wait_for()
    assert "Old mask" not in reads.inner_text()
    picker = panel.get_by_label("Source")
    options = picker.locator("option").all_inner_texts()
    assert options == ["Composite", "Old mask (mask)", "photo"], options
    picker.select_option(photo)
    reads.filter(has_text="Reads: photo").wait_for()

    panel.get_by_role("tab", name="Background").click()
    panel.get_by_role("button", name="Remove background").click()
    row = page.locator('[data-testid="job-row"][data-state="done"]')
    row.wait_for(timeout=90_000)
    outcome = row.get_by_test_id("job-outcome").inner_text()
    assert outcome.startswith("Background removed (GrabCut fallback: "), outcome
    assert outcome.endswith("fallback")  # the badge
    assert row.get_by_test_id("job-inputs").inner_text() == "Read: Layer: photo"
    (result,) = [layer for layer in layers(page) if layer["id"].startswith("ai-")]
    assert result["name"].startswith("Background removed (GrabCut fallback: ")
    context.close()
    log.assert_clean()
