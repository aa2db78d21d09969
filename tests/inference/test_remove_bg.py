"""Background removal through rembg with a tiny ONNX model exported from torch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.inference.conftest import require_ai_stack

require_ai_stack("torch", "onnx", "onnxscript", "onnxruntime", "rembg", "cv2")

from inference import AIConfig, InferenceContext, remove_background  # noqa: E402


@pytest.fixture
def ctx(tiny_rembg: tuple[Path, Path], rembg_env: None) -> Iterator[InferenceContext]:
    home, model = tiny_rembg
    config = AIConfig(device="cpu", rembg_home=home, rembg_model_path=model)
    with InferenceContext(config) as context:
        yield context


def photo(width: int = 90, height: int = 60) -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))


def test_tiny_onnx_model_cuts_out_end_to_end_on_cpu(
    ctx: InferenceContext, tiny_rembg: tuple[Path, Path]
) -> None:
    progress: list[float] = []
    result = remove_background(ctx, image=photo(), progress=progress.append)
    assert result.image.mode == "RGBA" and result.image.size == (90, 60)
    assert result.backend == "rembg" and not result.is_fallback
    assert (result.device, result.dtype) == ("cpu", "float32")
    assert result.model_id == str(tiny_rembg[1])
    assert np.array_equal(np.asarray(result.image)[..., :3], np.asarray(photo()))
    alpha = np.asarray(result.image.getchannel("A"))
    assert alpha.min() < alpha.max()  # a real matte (min-max normalised), not a constant
    assert progress[0] == 0 and progress[-1] == 100
    (model,) = ctx.registry.snapshot()["models"]
    assert model["providers"] == ["CPUExecutionProvider"] and model["bytes"] > 0


def test_an_input_alpha_is_kept(ctx: InferenceContext) -> None:
    rgba = np.asarray(photo().convert("RGBA")).copy()
    rgba[:, :45, 3] = 0  # the left half is already transparent
    result = remove_background(ctx, image=Image.fromarray(rgba))
    alpha = np.asarray(result.image.getchannel("A"))
    assert (alpha[:, :45] == 0).all()
    assert ctx.registry.snapshot()["loads"] == 1


def test_a_model_outside_the_rembg_home_falls_back_with_the_reason(
    tiny_rembg: tuple[Path, Path], tmp_path: Path, rembg_env: None
) -> None:
    _home, model = tiny_rembg
    config = AIConfig(device="cpu", rembg_home=tmp_path, rembg_model_path=model)
    with InferenceContext(config) as ctx:
        result = remove_background(ctx, image=photo())
    assert result.backend == "fallback:grabcut" and result.image.mode == "RGBA"
    assert result.fallback_reason == f"rembg model {model} must lie under the rembg home {tmp_path}"


def test_a_named_model_that_is_not_on_disk_is_never_downloaded(
    tmp_path: Path, rembg_env: None
) -> None:
    config = AIConfig(device="cpu", rembg_home=tmp_path, rembg_model="u2net")
    with InferenceContext(config) as ctx:
        result = remove_background(ctx, image=photo())
    assert result.is_fallback
    assert result.fallback_reason is not None and "'u2net' is not in" in result.fallback_reason
    assert not any(tmp_path.iterdir())  # nothing fetched


def test_a_named_model_already_in_the_home_is_used(
    tiny_rembg: tuple[Path, Path], tmp_path: Path, rembg_env: None
) -> None:
    # The layout rembg itself downloads to: <home>/models/<name>/<name>.onnx. u2net is not
    # a file the project knows by checksum, so the tiny stand-in is taken as it is.
    folder = tmp_path / "models" / "u2net"
    folder.mkdir(parents=True)
    (folder / "u2net.onnx").write_bytes(tiny_rembg[1].read_bytes())
    config = AIConfig(device="cpu", rembg_home=tmp_path, rembg_model="u2net")
    with InferenceContext(config) as ctx:
        result = remove_background(ctx, image=photo())
    assert result.backend == "rembg" and result.model_id == "u2net"
