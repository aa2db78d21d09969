"""The CPU fallbacks (no weights configured), with measurable quality checks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from tests.inference.conftest import require_ai_stack

require_ai_stack("cv2")

from inference import (  # noqa: E402 - after the stack check on purpose
    AIConfig,
    Cancelled,
    InferenceContext,
    InvalidInput,
    inpaint,
    remove_background,
    segment,
)


@pytest.fixture
def ctx() -> Iterator[InferenceContext]:
    with InferenceContext(AIConfig(device="cpu")) as context:
        yield context


def gradient(width: int = 160, height: int = 120) -> npt.NDArray[np.uint8]:
    x = np.linspace(0, 1, width)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    rgb = np.stack([40 + 180 * x + 0 * y, 30 + 200 * y + 0 * x, 200 - 120 * x * y], axis=-1)
    return np.clip(rgb, 0, 255).round().astype(np.uint8)


def circle_scene(
    size: int = 256, radius: int = 60, seed: int = 0
) -> tuple[Image.Image, npt.NDArray[np.bool_]]:
    """A filled red circle on a noisy green-blue background, and the circle's true mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    inside = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 <= radius**2
    background = rng.integers(0, 90, (size, size, 3))
    background[..., 1] += 80
    background[..., 2] += 100
    foreground = np.array([225, 40, 40]) + rng.integers(-15, 15, (size, size, 3))
    pixels = np.where(inside[..., None], foreground, background)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), inside


def iou(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_telea_fills_a_hole_in_a_smooth_gradient(ctx: InferenceContext) -> None:
    truth = gradient()
    hole = np.zeros(truth.shape[:2], dtype=bool)
    hole[45:75, 60:100] = True
    damaged = truth.copy()
    damaged[hole] = 0
    mask = Image.fromarray(np.where(hole, 255, 0).astype(np.uint8))

    result = inpaint(ctx, image=Image.fromarray(damaged), mask=mask, prompt="sky")

    out = np.asarray(result.image).astype(float)
    before = np.abs(damaged.astype(float) - truth)[hole].mean()
    after = np.abs(out - truth)[hole].mean()
    assert after < 0.25 * before, (after, before)
    assert after < 10, after  # a few grey levels on a smooth ramp (4.3 measured)
    assert np.array_equal(out[~hole], truth[~hole].astype(float))  # untouched outside
    assert result.image.size == (160, 120)
    assert result.backend == "fallback:opencv-telea" and result.is_fallback
    assert result.fallback_reason is not None and "NEXUS_INPAINT_MODEL" in result.fallback_reason
    assert result.metadata()["prompt_ignored"] is True


def test_telea_keeps_alpha_outside_and_makes_the_fill_opaque(ctx: InferenceContext) -> None:
    rgba = Image.new("RGBA", (64, 48), (10, 120, 200, 100))
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (20, 10, 40, 30))
    alpha = np.asarray(inpaint(ctx, image=rgba, mask=mask).image.getchannel("A"))
    assert alpha[15, 25] == 255 and alpha[2, 2] == 100


def test_grabcut_segments_a_circle_from_a_box(ctx: InferenceContext) -> None:
    image, truth = circle_scene()
    result = segment(ctx, image=image, box=(58, 58, 198, 198))
    mask = np.asarray(result.image) > 127
    assert result.image.mode == "L" and result.image.size == image.size
    assert result.backend == "fallback:grabcut"
    assert iou(mask, truth) >= 0.8, iou(mask, truth)


def test_grabcut_segments_a_circle_from_one_click(ctx: InferenceContext) -> None:
    image, truth = circle_scene(seed=1)
    result = segment(ctx, image=image, points=[(128, 128)])
    assert iou(np.asarray(result.image) > 127, truth) >= 0.8


def test_grabcut_downscales_large_images_and_returns_full_size(ctx: InferenceContext) -> None:
    image, truth = circle_scene(size=1024, radius=240, seed=2)
    result = segment(ctx, image=image, box=(240, 240, 784, 784))
    assert result.image.size == (1024, 1024)
    assert iou(np.asarray(result.image) > 127, truth) >= 0.8
    assert result.seconds < 15  # 512² iterations, not 1024² ones (≈1.3 s each)


def test_background_removal_fallback_cuts_out_the_subject(ctx: InferenceContext) -> None:
    image, truth = circle_scene(seed=3)
    result = remove_background(ctx, image=image)
    assert result.image.mode == "RGBA" and result.image.size == image.size
    assert result.backend == "fallback:grabcut"
    alpha = np.asarray(result.image.getchannel("A"))
    assert iou(alpha > 127, truth) >= 0.8, iou(alpha > 127, truth)


def test_progress_reaches_100_and_a_cancel_stops_the_fallback(ctx: InferenceContext) -> None:
    image, _ = circle_scene(size=128, radius=30)
    seen: list[float] = []
    segment(ctx, image=image, box=(20, 20, 108, 108), progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)

    def cancel_after_first(percent: float) -> None:
        if percent > 0:
            raise Cancelled("user cancelled")

    with pytest.raises(Cancelled):
        segment(ctx, image=image, box=(20, 20, 108, 108), progress=cancel_after_first)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda c, i: inpaint(c, image=i, mask=Image.new("L", (5, 5), 255)), "mask must be 64x48"),
        (lambda c, i: inpaint(c, image=i, mask=Image.new("L", i.size, 0)), "empty mask"),
        (lambda c, i: inpaint(c, image=i, mask=Image.new("L", i.size, 255), steps=0), "steps"),
        (lambda c, i: segment(c, image=i), "needs points or a box"),
        (lambda c, i: segment(c, image=i, points=[(100, 5)]), r"\(100, 5\) must lie inside"),
        (
            lambda c, i: segment(c, image=i, points=[(5, 5)], point_labels=[1, 0]),
            "point_labels: 2 labels for 1 point",
        ),
        (lambda c, i: segment(c, image=i, box=(3, 3, 4, 4)), "at least 2x2"),
        (lambda c, i: segment(c, image=i, box=(40, 5, 10, 30)), r"box \(40, 5, 10, 30\) is inv"),
        (lambda c, i: segment(c, image=i, box=(5, 30, 40, 5)), "is inverted"),
        (lambda c, i: segment(c, image=i, box=(5, 5, 70, 30)), r"\(5, 5, 70, 30\) must lie"),
        (lambda c, i: remove_background(c, image="not an image"), "PIL image"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_name_the_value(ctx: InferenceContext, call: object, fragment: str) -> None:
    image = Image.new("RGB", (64, 48), (1, 2, 3))
    with pytest.raises(InvalidInput, match=fragment):
        call(ctx, image)  # type: ignore[operator]
