"""The default background-removal model, U²-Net-p, in the pipeline and in the /health report:
the installed file runs through rembg's session API; a damaged copy is refused before rembg
sees it (its downloader would otherwise try to fetch the file again); a model onnxruntime
cannot load becomes a fallback, never an error. Needs `make install` (skips without it, fails
under CI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inference import AIConfig, InferenceContext, remove_background
from inference.availability import installed, report
from inference.model_files import U2NETP, default_rembg_home
from tests.inference.composites import composite, iou

MODEL = U2NETP.path_in(default_rembg_home())
if not MODEL.exists():
    message = f"{MODEL} is not installed: run `make install`"
    if os.environ.get("CI"):
        pytest.fail(f"{message} [CI is set, so this fails instead of skipping]", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def _config(**env: str) -> AIConfig:
    return AIConfig.from_env({"NEXUS_AI_DEVICE": "cpu", **env})


def test_the_default_configuration_runs_u2netp_on_a_real_photo(rembg_env: None) -> None:
    photo = composite("rocket", 320)
    with InferenceContext(_config()) as ctx:
        result = remove_background(ctx, image=Image.fromarray(photo.image))
        (model,) = ctx.registry.snapshot()["models"]
    assert (result.backend, result.model_id, result.fallback_reason) == ("rembg", "u2netp", None)
    assert result.details == {"session": "u2netp"}
    assert model["bytes"] == U2NETP.size and model["providers"] == ["CPUExecutionProvider"]
    alpha = np.asarray(result.image.getchannel("A"))
    assert iou(alpha >= 128, photo.mask) >= 0.45  # measured 0.6; the REST test checks more


def test_the_flat_layout_of_older_rembg_homes_is_found(tmp_path: Path, rembg_env: None) -> None:
    shutil.copyfile(MODEL, tmp_path / "u2netp.onnx")
    with InferenceContext(_config(NEXUS_REMBG_HOME=str(tmp_path))) as ctx:
        result = remove_background(ctx, image=Image.new("RGB", (64, 48), "red"))
    assert result.backend == "rembg"
    assert report(_config(NEXUS_REMBG_HOME=str(tmp_path)))["models"][0]["verified"] is True


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("missing", "is missing; run `make install`"),
        ("truncated", f"has 1000 bytes, expected {U2NETP.size} (truncated or another file)"),
        ("corrupt", f"expected {U2NETP.sha256} (corrupt or another file)"),
    ],
)
def test_a_damaged_model_falls_back_naming_the_file_and_the_fix(
    damage: str, expected: str, tmp_path: Path, rembg_env: None
) -> None:
    copy = U2NETP.path_in(tmp_path)
    copy.parent.mkdir(parents=True)
    if damage == "truncated":
        copy.write_bytes(MODEL.read_bytes()[:1000])
    elif damage == "corrupt":
        data = bytearray(MODEL.read_bytes())
        data[len(data) // 2] ^= 0xFF
        copy.write_bytes(bytes(data))
    config = _config(NEXUS_REMBG_HOME=str(tmp_path))
    with InferenceContext(config) as ctx:
        result = remove_background(ctx, image=Image.new("RGB", (64, 48), "red"))
        assert ctx.registry.snapshot()["loads"] == 0  # rembg never saw the file
    assert result.backend == "fallback:grabcut" and result.image.mode == "RGBA"
    reason = result.fallback_reason or ""
    assert reason.startswith(f"rembg model 'u2netp': model file {copy} ")
    assert expected in reason and "make install" in reason
    left = [] if damage == "missing" else ["u2netp.onnx"]
    assert sorted(p.name for p in copy.parent.iterdir()) == left  # nothing downloaded
    pipelines = report(config)["pipelines"]
    assert pipelines["remove_bg"]["mode"] == "fallback"
    assert pipelines["remove_bg"]["fallback"] == "grabcut"
    assert expected in pipelines["remove_bg"]["fallback_reason"]


def test_a_model_onnxruntime_cannot_load_falls_back(tmp_path: Path, rembg_env: None) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an ONNX protobuf")
    config = _config(NEXUS_REMBG_HOME=str(tmp_path), NEXUS_REMBG_MODEL_PATH=str(broken))
    with InferenceContext(config) as ctx:
        result = remove_background(ctx, image=Image.new("RGB", (64, 48), "red"))
    assert result.backend == "fallback:grabcut"
    assert result.fallback_reason is not None
    assert result.fallback_reason.startswith(f"loading remove_bg:u2net_custom:{broken} failed: ")


def test_turned_off_it_runs_grabcut_and_says_how_to_turn_it_on(rembg_env: None) -> None:
    config = _config(NEXUS_REMBG_MODEL="none")
    with InferenceContext(config) as ctx:
        result = remove_background(ctx, image=Image.new("RGB", (64, 48), "red"))
    assert result.backend == "fallback:grabcut"
    assert result.fallback_reason == (
        "background removal's model is turned off (NEXUS_REMBG_MODEL=none); "
        "unset it for the default model u2netp"
    )
    assert report(config)["pipelines"]["remove_bg"]["fallback_reason"] == result.fallback_reason


def test_the_report_lists_loadable_models_and_the_fallbacks_with_reasons() -> None:
    assert installed("rembg") and installed("onnxruntime")
    assert not installed("nexus_canvas_no_such_module")
    health = report(_config())
    assert health["models"] == [
        {"pipeline": "remove_bg", "model": "u2netp", "path": str(MODEL), "verified": True}
    ]
    assert health["pipelines"]["inpaint"] == {
        "mode": "fallback",
        "model": None,
        "path": None,
        "verified": False,
        "fallback": "opencv-telea",
        "fallback_reason": "no inpainting model configured (NEXUS_INPAINT_MODEL)",
    }
    assert health["pipelines"]["segment"]["fallback"] == "grabcut"
    missing = report(_config(NEXUS_SAM2_CHECKPOINT="/nonexistent/sam2.pt"))
    assert missing["pipelines"]["segment"]["mode"] == "fallback"
