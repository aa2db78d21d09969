"""Running one job: input images in, the new layer's PNG out.

A job function is a function of the worker's ``InferenceContext`` (arq's ``ctx``) and typed
arguments; it calls one of the pipelines and shapes its output into the layer that the
server adds: the filled pixels only (alpha = the mask) for a generative fill, a cut-out or a
mask for a segmentation, the cut-out for a background removal. Everything here is
synchronous and runs off the event loop (a thread of the worker, or the embedded worker
process); ``progress`` is called at every step and stops the job by raising ``Cancelled``.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from inference.context import InferenceContext
from inference.exceptions import Cancelled, InvalidInput
from inference.jobs.model import Job, JobKind
from inference.pipelines import inpaint, remove_background, segment
from inference.results import PipelineResult, ProgressCallback

PNG_COMPRESS_LEVEL = 3


@dataclass(frozen=True)
class Output:
    """The new layer's image (PNG) and the provenance of the pipeline run."""

    png: bytes
    width: int
    height: int
    metadata: dict[str, Any]


class Control:
    """Progress and cancellation of one running job, shared between the worker loop (which
    reads the progress and asks to cancel) and the thread running the pipeline (which
    calls it as its progress callback)."""

    def __init__(self) -> None:
        self.progress = 0.0
        self.lost = False  # the worker lost the job's lease: stop and report nothing
        self._cancel = threading.Event()
        self._clock: Callable[[bool], None] | None = None

    def on_clock(self, callback: Callable[[bool], None]) -> None:
        """``callback(False)`` when the executor starts setting up (the job's time limit
        pauses), ``callback(True)`` when it starts the pipeline (the limit counts from
        there); called on the event loop."""
        self._clock = callback

    def setting_up(self) -> None:
        """The executor prepares first (a fresh child process imports its libraries): that
        time is not the job's."""
        if self._clock is not None:
            self._clock(False)

    def began(self) -> None:
        """The executor starts the pipeline now: the job's time limit counts from here."""
        if self._clock is not None:
            self._clock(True)

    def cancel(self, *, lost: bool = False) -> None:
        self.lost = self.lost or lost
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def __call__(self, percent: float) -> None:
        self.progress = max(self.progress, min(100.0, percent))
        if self._cancel.is_set():
            raise Cancelled("the job was cancelled")


def execute(
    ctx: InferenceContext, job: Job, inputs: Mapping[str, bytes], progress: ProgressCallback
) -> Output:
    """Run ``job`` on its input blobs (``inputs``: bytes by sha256)."""
    image = _decode(inputs[job.input_blob], "input")
    mask = _decode(inputs[job.mask_blob], "mask").convert("L") if job.mask_blob else None
    layer, result = JOBS[job.kind](ctx, image, mask, job.params, progress)
    buffer = io.BytesIO()
    layer.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return Output(buffer.getvalue(), layer.width, layer.height, result.metadata())


# -- the job functions -------------------------------------------------------------------------

JobFunction = Callable[
    [InferenceContext, Image.Image, Image.Image | None, dict[str, Any], ProgressCallback],
    tuple[Image.Image, PipelineResult],
]


def generative_fill(
    ctx: InferenceContext,
    image: Image.Image,
    mask: Image.Image | None,
    params: dict[str, Any],
    progress: ProgressCallback,
) -> tuple[Image.Image, PipelineResult]:
    """Inpaint the masked region; the layer holds the filled pixels only (alpha = mask)."""
    if mask is None:
        raise InvalidInput("a generative fill needs a mask")
    result = inpaint(
        ctx,
        image=image,
        mask=mask,
        prompt=params.get("prompt") or "",
        negative_prompt=params.get("negative_prompt"),
        seed=params.get("seed"),
        steps=int(params.get("steps", 30)),
        guidance=float(params.get("guidance", 7.5)),
        strength=float(params.get("strength", 0.99)),
        progress=progress,
    )
    layer = result.image.convert("RGBA")
    layer.putalpha(mask)
    return layer, result


def segment_object(
    ctx: InferenceContext,
    image: Image.Image,
    mask: Image.Image | None,
    params: dict[str, Any],
    progress: ProgressCallback,
) -> tuple[Image.Image, PipelineResult]:
    """The object the prompts point at: cut out of the image, or as a white mask."""
    box = params.get("box")
    result = segment(
        ctx,
        image=image,
        points=[(float(x), float(y)) for x, y in params.get("points") or []] or None,
        point_labels=params.get("point_labels") or None,
        box=(box[0], box[1], box[2], box[3]) if box else None,
        progress=progress,
    )
    matte = result.image.convert("L")
    if params.get("output") == "mask":
        layer = Image.new("RGBA", matte.size, (255, 255, 255, 0))
        layer.putalpha(matte)
        return layer, result
    layer = image.convert("RGBA")
    alpha = np.minimum(np.asarray(layer.getchannel("A")), np.asarray(matte))
    layer.putalpha(Image.fromarray(alpha))
    return layer, result


def remove_image_background(
    ctx: InferenceContext,
    image: Image.Image,
    mask: Image.Image | None,
    params: dict[str, Any],
    progress: ProgressCallback,
) -> tuple[Image.Image, PipelineResult]:
    """The image with its background made transparent."""
    result = remove_background(ctx, image=image, progress=progress)
    return result.image.convert("RGBA"), result


JOBS: dict[JobKind, JobFunction] = {
    JobKind.GENERATIVE_FILL: generative_fill,
    JobKind.SEGMENT: segment_object,
    JobKind.REMOVE_BACKGROUND: remove_image_background,
}


def _decode(data: bytes, what: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # Pillow raises many kinds for a broken image
        raise InvalidInput(f"the {what} image cannot be decoded: {exc}") from exc
    return image
