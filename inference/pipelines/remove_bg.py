"""Background removal: rembg (ONNX models via onnxruntime), with GrabCut as fallback.

The default model is U²-Net-p (``u2netp``), which `make install` places in the default rembg
home inside the environment (inference/model_files.py). rembg finds models only under its home
folder (``REMBG_HOME``; ``U2NET_HOME`` wins when set) and reads that folder from the process
environment, so the home in use is written to both variables before a session is created. A
named model (``u2net``, ``isnet-general-use``, ...) must already lie in that folder: rembg
would otherwise download it, which this pipeline never lets it do. A file the project knows by
checksum (u2netp) is verified first: on a mismatch rembg's downloader would try to fetch it
again. A custom model is ``u2net_custom`` with ``rembg_model_path`` pointing at an .onnx under
the home folder whose output is (1, 1, H, W).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inference.config import REMBG_OFF_REASON
from inference.context import InferenceContext
from inference.exceptions import ModelUnavailable
from inference.model_files import KNOWN, problem
from inference.pipelines._common import as_array, merge_alpha, split_image
from inference.pipelines._grabcut import grabcut
from inference.registry import Loaded
from inference.results import Origin, PipelineResult, ProgressCallback, report

log = logging.getLogger(__name__)

PIPELINE = "remove_bg"
FALLBACK_MODEL_ID = "opencv-grabcut"
BORDER_FRACTION = 0.04  # the fallback treats this frame of the image as background

_env_lock = threading.Lock()


def remove_background(
    ctx: InferenceContext,
    *,
    image: Image.Image,
    progress: ProgressCallback | None = None,
) -> PipelineResult:
    """RGBA cut-out of ``image``'s foreground (alpha 0 = background), at the image's size.

    An input alpha channel is kept: the output alpha is the smaller of the two.
    """
    rgb, alpha = split_image(image)
    started = time.perf_counter()
    report(progress, 0)
    try:
        name, model_path = _model(ctx)
        key = f"{PIPELINE}:{name}:{model_path}"
        with ctx.model(PIPELINE, key, lambda: _load(ctx, name, model_path)) as loaded, loaded.lock:
            report(progress, 10)
            matte = _run(loaded.model, rgb)
        origin = Origin(loaded.model_id, "rembg", loaded.device, "float32")
        details: dict[str, Any] = {"session": name}
    except ModelUnavailable as exc:
        log.info("remove_bg fallback: %s", exc.reason)
        border = max(1, round(BORDER_FRACTION * min(rgb.size)))
        frame = (border, border, rgb.width - border, rgb.height - border)
        prob = grabcut(
            as_array(rgb),
            box=frame,
            max_side=ctx.config.fallback_max_side,
            iterations=ctx.config.grabcut_iterations,
            progress=progress,
            progress_span=(5, 95),
        )
        matte = Image.fromarray((prob * 255).round().astype(np.uint8))
        origin = Origin.fallback(FALLBACK_MODEL_ID, "grabcut", exc.reason)
        details = {"border": border, "iterations": ctx.config.grabcut_iterations}
    out = merge_alpha(rgb, alpha, matte)
    report(progress, 100)
    return PipelineResult.finish(
        out, pipeline=PIPELINE, origin=origin, started=started, details=details
    )


def _model(ctx: InferenceContext) -> tuple[str, Path | None]:
    config = ctx.config
    name = config.rembg_session_name
    if name is None:
        raise ModelUnavailable(PIPELINE, REMBG_OFF_REASON)
    home = config.rembg_folder.expanduser().resolve()
    if config.rembg_model_path is not None:
        path = config.rembg_model_path.expanduser().resolve()
        if not path.is_file():
            raise ModelUnavailable(PIPELINE, f"rembg model {path} does not exist")
        if home not in path.parents:
            raise ModelUnavailable(
                PIPELINE, f"rembg model {path} must lie under the rembg home {home}"
            )
        return name, path
    known = KNOWN.get(name)
    if known is not None:
        # rembg reads <home>/models/<name>/<name>.onnx first, else the flat <home>/<name>.onnx.
        path = known.path_in(home)
        flat = home / known.filename
        checked = path if path.exists() or not flat.exists() else flat
        reason = problem(checked, known)
        if reason is not None:
            raise ModelUnavailable(PIPELINE, f"rembg model {name!r}: {reason}")
        return name, None
    candidates = (home / "models" / name / f"{name}.onnx", home / f"{name}.onnx")
    if not any(c.is_file() for c in candidates):
        raise ModelUnavailable(
            PIPELINE, f"rembg model {name!r} is not in {home} (looked for {candidates[0]})"
        )
    return name, None


def _load(ctx: InferenceContext, name: str, model_path: Path | None) -> Loaded[Any]:
    try:
        import onnxruntime as ort  # type: ignore[import-untyped]
        import rembg  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ModelUnavailable(PIPELINE, f"rembg is not installed ({exc})") from exc

    providers: list[Any] = ["CPUExecutionProvider"]
    if ctx.device.is_cuda and "CUDAExecutionProvider" in ort.get_available_providers():
        index = ctx.device.torch_device().index or 0
        providers = [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
    kwargs: dict[str, Any] = {"providers": providers}
    if model_path is not None:
        kwargs["model_path"] = str(model_path)
    home = ctx.config.rembg_folder.expanduser()
    with _env_lock:
        # rembg takes its model folder from the environment only.
        os.environ["REMBG_HOME"] = os.environ["U2NET_HOME"] = str(home)
        session = rembg.new_session(name, **kwargs)
    active = session.inner_session.get_providers()
    on_gpu = bool(active) and active[0] == "CUDAExecutionProvider"
    device = ctx.device.device if on_gpu else "cpu"
    # ONNX weights load into memory about as large as the file.
    files = [model_path] if model_path else list(home.glob(f"**/{name}.onnx"))[:1]
    nbytes = 0
    for file in files:
        nbytes += file.stat().st_size
    return Loaded(
        model=session,
        nbytes=nbytes,
        device=device,
        backend="rembg",
        model_id=str(model_path) if model_path else name,
        extra={"providers": list(active)},
    )


def _run(session: Any, rgb: Image.Image) -> Image.Image:
    import rembg

    mask = rembg.remove(rgb, session=session, only_mask=True)
    if not isinstance(mask, Image.Image):
        raise TypeError(f"rembg returned {type(mask).__name__}, expected a PIL image")
    mask = mask.convert("L")
    if mask.size != rgb.size:
        mask = mask.resize(rgb.size, Image.Resampling.LANCZOS)
    return mask
