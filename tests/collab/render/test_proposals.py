"""Staged proposals are left out of renders (and of the images a render asks for) unless the
render asks for them; one layer alone is drawn whether or not it is a proposal."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from canvasdoc.canvas import CanvasMeta, Layer
from collab.render.compositor import Scene, render
from collab.render.tasks import RenderJob, run

RED, BLUE = "a1" * 32, "b2" * 32  # digests no other test uses (the decoded cache is global)
STAGED = {"job_id": "j1", "user": "ann"}


def _solid(rgba: tuple[int, int, int, int], size: int = 8) -> np.ndarray:
    pixels = np.zeros((size, size, 4), dtype=np.uint8)
    pixels[...] = rgba
    return pixels


IMAGES = {RED: _solid((255, 0, 0, 255)), BLUE: _solid((0, 0, 255, 255))}
SCENE = Scene(
    CanvasMeta(width=8, height=8, background="#ffffff"),
    (Layer(id="base", blob=RED), Layer(id="fill", blob=BLUE, proposal=STAGED)),
)


def test_a_proposal_is_drawn_only_when_asked_for() -> None:
    assert tuple(render(SCENE, IMAGES)[4, 4]) == (255, 0, 0, 255)
    assert tuple(render(SCENE, IMAGES, proposals=True)[4, 4]) == (0, 0, 255, 255)
    # Alone, the proposal's own pixels (the layer route's preview of a badge).
    assert tuple(render(SCENE, IMAGES, layer_id="fill")[4, 4]) == (0, 0, 255, 255)
    accepted = Scene(SCENE.meta, (SCENE.layers[0], Layer(id="fill", blob=BLUE)))
    assert tuple(render(accepted, IMAGES)[4, 4]) == (0, 0, 255, 255)


def test_a_render_needs_no_image_of_a_proposal() -> None:
    assert SCENE.blobs() == [RED]
    assert SCENE.blobs(proposals=True) == [RED, BLUE]
    assert SCENE.blobs(layer_id="fill") == [BLUE]


def test_render_jobs_carry_the_choice() -> None:
    def centre(job: RenderJob) -> tuple[int, ...]:
        result = run(job, {}, {digest: _png(IMAGES[digest]) for digest in job.images})
        return tuple(np.asarray(Image.open(io.BytesIO(result.data)))[4, 4])

    assert centre(RenderJob(SCENE, tuple(SCENE.blobs()))) == (255, 0, 0, 255)
    shown = RenderJob(SCENE, tuple(SCENE.blobs(proposals=True)), proposals=True)
    assert centre(shown) == (0, 0, 255, 255)


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()
