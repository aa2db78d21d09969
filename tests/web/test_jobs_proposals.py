"""AI jobs and staged proposals in two browsers (embedded worker, CPU fallback): a staged
generative fill submitted over REST shows in both jobs panels and on both canvases while it is
queued or running, lands as a proposal layer with a badge in both layer lists, and B accepts
it (the export then draws it) or discards it (no layer, the export unchanged) from the UI.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.web.browser import PageLog, create_doc, layers, open_editor, wait_for

pytestmark = pytest.mark.browser

SIZE = 64
REGION = {"x": 16, "y": 16, "width": 32, "height": 32}

# Records every job id that had a progress box on the canvas, however briefly.
WATCH_REGIONS = """() => {
    window.__seenRegions = new Set();
    const look = () => {
        for (const el of document.querySelectorAll('[data-testid="job-region"]'))
            window.__seenRegions.add(el.dataset.jobId);
    };
    new MutationObserver(look).observe(
        document.body, {subtree: true, childList: true, attributes: true});
}"""


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _picture() -> bytes:
    """A red disc on a noisy background: the fill replaces its middle."""
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 60, (SIZE, SIZE, 4), dtype=np.uint8)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    pixels[(xx - 32) ** 2 + (yy - 32) ** 2 < 16**2, :3] = (220, 40, 40)
    pixels[..., 3] = 255
    return _png(Image.fromarray(pixels))


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA")).astype(int)


def _export(base: str, doc: str, query: str = "") -> np.ndarray:
    r = httpx.get(f"{base}/api/docs/{doc}/export?user=setup{query}", timeout=60)
    assert r.status_code == 200, r.text
    return _pixels(r.content)


def _submit_staged_fill(base: str, doc: str) -> str:
    mask = Image.new("L", (REGION["width"], REGION["height"]), 0)
    mask.paste(255, (4, 4, 28, 28))
    body = {
        "prompt": "a blue stone",
        "mask_png": base64.b64encode(_png(mask)).decode(),
        "region": REGION,
        "steps": 2,
        "seed": 7,
        "stage": True,
    }
    r = httpx.post(
        f"{base}/api/docs/{doc}/ai/generative-fill?user=alice&name=Alice", json=body, timeout=60
    )
    assert r.status_code == 202, r.text
    job_id: str = r.json()["id"]
    return job_id


@pytest.fixture
def pair(browser: Any, web_server: str) -> Iterator[tuple[Any, Any, str, PageLog]]:
    doc = "jobs"
    create_doc(web_server, doc, width=SIZE, height=SIZE)
    r = httpx.post(
        f"{web_server}/api/docs/{doc}/layers?user=setup",
        files={"image": ("photo.png", _picture())},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    log = PageLog()
    ctx_a, ctx_b = browser.new_context(), browser.new_context()
    a = open_editor(ctx_a, web_server, doc, user="alice", name="Alice", log=log)
    b = open_editor(ctx_b, web_server, doc, user="bob", name="Bob", log=log)
    for page in (a, b):
        page.evaluate(WATCH_REGIONS)
    yield a, b, doc, log
    ctx_a.close()
    ctx_b.close()
    log.assert_clean()


def _proposal_in_both(a: Any, b: Any, job_id: str) -> str:
    """Wait until both pages list the job as done and its layer as a proposal with a badge."""
    layer_id = f"ai-{job_id}"
    for page in (a, b):
        row = page.locator(f'[data-testid="job-row"][data-job-id="{job_id}"]')
        row.wait_for(timeout=10_000)
        wait_for(
            page,
            """(id) => document.querySelector(`[data-testid="job-row"][data-job-id="${id}"]`)
                ?.dataset.state === "done" """,
            job_id,
            timeout=60_000,
        )
        badge = page.locator(f'[data-layer-id="{layer_id}"] [data-testid="proposal-badge"]')
        badge.wait_for(timeout=10_000)
        # the progress box was on the canvas while the job was queued or running
        assert page.evaluate("(id) => window.__seenRegions.has(id)", job_id)
    return layer_id


def test_a_staged_fill_is_reviewed_and_accepted_from_the_ui(
    pair: tuple[Any, Any, str, PageLog], web_server: str
) -> None:
    a, b, doc, _ = pair
    before = _export(web_server, doc)
    job_id = _submit_staged_fill(web_server, doc)
    layer_id = _proposal_in_both(a, b, job_id)
    staged = _export(web_server, doc, "&proposals=1")
    assert np.array_equal(_export(web_server, doc), before)  # left out until accepted
    assert (staged != before).any(axis=2).sum() > 0

    b.locator(f'[data-layer-id="{layer_id}"]').click()
    bar = b.get_by_test_id("proposal-bar")
    bar.wait_for()
    assert bar.get_attribute("data-layer-id") == layer_id
    assert "seed 7" in bar.inner_text()
    b.screenshot(path="/tmp/w2-jobs-proposal.png")
    bar.get_by_role("button", name="Accept").click()

    for page in (a, b):
        wait_for(
            page,
            """(id) => window.__nexus.session.canvas.readLayers()
                .some((l) => l.id === id && l.proposal === null)""",
            layer_id,
        )
        page.locator(f'[data-layer-id="{layer_id}"] [data-testid="proposal-badge"]').wait_for(
            state="detached"
        )
    assert b.get_by_test_id("proposal-bar").count() == 0
    assert np.array_equal(_export(web_server, doc), staged)


def test_a_discarded_proposal_leaves_no_layer(
    pair: tuple[Any, Any, str, PageLog], web_server: str
) -> None:
    a, b, doc, _ = pair
    before = _export(web_server, doc)
    job_id = _submit_staged_fill(web_server, doc)
    layer_id = _proposal_in_both(a, b, job_id)

    a.locator(f'[data-layer-id="{layer_id}"]').click()
    a.get_by_test_id("proposal-bar").get_by_role("button", name="Discard").click()
    for page in (a, b):
        wait_for(
            page,
            "(id) => !window.__nexus.session.canvas.readLayers().some((l) => l.id === id)",
            layer_id,
        )
        assert len(layers(page)) == 1
    assert a.get_by_test_id("proposal-bar").count() == 0
    assert np.array_equal(_export(web_server, doc), before)
    assert np.array_equal(_export(web_server, doc, "&proposals=1"), before)
