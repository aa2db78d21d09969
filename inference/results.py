"""The result type every pipeline returns, and the progress-callback type they accept."""

from __future__ import annotations

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


def report(progress: ProgressCallback | None, percent: float) -> None:
    """Call ``progress`` with a clamped percentage (a Cancelled it raises propagates)."""
    if progress is not None:
        progress(max(0.0, min(100.0, percent)))
