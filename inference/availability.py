"""Which AI models can be loaded, checked without loading any: for /health.

A model counts as loadable when its library is installed (found by the import system, not
imported: rembg's first import alone takes seconds) and its file is there, and matches its
checksum when the project knows the file (u2netp). Everything else is reported with the
fallback its pipeline runs and why, in the words a job result would use. Checksums are cached
by the file's size and modification time (inference/model_files.py), so a replaced or
truncated file shows up at the next call while an unchanged one is not hashed again.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.config import REMBG_OFF_REASON, AIConfig
from inference.model_files import KNOWN, problem

FALLBACKS = {"inpaint": "opencv-telea", "segment": "grabcut", "remove_bg": "grabcut"}
LIBRARIES = {
    "inpaint": ("torch", "diffusers", "transformers"),
    "segment": ("torch", "sam2"),
    "remove_bg": ("rembg", "onnxruntime"),
}


@dataclass(frozen=True)
class PipelineModel:
    """One pipeline's model as /health reports it."""

    pipeline: str
    model: str | None  # the configured model (None: none configured)
    path: str | None  # its file or folder, when it has one on disk
    verified: bool  # the file's checksum was checked and matches
    reason: str | None  # why the pipeline runs its fallback (None: the model is loadable)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": "fallback" if self.reason else "real",
            "model": self.model,
            "path": self.path,
            "verified": self.verified,
            "fallback": FALLBACKS[self.pipeline] if self.reason else None,
            "fallback_reason": self.reason,
        }


def pipeline_models(config: AIConfig) -> list[PipelineModel]:
    """Every pipeline's model and whether it can be loaded."""
    return [_inpaint(config), _segment(config), _remove_bg(config)]


def report(config: AIConfig) -> dict[str, Any]:
    """``{"models": [loadable models], "pipelines": {name: mode, model, fallback, reason}}``."""
    entries = pipeline_models(config)
    return {
        "models": [
            {"pipeline": e.pipeline, "model": e.model, "path": e.path, "verified": e.verified}
            for e in entries
            if e.reason is None
        ],
        "pipelines": {e.pipeline: e.as_dict() for e in entries},
    }


@functools.cache
def installed(module: str) -> bool:
    """Whether ``module`` can be found by the import system (cached: installs do not change
    under a running process in any way that matters here)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_libraries(pipeline: str) -> str | None:
    """ "<libraries> not installed" when a library the pipeline needs is absent, else None."""
    absent = [name for name in LIBRARIES[pipeline] if not installed(name)]
    if not absent:
        return None
    return f"{', '.join(absent)} not installed"


def _inpaint(config: AIConfig) -> PipelineModel:
    model = config.inpaint_model_id
    if model is None:
        return PipelineModel(
            "inpaint", None, None, False, "no inpainting model configured (NEXUS_INPAINT_MODEL)"
        )
    folder = Path(model).expanduser()
    local = folder.is_absolute() or model.startswith(".") or folder.exists()
    reason = missing_libraries("inpaint")
    if reason is None and local and not (folder / "model_index.json").is_file():
        reason = f"inpainting model folder {folder} has no model_index.json"
    # A hub id is looked up in the local Hugging Face cache only when the first job loads it.
    return PipelineModel("inpaint", model, str(folder) if local else None, False, reason)


def _segment(config: AIConfig) -> PipelineModel:
    checkpoint = config.sam2_checkpoint
    if checkpoint is None:
        return PipelineModel(
            "segment", None, None, False, "no SAM2 checkpoint configured (NEXUS_SAM2_CHECKPOINT)"
        )
    reason = missing_libraries("segment")
    if reason is None and not checkpoint.expanduser().is_file():
        reason = f"SAM2 checkpoint {checkpoint} does not exist"
    return PipelineModel("segment", str(checkpoint), str(checkpoint), False, reason)


def _remove_bg(config: AIConfig) -> PipelineModel:
    name = config.rembg_session_name
    if name is None:
        return PipelineModel("remove_bg", None, None, False, REMBG_OFF_REASON)
    home = config.rembg_folder.expanduser()
    reason = missing_libraries("remove_bg")
    if config.rembg_model_path is not None:
        path = config.rembg_model_path.expanduser()
        if reason is None and not path.is_file():
            reason = f"rembg model {path} does not exist"
        return PipelineModel("remove_bg", str(path), str(path), False, reason)
    known = KNOWN.get(name)
    if known is not None:
        path = known.path_in(home)
        flat = home / known.filename
        if not path.exists() and flat.exists():
            path = flat
        checked = problem(path, known)
        return PipelineModel("remove_bg", name, str(path), checked is None, reason or checked)
    path = home / "models" / name / f"{name}.onnx"
    if not path.is_file() and (home / f"{name}.onnx").is_file():
        path = home / f"{name}.onnx"
    if reason is None and not path.is_file():
        reason = f"rembg model {name!r} is not in {home} (looked for {path})"
    return PipelineModel("remove_bg", name, str(path), False, reason)
