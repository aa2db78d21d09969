"""The result type every pipeline returns, and the progress-callback type they accept."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

# Called with the job's progress in percent (0-100). Raising inference.Cancelled from it stops
# the job: diffusers runs it after every denoising step, the fallbacks between their phases.
ProgressCallback = Callable[[float], None]

FALLBACK_PREFIX = "fallback:"


@dataclass(frozen=True)
class Origin:
    """Which model (or fallback) made an output, on which device, in which precision."""

    model_id: str
    backend: str
    device: str
    dtype: str
    fallback_reason: str | None = None

    @classmethod
    def fallback(cls, model_id: str, backend: str, reason: str) -> Origin:
        """An OpenCV fallback: always the CPU, 8-bit images."""
        return cls(model_id, FALLBACK_PREFIX + backend, "cpu", "uint8", reason)


@dataclass(frozen=True)
class PipelineResult:
    """An output image plus where and how it was made.

    ``backend`` is "diffusers", "sam2" or "rembg" for a real model, or starts with
    "fallback:" ("fallback:opencv-telea", "fallback:grabcut") for a CPU fallback, in which case
    ``fallback_reason`` says why the real model was not used.
    """

    image: Image.Image
    pipeline: str  # "inpaint", "segment" or "remove_bg"
    model_id: str
    backend: str
    device: str
    dtype: str
    seconds: float
    fallback_reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def finish(
        cls,
        image: Image.Image,
        *,
        pipeline: str,
        origin: Origin,
        started: float,
        details: Mapping[str, Any],
    ) -> PipelineResult:
        """The result of a job that began at ``started`` (a ``time.perf_counter()`` value)."""
        return cls(
            image=image,
            pipeline=pipeline,
            model_id=origin.model_id,
            backend=origin.backend,
            device=origin.device,
            dtype=origin.dtype,
            seconds=time.perf_counter() - started,
            fallback_reason=origin.fallback_reason,
            details=details,
        )

    @property
    def is_fallback(self) -> bool:
        return self.backend.startswith(FALLBACK_PREFIX)

    def metadata(self) -> dict[str, Any]:
        """JSON-ready provenance for the job record and the AI layer."""
        return {
            "pipeline": self.pipeline,
            "model": self.model_id,
            "backend": self.backend,
            "fallback": self.is_fallback,
            "fallback_reason": self.fallback_reason,
            "device": self.device,
            "dtype": self.dtype,
            "seconds": round(self.seconds, 4),
            "width": self.image.width,
            "height": self.image.height,
            "mode": self.image.mode,
            **dict(self.details),
        }


# Plain words for what made a result, by backend (a real model is named by its file's stem).
_METHOD_WORDS = {
    FALLBACK_PREFIX + "opencv-telea": "OpenCV inpainting",
    FALLBACK_PREFIX + "grabcut": "GrabCut fallback",
    "sam2": "SAM2",
}
# Why a real model was not used, in a few words: (pattern in the long reason, the words).
_SHORT_REASONS = (
    (re.compile(r"no .*(model|checkpoint) configured"), "no model configured"),
    (re.compile(r"needs a rembg home"), "no model folder set"),
    (re.compile(r"must lie under"), "model outside its folder"),
    (re.compile(r"checksum|sha256|md5|corrupt|truncated"), "model file corrupt"),
    (re.compile(r"does not exist|is not in |not found|no such file"), "model file missing"),
    (re.compile(r"(\w[\w-]*) is not installed"), r"\1 not installed"),
    (re.compile(r"failed|error", re.IGNORECASE), "model failed to load"),
)
SHORT_REASON_CHARS = 40


def short_reason(reason: str | None) -> str:
    """A fallback's reason in a few plain words for a layer name ("model file missing",
    "rembg not installed"); an unknown reason is cut to its first few words."""
    text = (reason or "").strip()
    for pattern, words in _SHORT_REASONS:
        found = pattern.search(text)
        if found:
            return found.expand(words)
    if not text:
        return "reason unknown"
    if len(text) <= SHORT_REASON_CHARS:
        return text
    return text[:SHORT_REASON_CHARS].rsplit(" ", 1)[0] + "…"


def method_words(result: Mapping[str, Any], *, with_reason: bool = False) -> str | None:
    """What made a result, in plain words, from its :meth:`PipelineResult.metadata` (or a job
    result holding it): "OpenCV inpainting, prompt not used", "GrabCut fallback" ("GrabCut
    fallback: model file missing" ``with_reason``), "SAM2", "u2netp". None when the result
    names no backend."""
    backend = str(result.get("backend") or "")
    if not backend:
        return None
    words = _METHOD_WORDS.get(backend)
    if words is None:
        if backend.startswith(FALLBACK_PREFIX):
            words = backend.removeprefix(FALLBACK_PREFIX) + " fallback"
        else:
            model = str(result.get("model") or backend).rstrip("/")
            words = re.split(r"[/\\]", model)[-1].removesuffix(".onnx").removesuffix(".pt")
    if backend.startswith(FALLBACK_PREFIX):
        if result.get("prompt_ignored"):
            words += ", prompt not used"
        if with_reason:
            words += ": " + short_reason(result.get("fallback_reason"))
    return words


def report(progress: ProgressCallback | None, percent: float) -> None:
    """Call ``progress`` with a clamped percentage (a Cancelled it raises propagates)."""
    if progress is not None:
        progress(max(0.0, min(100.0, percent)))
