"""Issue 14's AI acceptance lines, driven from the browser app in two contexts (embedded
worker, CPU fallbacks):

- A paints a mask and runs generative fill from the panel; B sees the job in its queue panel
  and on its canvas while it is queued or running; the proposal appears in both; B accepts
  it, the export draws it; A's undo leaves B's accept alone, B's undo takes it back.
- Re-run from the proposal bar makes a second proposal with another seed; discarding both
  leaves no layer and no pixel in the export.
- Remove background and segment by click from the panel each land a proposal in both.
- With a queue of one and a slow GrabCut: a fill refused with 503 shows the server's message
  and its retry time, nothing is queued; the running job is cancelled from the queue panel and
  both panels show it cancelled.
"""

from __future__ import annotations

import base64
import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support.servers import ServerProcess
from tests.web.browser import PageLog, create_doc, layers, open_editor, require_browser, to_screen
from tests.web.browser import wait_for as wait_js

pytestmark = pytest.mark.browser

SIZE = 64
_DOCS = itertools.count(1)

# Records, per job, every state its queue-panel row showed, and every job that had a progress
# box on the canvas, however briefly (a CPU fallback on 64 x 64 pixels is quick).
WATCH = """() => {
    window.__rowStates = {};
    window.__seenRegions = new Set();
    const look = () => {
        for (const el of document.querySelectorAll('[data-testid="job-row"]')) {
            const seen = (window.__rowStates[el.dataset.jobId] ??= []);
            if (seen[seen.length - 1] !== el.dataset.state) seen.push(el.dataset.state);
        }
        for (const el of document.querySelectorAll('[data-testid="job-region"]'))
            window.__seenRegions.add(el.dataset.jobId);
    };
    new MutationObserver(look).observe(
        document.body, {subtree: true, childList: true, attributes: true});
}"""

LAYER_IS = """([id, proposal]) => window.__nexus.session.canvas.readLayers()
    .some((l) => l.id === id && (proposal ? l.proposal !== null : l.proposal === null))"""
LAYER_GONE = "(id) => !window.__nexus.session.canvas.readLayers().some((l) => l.id === id)"
JOB_STATE = (
    "([id, state]) => window.__nexus.session.doc.getMap('jobs').get(id)?.get('state') === state"
)
JOB_IDS = "() => [...window.__nexus.session.doc.getMap('jobs').keys()]"


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _picture(width: int = SIZE, height: int = SIZE) -> bytes:
    """A red disc on a noisy dark background."""
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 60, (height, width, 4), dtype=np.uint8)
    yy, xx = np.mgrid[:height, :width]
    radius = min(width, height) // 4
    pixels[(xx - width // 2) ** 2 + (yy - height // 2) ** 2 < radius**2, :3] = (220, 40, 40)
    pixels[..., 3] = 255
    return _png(Image.fromarray(pixels))


def _export(base: str, doc: str, query: str = "") -> np.ndarray:
    r = httpx.get(f"{base}/api/docs/{doc}/export?user=setup{query}", timeout=60)
    assert r.status_code == 200, r.text
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA")).astype(int)


def _photo_doc(base: str, doc: str, width: int = SIZE, height: int = SIZE) -> str:
    create_doc(base, doc, width=width, height=height)
    r = httpx.post(
        f"{base}/api/docs/{doc}/layers?user=setup",
        files={"image": ("photo.png", _picture(width, height))},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    layer_id: str = r.json()["id"]
    return layer_id


def _open_pair(browser: Any, base: str, doc: str, log: PageLog) -> tuple[Any, Any, list[Any]]:
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    a = open_editor(contexts[0], base, doc, user="alice", name="Alice", log=log)
    b = open_editor(contexts[1], base, doc, user="bob", name="Bob", log=log)
    for page in (a, b):
        page.evaluate(WATCH)
    return a, b, contexts


def _ai_tab(page: Any, name: str) -> Any:
    panel = page.get_by_test_id("ai-panel")
    panel.get_by_role("tab", name=name).click()
    return panel


def _tool(page: Any, name: str) -> None:
    page.get_by_role("button", name=re.compile(f"^{name} \\(")).click()


def _drag(page: Any, points: list[tuple[float, float]]) -> None:
    page.mouse.move(*to_screen(page, *points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*to_screen(page, *point), steps=4)
    page.mouse.up()


def _new_job(page: Any, known: set[str], timeout: float = 10_000) -> str:
    """The id of the one job that appears on ``page``'s board beside ``known``."""
    ids: list[str] = wait_js(
        page,
        "(known) => { const ids = [...window.__nexus.session.doc.getMap('jobs').keys()]"
        ".filter((id) => !known.includes(id)); return ids.length ? ids : null; }",
        sorted(known),
        timeout=timeout,
    )
    assert len(ids) == 1, ids
    return ids[0]


def _landed_in_both(pages: tuple[Any, ...], job_id: str, *, proposal: bool = True) -> str:
    """Wait until every page lists the job as done and its layer (with a badge if staged)."""
    layer_id = f"ai-{job_id}"
    for page in pages:
        row = page.locator(f'[data-testid="job-row"][data-job-id="{job_id}"]')
        row.and_(page.locator('[data-state="done"]')).wait_for(timeout=60_000)
        wait_js(page, LAYER_IS, [layer_id, proposal])
        if proposal:
            page.locator(f'[data-layer-id="{layer_id}"] [data-testid="proposal-badge"]').wait_for()
    return layer_id


@pytest.fixture(scope="module")
def ai_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the module's quick tests (its worker process starts once)."""
    require_browser()
    proc = ServerProcess(tmp_path_factory.mktemp("ai") / "data", NEXUS_ROOM_IDLE_SECONDS="5")
    proc.start()
    try:
        yield f"http://127.0.0.1:{proc.port}"
    finally:
        proc.stop()


@pytest.fixture
def duo(browser: Any, ai_server: str) -> Iterator[tuple[Any, Any, str, str, PageLog]]:
    """A and B on a 64 x 64 photo document of the test's own."""
    doc = f"acc{next(_DOCS)}"
    photo = _photo_doc(ai_server, doc)
    log = PageLog()
    a, b, contexts = _open_pair(browser, ai_server, doc, log)
    yield a, b, doc, photo, log
    for context in contexts:
        context.close()
    log.assert_clean()


def test_fill_watched_by_b_accepted_by_b_and_each_undo_is_its_own(
    duo: tuple[Any, Any, str, str, PageLog], ai_server: str
) -> None:
    a, b, doc, _, _ = duo
    before = _export(ai_server, doc)
    # something of A's own to undo later: a new paint layer
    a.get_by_label("Add paint layer").click()
    wait_js(b, "() => window.__nexus.session.canvas.readLayers().length === 2")
    paint_id = next(layer["id"] for layer in layers(a) if layer["kind"] == "paint")

    _tool(a, "Mask brush")
    _drag(a, [(24, 28), (32, 32), (40, 36)])
    wait_js(
        a,
        "() => Number(document.querySelector('[data-testid=\"mask-overlay\"]')"
        "?.dataset.maskArea) > 100",
    )
    panel = _ai_tab(a, "Fill")
    panel.get_by_label("Prompt", exact=True).fill("a blue stone")
    panel.get_by_label("Steps").fill("4")
    panel.get_by_role("button", name="Generate fill").click()

    job_id = _new_job(b, set())
    layer_id = _landed_in_both((a, b), job_id)
    # B watched it: its queue panel showed the job queued or running, with a progress box
    shown = b.evaluate("(id) => window.__rowStates[id]", job_id)
    assert shown[-1] == "done" and {"queued", "running"} & set(shown[:-1]), shown
    assert b.evaluate("(id) => window.__seenRegions.has(id)", job_id)
    (layer,) = [entry for entry in layers(b) if entry["id"] == layer_id]
    assert layer["proposal"]["user"] == "alice"
    assert layer["provenance"]["prompt"] == "a blue stone"
    staged = _export(ai_server, doc, "&proposals=1")
    assert np.array_equal(_export(ai_server, doc), before)  # left out until accepted
    assert (staged != before).any(axis=2).sum() > 50

    b.get_by_role("button", name="Review proposal").click()
    bar = b.get_by_test_id("proposal-bar")
    assert bar.get_attribute("data-layer-id") == layer_id
    bar.get_by_role("button", name="Accept").click()
    for page in (a, b):
        wait_js(page, LAYER_IS, [layer_id, False])
    assert np.array_equal(_export(ai_server, doc), staged)  # the export draws it now

    # A's undo takes A's own step (the paint layer), never B's accept
    a.get_by_role("button", name="Undo", exact=True).click()
    for page in (a, b):
        wait_js(page, LAYER_GONE, paint_id)
        assert layers(page)[-1]["id"] == layer_id and layers(page)[-1]["proposal"] is None
    assert np.array_equal(_export(ai_server, doc), staged)
    # B's undo does: the layer is a proposal again, out of the export
    b.get_by_role("button", name="Undo", exact=True).click()
    for page in (a, b):
        wait_js(page, LAYER_IS, [layer_id, True])
    assert np.array_equal(_export(ai_server, doc), before)
    b.get_by_test_id("proposal-bar").wait_for()


def test_rerun_has_a_new_seed_and_discarded_proposals_leave_nothing(
    duo: tuple[Any, Any, str, str, PageLog], ai_server: str
) -> None:
    a, b, doc, photo, _ = duo
    before = _export(ai_server, doc)
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (4, 4, 28, 28))
    body = {
        "prompt": "a blue stone",
        "mask_png": base64.b64encode(_png(mask)).decode(),
        "region": {"x": 16, "y": 16, "width": 32, "height": 32},
        "steps": 2,
        "seed": 7,
        "stage": True,
    }
    r = httpx.post(
        f"{ai_server}/api/docs/{doc}/ai/generative-fill?user=alice&name=Alice",
        json=body,
        timeout=60,
    )
    assert r.status_code == 202, r.text
    first = _landed_in_both((a, b), r.json()["id"])

    a.locator(f'[data-layer-id="{first}"]').click()
    bar = a.get_by_test_id("proposal-bar")
    assert "seed 7" in bar.inner_text()
    bar.get_by_role("button", name="Re-run").click()
    bar.get_by_role("status").filter(has_text="Re-run queued").wait_for()
    second = _landed_in_both((a, b), _new_job(a, {first.removeprefix("ai-")}))
    ids = [layer["id"] for layer in layers(b)]
    assert ids == [photo, first, second]  # beside the old one
    provenance = layers(b)[2]["provenance"]
    assert provenance["seed"] != 7 and provenance["rerun_of"] == first.removeprefix("ai-")
    assert provenance["prompt"] == "a blue stone" and provenance["region"] == body["region"]

    # A discards the first, B the second: no layer, no pixel left
    bar.get_by_role("button", name="Discard").click()
    for page in (a, b):
        wait_js(page, LAYER_GONE, first)
    b.locator(f'[data-layer-id="{second}"]').click()
    b.get_by_test_id("proposal-bar").get_by_role("button", name="Discard").click()
    for page in (a, b):
        wait_js(page, LAYER_GONE, second)
        assert [layer["id"] for layer in layers(page)] == [photo]
        assert page.get_by_test_id("proposal-bar").count() == 0
    assert np.array_equal(_export(ai_server, doc), before)
    assert np.array_equal(_export(ai_server, doc, "&proposals=1"), before)


def test_remove_background_and_segment_by_click_land_in_both(
    duo: tuple[Any, Any, str, str, PageLog],
) -> None:
    a, b, _, photo, _ = duo
    a.locator(f'[data-layer-id="{photo}"]').click()
    panel = _ai_tab(a, "Background")
    panel.get_by_role("button", name="Remove background").click()
    cutout = _landed_in_both((a, b), _new_job(b, set()))
    panel.get_by_test_id("ai-job-status").and_(a.locator("[data-state=done]")).wait_for()
    # The default model (U²-Net-p) ran, and the layer's name says which.
    cut = layers(b)[-1]
    assert (cut["provenance"]["model"], cut["provenance"]["fallback"]) == ("u2netp", False), cut
    assert cut["name"] == "Background removed (u2netp)", cut

    panel = _ai_tab(a, "Segment")
    panel.get_by_role("button", name="Pick points").click()
    a.mouse.click(*to_screen(a, SIZE / 2, SIZE / 2))
    panel.get_by_text("1 point (1 object)").wait_for()
    panel.get_by_role("button", name="Segment", exact=True).click()
    segment = _landed_in_both((a, b), _new_job(b, {cutout.removeprefix("ai-")}))
    panel.get_by_text("The object is previewed in green on the canvas.").wait_for()
    kinds = {layer["id"]: layer["provenance"]["kind"] for layer in layers(b)[1:]}
    assert kinds == {cutout: "remove_background", segment: "segment"}, kinds
    a.screenshot(path="/tmp/w5-segment.png")


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[str]:
    """A queue of one job, and a GrabCut (the model turned off) slow enough (20 iterations on
    640 px) to cancel."""
    require_browser()
    proc = ServerProcess(
        tmp_path / "data",
        NEXUS_ROOM_IDLE_SECONDS="5",
        NEXUS_REMBG_MODEL="none",
        NEXUS_JOBS_MAX_QUEUED="1",
        NEXUS_AI_GRABCUT_ITERATIONS="20",
        NEXUS_AI_FALLBACK_MAX_SIDE="640",
    )
    proc.start()
    try:
        yield f"http://127.0.0.1:{proc.port}"
    finally:
        proc.stop()


def test_a_full_queue_refuses_with_503_and_a_running_job_is_cancelled(
    browser: Any, slow_server: str
) -> None:
    photo = _photo_doc(slow_server, "slow", 640, 480)
    log = PageLog()
    a, b, contexts = _open_pair(browser, slow_server, "slow", log)

    a.locator(f'[data-layer-id="{photo}"]').click()
    panel_a = _ai_tab(a, "Background")
    panel_a.get_by_role("button", name="Remove background").click()
    job_id = _new_job(b, set())
    wait_js(b, JOB_STATE, [job_id, "running"], timeout=60_000)

    # the queue (one job) is full: B's fill is refused with the server's words, nothing queued
    _tool(b, "Rectangle select")
    _drag(b, [(200, 150), (300, 250)])
    panel_b = _ai_tab(b, "Fill")
    panel_b.get_by_label("Prompt", exact=True).fill("a red sofa")
    panel_b.get_by_role("button", name="Generate fill").click()
    refusal = panel_b.get_by_role("alert").filter(
        has_text="the AI job queue is full (1 jobs queued or running); retry in 5 s"
    )
    refusal.wait_for()
    assert refusal.inner_text().count("retry in") == 1
    for page in (a, b):
        assert page.evaluate(JOB_IDS) == [job_id]

    # A cancels its running job from the queue panel: both panels show it cancelled
    assert a.evaluate(JOB_STATE, [job_id, "running"]), "the job ended before the cancel"
    a.get_by_role("button", name="Cancel Remove background by Alice").click()
    for page in (a, b):
        page.locator(f'[data-testid="job-row"][data-job-id="{job_id}"]').and_(
            page.locator('[data-state="cancelled"]')
        ).wait_for(timeout=30_000)
        assert [layer["id"] for layer in layers(page)] == [photo]
    b.screenshot(path="/tmp/w5-cancelled.png")
    for context in contexts:
        context.close()
    # the refused request's 503 is the browser's own network log line, not an app error
    log.assert_clean(allow=("status of 503",))
