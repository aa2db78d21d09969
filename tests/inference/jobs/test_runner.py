"""The job functions on the CPU fallbacks: the layer each kind makes, progress and cancel."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

from inference import AIConfig, Cancelled, InferenceContext, InvalidInput
from inference.jobs.model import JobKind
from inference.jobs.runner import Control, execute
from tests.inference.jobs.conftest import make_job

SIZE = (80, 60)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _photo() -> bytes:
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 50, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    pixels[15:45, 20:60] = (230, 30, 30)
    return _png(Image.fromarray(pixels))


def _mask() -> bytes:
    mask = Image.new("L", SIZE, 0)
    mask.paste(255, (10, 10, 30, 30))
    return _png(mask)


@pytest.fixture
def ctx() -> Iterator[InferenceContext]:
    with InferenceContext(AIConfig(device="cpu", grabcut_iterations=2)) as context:
        yield context


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def test_a_fill_layer_holds_the_filled_pixels_only(ctx: InferenceContext) -> None:
    job = make_job(input_blob="i" * 64, mask_blob="m" * 64)
    seen: list[float] = []
    control = Control()

    def progress(percent: float) -> None:
        seen.append(percent)
        control(percent)

    out = execute(ctx, job, {"i" * 64: _photo(), "m" * 64: _mask()}, progress)
    pixels = _decode(out.png)
    assert (out.width, out.height) == SIZE and pixels.shape == (60, 80, 4)
    assert pixels[20, 20, 3] == 255 and pixels[50, 70, 3] == 0
    assert out.metadata["backend"] == "fallback:opencv-telea" and seen[-1] == 100
    assert control.progress == 100


@pytest.mark.parametrize("output", ["cutout", "mask"])
def test_a_segmentation_layer(ctx: InferenceContext, output: str) -> None:
    job = make_job(
        kind=JobKind.SEGMENT,
        input_blob="i" * 64,
        mask_blob=None,
        params={"points": [[40.0, 30.0]], "point_labels": [1], "box": [15, 10, 65, 50],
                "output": output},
    )  # fmt: skip
    pixels = _decode(execute(ctx, job, {"i" * 64: _photo()}, Control()).png)
    assert pixels[30, 40, 3] == 255 and pixels[2, 2, 3] == 0
    if output == "mask":
        assert tuple(pixels[30, 40, :3]) == (255, 255, 255)
    else:
        assert tuple(pixels[30, 40, :3]) == (230, 30, 30)


def test_a_background_removal_layer(ctx: InferenceContext) -> None:
    job = make_job(kind=JobKind.REMOVE_BACKGROUND, input_blob="i" * 64, mask_blob=None, params={})
    out = execute(ctx, job, {"i" * 64: _photo()}, Control())
    pixels = _decode(out.png)
    assert pixels[30, 40, 3] > 200 and pixels[1, 1, 3] < 50
    assert out.metadata["backend"] == "fallback:grabcut"


def test_cancel_stops_at_the_next_step_and_bad_input_is_named(ctx: InferenceContext) -> None:
    control = Control()
    control.cancel()
    job = make_job(kind=JobKind.REMOVE_BACKGROUND, input_blob="i" * 64, mask_blob=None)
    with pytest.raises(Cancelled):
        execute(ctx, job, {"i" * 64: _photo()}, control)
    with pytest.raises(InvalidInput, match="the input image cannot be decoded"):
        execute(ctx, job, {"i" * 64: b"not an image"}, Control())
    empty = make_job(input_blob="i" * 64, mask_blob="m" * 64)
    with pytest.raises(InvalidInput, match="empty mask"):
        execute(ctx, empty, {"i" * 64: _photo(), "m" * 64: _png(Image.new("L", SIZE))}, Control())
