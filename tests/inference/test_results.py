"""What made a result, in the plain words a layer name carries."""

from __future__ import annotations

import pytest

from inference.results import method_words, short_reason


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("no inpainting model configured (NEXUS_INPAINT_MODEL)", "no model configured"),
        ("rembg model 'u2netp' is not in /m (looked for /m/u2netp.onnx)", "model file missing"),
        ("SAM2 checkpoint /w/sam2.pt does not exist", "model file missing"),
        ("rembg is not installed (No module named 'rembg')", "rembg not installed"),
        ("u2netp.onnx: sha256 abc… differs from the expected 309c…", "model file corrupt"),
        ("loading remove_bg:u2netp failed: RuntimeError: bad graph", "model failed to load"),
        (
            "the moon is in the wrong phase for segmentation today",
            "the moon is in the wrong phase for…",
        ),
        (None, "reason unknown"),
    ],
)
def test_short_reasons(reason: str | None, words: str) -> None:
    assert short_reason(reason) == words


def test_method_words_name_the_model_or_the_fallback() -> None:
    telea = {"backend": "fallback:opencv-telea", "prompt_ignored": True, "fallback_reason": "x"}
    assert method_words(telea) == "OpenCV inpainting, prompt not used"
    assert method_words(telea | {"prompt_ignored": False}) == "OpenCV inpainting"
    grabcut = {
        "backend": "fallback:grabcut",
        "fallback_reason": "rembg model 'u2netp' is not in /m",
    }
    assert method_words(grabcut) == "GrabCut fallback"
    assert method_words(grabcut, with_reason=True) == "GrabCut fallback: model file missing"
    assert method_words({"backend": "sam2", "model": "/w/sam2.1_hiera_t.pt"}) == "SAM2"
    assert method_words({"backend": "rembg", "model": "/m/models/u2netp/u2netp.onnx"}) == "u2netp"
    assert method_words({"backend": "diffusers", "model": "org/sd-inpaint"}) == "sd-inpaint"
    assert method_words({"model": "m"}) is None  # a result that names no backend
