"""Inpainting through diffusers with tiny SD and SDXL inpainting pipelines saved to disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.inference.conftest import require_ai_stack

require_ai_stack("torch", "diffusers", "transformers", "cv2")

from inference import (  # noqa: E402 - after the stack check on purpose
    AIConfig,
    Cancelled,
    InferenceContext,
    inpaint,
)


def scene() -> tuple[Image.Image, Image.Image]:
    # 70x50 is not a multiple of 8: the pipeline must still return 70x50.
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (50, 70, 4), dtype=np.uint8)
    pixels[..., 3] = 180
    mask = Image.new("L", (70, 50), 0)
    mask.paste(255, (20, 10, 45, 35))
    return Image.fromarray(pixels), mask


@pytest.fixture
def sd_ctx(tiny_sd_dir: Path) -> Iterator[InferenceContext]:
    with InferenceContext(AIConfig(device="cpu", inpaint_model=str(tiny_sd_dir))) as ctx:
        yield ctx


@pytest.mark.parametrize(
    ("model_fixture", "pipeline_class"),
    [
        ("tiny_sd_dir", "StableDiffusionInpaintPipeline"),
        ("tiny_sdxl_dir", "StableDiffusionXLInpaintPipeline"),
    ],
)
def test_tiny_model_inpaints_end_to_end_on_cpu(
    request: pytest.FixtureRequest, model_fixture: str, pipeline_class: str
) -> None:
    model_dir: Path = request.getfixturevalue(model_fixture)
    image, mask = scene()
    progress: list[float] = []
    with InferenceContext(AIConfig(device="cpu", inpaint_model=str(model_dir))) as ctx:
        result = inpaint(
            ctx,
            image=image,
            mask=mask,
            prompt="a red sofa",
            negative_prompt="blurry",
            seed=7,
            steps=2,
            guidance=5.0,
            strength=1.0,
            progress=progress.append,
        )
        assert ctx.health()["pipelines"]["inpaint"] == {
            "mode": "real",
            "model": str(model_dir),
            "loaded": True,
            "fallback_reason": None,
        }
    assert result.image.size == (70, 50) and result.image.mode == "RGBA"
    assert result.backend == "diffusers" and not result.is_fallback
    assert (result.device, result.dtype) == ("cpu", "float32")
    assert result.model_id == str(model_dir)
    meta = result.metadata()
    assert meta["pipeline_class"] == pipeline_class
    assert meta["seed"] == 7 and meta["steps"] == 2 and meta["resolution"] == [72, 48]
    assert progress[0] == 0 and progress[-1] == 100 and progress == sorted(progress)
    assert len(progress) == 4  # start, one per step, end

    out, before = np.asarray(result.image), np.asarray(image)
    outside = np.asarray(mask) == 0
    assert np.array_equal(out[outside], before[outside])  # only the masked region changes
    assert (out[~outside][:, 3] == 255).all()  # the filled region is opaque


def test_the_same_seed_gives_the_same_pixels(sd_ctx: InferenceContext) -> None:
    image, mask = scene()
    runs = [
        inpaint(sd_ctx, image=image, mask=mask, prompt="x", seed=seed, steps=2, strength=1.0)
        for seed in (1, 1, 2)
    ]
    first, again, other = (np.asarray(r.image) for r in runs)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert sd_ctx.registry.snapshot()["loads"] == 1  # loaded once, used three times


def test_a_cancel_from_the_step_callback_stops_the_run_early(sd_ctx: InferenceContext) -> None:
    image, mask = scene()
    steps_seen: list[float] = []

    def progress(percent: float) -> None:
        if 0 < percent < 100:
            steps_seen.append(percent)
            if len(steps_seen) == 2:
                raise Cancelled("job cancelled by its owner")

    with pytest.raises(Cancelled, match="cancelled by its owner"):
        inpaint(
            sd_ctx, image=image, mask=mask, prompt="x", steps=8, strength=1.0, progress=progress
        )
    assert len(steps_seen) == 2  # stopped after step 2 of 8
    # The model stays loaded and usable after a cancelled job.
    result = inpaint(sd_ctx, image=image, mask=mask, prompt="x", steps=2, strength=1.0)
    assert result.backend == "diffusers"


def test_a_missing_model_directory_falls_back_and_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    image, mask = scene()
    with InferenceContext(AIConfig(device="cpu", inpaint_model=str(missing))) as ctx:
        result = inpaint(ctx, image=image, mask=mask)
    assert result.backend == "fallback:opencv-telea"
    assert result.fallback_reason == f"inpainting model directory {missing} does not exist"


def test_an_unloadable_model_falls_back_once_and_is_not_retried_per_job(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_index.json").write_text('{"_class_name": "NoSuchPipeline"}')
    image, mask = scene()
    with InferenceContext(AIConfig(device="cpu", inpaint_model=str(broken))) as ctx:
        first = inpaint(ctx, image=image, mask=mask)
        second = inpaint(ctx, image=image, mask=mask)
    assert first.backend == second.backend == "fallback:opencv-telea"
    assert first.fallback_reason is not None and "failed" in first.fallback_reason
    assert second.fallback_reason == first.fallback_reason


def test_a_hub_id_not_in_the_cache_falls_back_without_downloading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    image, mask = scene()
    with InferenceContext(AIConfig(device="cpu", inpaint_model="sdxl")) as ctx:
        result = inpaint(ctx, image=image, mask=mask)
    assert result.is_fallback
    assert result.fallback_reason is not None
    assert "diffusers/stable-diffusion-xl-1.0-inpainting-0.1" in result.fallback_reason
