"""Segmentation from point and box prompts: SAM2, with GrabCut as fallback.

SAM2 is built with the ``sam2`` package: ``build_sam2(config, checkpoint)`` where the config
is a name inside the package (``configs/sam2.1/sam2.1_hiera_l.yaml``) plus optional hydra
overrides, and the checkpoint holds the state dict under ``"model"`` (Meta's release files
do). Weights stay float32; on CUDA the forward pass runs under autocast in the configured
half precision (bfloat16 where the GPU has it), as Meta's examples do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from inference.context import InferenceContext
from inference.devices import module_nbytes
from inference.exceptions import ModelUnavailable
from inference.pipelines._common import (
    Box,
    Point,
    as_array,
    box_around_points,
    check_prompts,
    split_image,
)
from inference.pipelines._grabcut import grabcut
from inference.registry import Loaded
from inference.results import Origin, PipelineResult, ProgressCallback, report

log = logging.getLogger(__name__)

PIPELINE = "segment"
FALLBACK_MODEL_ID = "opencv-grabcut"


def segment(
    ctx: InferenceContext,
    *,
    image: Image.Image,
    points: Sequence[Point] | None = None,
    point_labels: Sequence[int] | None = None,
    box: Box | None = None,
    progress: ProgressCallback | None = None,
) -> PipelineResult:
    """Mask (mode L, 255 = object) of the object the prompts point at, at the image's size.

    ``points`` are (x, y) pixels with ``point_labels`` 1 (object, the default) or 0 (not the
    object); ``box`` is (x0, y0, x1, y1). At least one point or a box is needed.
    """
    rgb, _alpha = split_image(image)
    pts, labels, checked_box = check_prompts(rgb.size, points, point_labels, box)
    started = time.perf_counter()
    report(progress, 0)
    try:
        key = _model_key(ctx)
        with ctx.model(PIPELINE, key, lambda: _load(ctx)) as loaded, loaded.lock:
            report(progress, 10)
            mask, details = _predict(ctx, loaded.model, rgb, pts, labels, checked_box)
        origin = Origin(loaded.model_id, "sam2", loaded.device, details.pop("dtype"))
    except ModelUnavailable as exc:
        log.info("segment fallback: %s", exc.reason)
        fg = [p for p, lab in zip(pts, labels, strict=True) if lab == 1]
        bg = [p for p, lab in zip(pts, labels, strict=True) if lab == 0]
        seed_box = checked_box or box_around_points(fg, rgb.size)
        prob = grabcut(
            as_array(rgb),
            box=seed_box,
            fg_points=fg,
            bg_points=bg,
            max_side=ctx.config.fallback_max_side,
            iterations=ctx.config.grabcut_iterations,
            progress=progress,
            progress_span=(5, 95),
        )
        mask = Image.fromarray(np.where(prob >= 0.5, 255, 0).astype(np.uint8))
        origin = Origin.fallback(FALLBACK_MODEL_ID, "grabcut", exc.reason)
        details = {"box": list(seed_box), "iterations": ctx.config.grabcut_iterations}
    report(progress, 100)
    return PipelineResult.finish(
        mask, pipeline=PIPELINE, origin=origin, started=started, details=details
    )


def _model_key(ctx: InferenceContext) -> str:
    checkpoint = ctx.config.sam2_checkpoint
    if checkpoint is None:
        raise ModelUnavailable(PIPELINE, "no SAM2 checkpoint configured (NEXUS_SAM2_CHECKPOINT)")
    if not checkpoint.is_file():
        raise ModelUnavailable(PIPELINE, f"SAM2 checkpoint {checkpoint} does not exist")
    return f"{PIPELINE}:{ctx.config.sam2_config}:{checkpoint}"


def _load(ctx: InferenceContext) -> Loaded[Any]:
    try:
        from sam2.build_sam import build_sam2  # type: ignore[import-untyped]
        from sam2.sam2_image_predictor import SAM2ImagePredictor  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ModelUnavailable(PIPELINE, f"sam2 is not installed ({exc})") from exc

    device = ctx.device.device
    model = build_sam2(
        ctx.config.sam2_config,
        str(ctx.config.sam2_checkpoint),
        device=device,
        hydra_overrides_extra=list(ctx.config.sam2_overrides),
    )
    predictor = SAM2ImagePredictor(model)
    # The predictor assumes 1024-pixel inputs; derive the backbone's feature sizes (strides
    # 4, 8, 16) from the model so that other image sizes work too.
    size = int(model.image_size)
    predictor._bb_feat_sizes = [(size // s, size // s) for s in (4, 8, 16)]
    return Loaded(
        model=predictor,
        nbytes=module_nbytes([model]),
        device=device,
        backend="sam2",
        model_id=str(ctx.config.sam2_checkpoint),
        offload=lambda: model.to("cpu"),
        restore=lambda: model.to(device),
        extra={"config": ctx.config.sam2_config, "image_size": size},
    )


def _predict(
    ctx: InferenceContext,
    predictor: Any,
    rgb: Image.Image,
    points: list[Point],
    labels: list[int],
    box: Box | None,
) -> tuple[Image.Image, dict[str, Any]]:
    import contextlib

    import torch

    choice = ctx.device
    autocast: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    dtype = "float32"
    if choice.is_cuda and choice.dtype != "float32":
        half = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        autocast = torch.autocast("cuda", dtype=half)
        dtype = str(half).removeprefix("torch.")
    # One point alone is ambiguous (part or whole?): ask for three masks, keep the best.
    multimask = box is None and len(points) == 1
    with torch.inference_mode(), autocast:
        predictor.set_image(as_array(rgb))
        masks, scores, _ = predictor.predict(
            point_coords=np.array(points, dtype=np.float32) if points else None,
            point_labels=np.array(labels, dtype=np.int32) if points else None,
            box=np.array(box, dtype=np.float32) if box is not None else None,
            multimask_output=multimask,
        )
        predictor.reset_predictor()
    best = int(np.argmax(scores))
    mask = Image.fromarray(np.where(masks[best] > 0, 255, 0).astype(np.uint8))
    return mask, {"score": float(scores[best]), "multimask": multimask, "dtype": dtype}
