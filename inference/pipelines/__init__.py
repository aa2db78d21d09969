"""One self-contained file per pipeline, all with the same shape.

Each is a function of the worker's ``InferenceContext`` and keyword arguments with shared
names (``image``, ``mask``, ``prompt``, ``negative_prompt``, ``seed``, ``steps``,
``guidance``, ``points``, ``point_labels``, ``box``, ``progress``) that returns a
``PipelineResult``. Heavy libraries are imported inside the functions that use them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inference.context import InferenceContext
from inference.exceptions import InvalidInput
from inference.pipelines.inpaint import inpaint
from inference.pipelines.remove_bg import remove_background
from inference.pipelines.segment import segment
from inference.results import PipelineResult

# Job kind -> pipeline function, for the job runner.
PIPELINES: dict[str, Callable[..., PipelineResult]] = {
    "inpaint": inpaint,
    "segment": segment,
    "remove_bg": remove_background,
}


def run_pipeline(ctx: InferenceContext, kind: str, **arguments: Any) -> PipelineResult:
    """Run the pipeline named ``kind`` ("inpaint", "segment", "remove_bg")."""
    try:
        function = PIPELINES[kind]
    except KeyError:
        choices = ", ".join(PIPELINES)
        raise InvalidInput(f"job kind must be one of {choices}, got {kind!r}") from None
    return function(ctx, **arguments)


__all__ = ["PIPELINES", "inpaint", "remove_background", "run_pipeline", "segment"]
