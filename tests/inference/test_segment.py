"""Segmentation through SAM2 with a tiny hiera-t built from sam2's own config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.inference.conftest import require_ai_stack
from tests.support.tiny_models import TinySam2

require_ai_stack("torch", "torchvision", "hydra", "iopath", "sam2", "cv2")

from inference import AIConfig, InferenceContext, segment  # noqa: E402 - after the check

# SAM2ImagePredictor builds its transforms with torch.jit.script, deprecated in torch 2.14;
# nothing on our side calls it.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")


def config_for(tiny: TinySam2, **extra: object) -> AIConfig:
    return AIConfig(
        device="cpu",
        sam2_config=tiny.config,
        sam2_checkpoint=tiny.checkpoint,
        sam2_overrides=tiny.overrides,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def ctx(tiny_sam2: TinySam2) -> Iterator[InferenceContext]:
    with InferenceContext(config_for(tiny_sam2)) as context:
        yield context


def image(width: int = 150, height: int = 100) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    "prompts",
    [
        {"points": [(40, 30)]},
        {"points": [(40, 30), (100, 70)], "point_labels": [1, 0]},
        {"box": (10, 10, 90, 80)},
        {"points": [(40, 30)], "box": (10, 10, 90, 80)},
    ],
    ids=["one-click", "fg-and-bg-clicks", "box", "click-and-box"],
)
def test_tiny_sam2_segments_end_to_end_on_cpu(
    ctx: InferenceContext, prompts: dict[str, object]
) -> None:
    progress: list[float] = []
    result = segment(ctx, image=image(), progress=progress.append, **prompts)  # type: ignore[arg-type]
    assert result.image.mode == "L" and result.image.size == (150, 100)
    assert set(np.unique(np.asarray(result.image))) <= {0, 255}
    assert result.backend == "sam2" and not result.is_fallback
    assert (result.device, result.dtype) == ("cpu", "float32")
    meta = result.metadata()
    assert 0.0 <= meta["score"] <= 1.0
    assert meta["multimask"] is (prompts == {"points": [(40, 30)]})
    assert progress[0] == 0 and progress[-1] == 100


def test_rgba_and_odd_sizes_are_accepted_and_the_model_loads_once(ctx: InferenceContext) -> None:
    rgba = image(97, 131).convert("RGBA")
    for _ in range(2):
        result = segment(ctx, image=rgba, box=(5, 5, 60, 90))
        assert result.image.size == (97, 131)
    snapshot = ctx.registry.snapshot()
    assert snapshot["loads"] == 1
    (model,) = snapshot["models"]
    assert model["backend"] == "sam2" and model["bytes"] > 0 and model["image_size"] == 128
    assert ctx.health()["pipelines"]["segment"]["mode"] == "real"


def test_a_missing_checkpoint_falls_back_to_grabcut(tmp_path: Path) -> None:
    missing = tmp_path / "sam2.pt"
    with InferenceContext(AIConfig(device="cpu", sam2_checkpoint=missing)) as ctx:
        result = segment(ctx, image=image(), box=(10, 10, 90, 80))
    assert result.backend == "fallback:grabcut"
    assert result.fallback_reason == f"SAM2 checkpoint {missing} does not exist"
    assert result.image.size == (150, 100)


def test_a_checkpoint_that_does_not_match_the_config_falls_back(tiny_sam2: TinySam2) -> None:
    # Without the overrides the config is the full hiera-t: the tiny weights do not fit it.
    config = AIConfig(
        device="cpu", sam2_config=tiny_sam2.config, sam2_checkpoint=tiny_sam2.checkpoint
    )
    with InferenceContext(config) as ctx:
        result = segment(ctx, image=image(), points=[(40, 30)])
    assert result.backend == "fallback:grabcut"
    assert result.fallback_reason is not None and "failed" in result.fallback_reason
