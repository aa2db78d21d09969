"""Generative fill: diffusers inpainting (SDXL or SD 1.5/2), with OpenCV Telea as fallback.

The model is whatever ``AutoPipelineForInpainting.from_pretrained`` accepts: a hub id (taken
from the local Hugging Face cache unless downloads are allowed) or a local directory written
by ``save_pretrained``. The diffusion runs at the image's size scaled to fit
``inpaint_max_side`` and rounded to the VAE's multiple; the result is scaled back and pasted
into the original through the mask, so pixels outside the mask never change.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from inference.context import InferenceContext
from inference.devices import module_nbytes
from inference.exceptions import InvalidInput, ModelUnavailable
from inference.pipelines._common import as_array, check_mask, split_image
from inference.registry import Loaded
from inference.results import Origin, PipelineResult, ProgressCallback, report

if TYPE_CHECKING:
    from diffusers import DiffusionPipeline

log = logging.getLogger(__name__)

PIPELINE = "inpaint"
FALLBACK_MODEL_ID = "opencv-telea"
TELEA_RADIUS = 5


def inpaint(
    ctx: InferenceContext,
    *,
    image: Image.Image,
    mask: Image.Image,
    prompt: str = "",
    negative_prompt: str | None = None,
    seed: int | None = None,
    steps: int = 30,
    guidance: float = 7.5,
    strength: float = 0.99,
    progress: ProgressCallback | None = None,
) -> PipelineResult:
    """Fill the white part of ``mask`` in ``image``; returns an image of the same size.

    RGBA input keeps its alpha outside the mask and becomes opaque inside it. ``strength``
    below 1 keeps some of the original under the mask (the SDXL inpainting model card advises
    0.99). ``progress`` gets 0-100 and may raise Cancelled to stop at the next step.
    """
    if steps < 1 or steps > 500:
        raise InvalidInput(f"steps must be 1..500, got {steps}")
    if not 0.0 < strength <= 1.0:
        raise InvalidInput(f"strength must be in (0, 1], got {strength}")
    if guidance < 0:
        raise InvalidInput(f"guidance must be >= 0, got {guidance}")
    rgb, alpha = split_image(image)
    region = check_mask(mask, rgb.size)
    seed = random.randrange(2**31) if seed is None else int(seed)
    started = time.perf_counter()
    report(progress, 0)
    try:
        model_id = _model_id(ctx)
        key = f"{PIPELINE}:{model_id}"
        with ctx.model(PIPELINE, key, lambda: _load(ctx, model_id)) as loaded, loaded.lock:
            filled, details = _diffuse(
                loaded.model,
                rgb,
                region,
                prompt=prompt,
                negative_prompt=negative_prompt,
                seed=seed,
                steps=steps,
                guidance=guidance,
                strength=strength,
                max_side=ctx.config.inpaint_max_side,
                progress=progress,
            )
        origin = Origin(model_id, "diffusers", loaded.device, ctx.device.dtype)
    except ModelUnavailable as exc:
        log.info("inpaint fallback: %s", exc.reason)
        filled = _telea(rgb, region)
        origin = Origin.fallback(FALLBACK_MODEL_ID, "opencv-telea", exc.reason)
        details = {"radius": TELEA_RADIUS, "prompt_ignored": bool(prompt)}
    out = Image.composite(filled, rgb, region)
    if alpha is not None:
        out = out.convert("RGBA")
        out.putalpha(Image.fromarray(np.maximum(np.asarray(alpha), np.asarray(region))))
    report(progress, 100)
    return PipelineResult.finish(
        out, pipeline=PIPELINE, origin=origin, started=started, details=details
    )


def _model_id(ctx: InferenceContext) -> str:
    model_id = ctx.config.inpaint_model_id
    if model_id is None:
        raise ModelUnavailable(PIPELINE, "no inpainting model configured (NEXUS_INPAINT_MODEL)")
    looks_local = model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1
    if looks_local and not Path(model_id).expanduser().is_dir():
        raise ModelUnavailable(PIPELINE, f"inpainting model directory {model_id} does not exist")
    return model_id


def _load(ctx: InferenceContext, model_id: str) -> Loaded[DiffusionPipeline]:
    try:
        import diffusers
        import transformers
        from diffusers import AutoPipelineForInpainting
    except ImportError as exc:
        raise ModelUnavailable(PIPELINE, f"diffusers is not installed ({exc})") from exc

    # A worker logs; it does not draw progress bars on stderr.
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    device = ctx.device
    local = Path(model_id).expanduser()
    kwargs: dict[str, Any] = {"dtype": device.torch_dtype()}
    if not local.is_dir() and not ctx.config.allow_download:
        kwargs["local_files_only"] = True
    source = str(local) if local.is_dir() else model_id
    pipe = AutoPipelineForInpainting.from_pretrained(source, **kwargs)  # type: ignore[no-untyped-call]
    pipe.set_progress_bar_config(disable=True)
    if device.device != "cpu":  # from_pretrained leaves the weights in host memory
        pipe.to(device.device)
    return Loaded(
        model=pipe,
        nbytes=module_nbytes(pipe.components.values()),
        device=device.device,
        backend="diffusers",
        model_id=model_id,
        offload=lambda: pipe.to("cpu"),
        restore=lambda: pipe.to(device.device),
        extra={"class": type(pipe).__name__, "dtype": device.dtype},
    )


def _diffuse(
    pipe: DiffusionPipeline,
    rgb: Image.Image,
    region: Image.Image,
    *,
    prompt: str,
    negative_prompt: str | None,
    seed: int,
    steps: int,
    guidance: float,
    strength: float,
    max_side: int,
    progress: ProgressCallback | None,
) -> tuple[Image.Image, dict[str, Any]]:
    import torch

    multiple = max(8, int(getattr(pipe, "vae_scale_factor", 8)))
    scale = min(1.0, max_side / max(rgb.size))
    width = max(multiple, round(rgb.width * scale / multiple) * multiple)
    height = max(multiple, round(rgb.height * scale / multiple) * multiple)
    work_image = rgb.resize((width, height), Image.Resampling.LANCZOS)
    work_mask = region.resize((width, height), Image.Resampling.NEAREST)

    def on_step_end(
        p: DiffusionPipeline, step: int, timestep: Any, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        total = max(1, int(getattr(p, "num_timesteps", steps) or steps))
        report(progress, 5 + 90 * (step + 1) / total)  # may raise Cancelled
        return tensors

    # A CPU generator gives the same noise for a seed on every device.
    generator = torch.Generator("cpu").manual_seed(seed)
    output = pipe(  # type: ignore[operator]
        prompt=prompt,
        negative_prompt=negative_prompt or None,
        image=work_image,
        mask_image=work_mask,
        height=height,
        width=width,
        num_inference_steps=steps,
        guidance_scale=guidance,
        strength=strength,
        generator=generator,
        callback_on_step_end=on_step_end,
        output_type="pil",
    )
    generated: Image.Image = output.images[0]
    if generated.size != rgb.size:
        generated = generated.resize(rgb.size, Image.Resampling.LANCZOS)
    details = {
        "steps": steps,
        "guidance": guidance,
        "strength": strength,
        "seed": seed,
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "resolution": [width, height],
        "pipeline_class": type(pipe).__name__,
    }
    return generated.convert("RGB"), details


def _telea(rgb: Image.Image, region: Image.Image) -> Image.Image:
    import cv2

    hole = (np.asarray(region) >= 128).astype(np.uint8) * 255
    filled = cv2.inpaint(as_array(rgb), hole, TELEA_RADIUS, cv2.INPAINT_TELEA)
    return Image.fromarray(filled)
