"""AI inference for Nexus Canvas: generative fill, segmentation, background removal.

A worker builds one ``InferenceContext`` from an ``AIConfig`` (read once from the
environment), starts it, and calls the pipeline functions with it::

    config = AIConfig.from_env(os.environ)
    with InferenceContext(config) as ctx:
        result = inpaint(ctx, image=img, mask=mask, prompt="a red sofa", progress=on_progress)
        layer_pixels, provenance = result.image, result.metadata()

Pipelines: ``inpaint`` (diffusers SDXL / SD inpainting), ``segment`` (SAM2 point and box
prompts), ``remove_background`` (rembg). Each falls back to a CPU OpenCV method (Telea
inpainting, GrabCut) when no weights are configured or they fail to load, and says so in the
result (``backend`` starts with "fallback:"). Models load once into a ``ModelRegistry`` that
evicts least-recently-used models when the device-memory budget runs short. torch and the
model libraries are imported only when a real model is used. See docs/inference.md.
"""

from __future__ import annotations

from inference.config import AIConfig
from inference.context import InferenceContext
from inference.devices import DeviceChoice, choose_device
from inference.exceptions import (
    AIConfigError,
    Cancelled,
    InferenceError,
    InvalidInput,
    ModelUnavailable,
    NotStarted,
)
from inference.pipelines import PIPELINES, inpaint, remove_background, run_pipeline, segment
from inference.registry import Loaded, ModelRegistry
from inference.results import PipelineResult, ProgressCallback

__all__ = [
    "PIPELINES",
    "AIConfig",
    "AIConfigError",
    "Cancelled",
    "DeviceChoice",
    "InferenceContext",
    "InferenceError",
    "InvalidInput",
    "Loaded",
    "ModelRegistry",
    "ModelUnavailable",
    "NotStarted",
    "PipelineResult",
    "ProgressCallback",
    "choose_device",
    "inpaint",
    "remove_background",
    "run_pipeline",
    "segment",
]
