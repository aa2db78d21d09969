"""What an AI job is: its states, its record, and the checks a request passes before it is
queued (so that a bad request is refused with a message and nothing is queued).

A job moves ``queued → running → done | failed | cancelled``; a running job whose worker is
lost goes back to ``queued`` (a new attempt) until ``max_attempts`` is spent. The record is
plain data (``to_dict`` / ``from_dict``), the same in every queue and on the wire.
"""

from __future__ import annotations

import base64
import binascii
import math
import random
import re
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class JobKind(StrEnum):
    GENERATIVE_FILL = "generative_fill"
    SEGMENT = "segment"
    REMOVE_BACKGROUND = "remove_background"


class JobInvalid(ValueError):
    """A job request is unusable; the message names the field and the value."""


@dataclass(frozen=True)
class Area:
    """A rectangle of canvas pixels."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Job:
    """One AI job: what was asked (kind, document, user, parameters, input blobs) and how
    it is going. ``params`` are the pipeline's JSON parameters; ``input_blob`` is the
    rendered working area (the composite, one layer or a few, cropped to the region), and
    the result lands as a layer at (``x``, ``y``). Point and box prompts in ``params`` are
    in the coordinates of that working area, as the pipeline sees them;
    :attr:`canvas_params` gives them in canvas pixels, as they were asked for."""

    id: str
    kind: JobKind
    doc_id: str
    user_id: str
    user_name: str
    input_blob: str
    params: dict[str, Any] = field(default_factory=dict)
    mask_blob: str | None = None
    x: int = 0
    y: int = 0
    input_bytes: int = 0
    state: JobState = JobState.QUEUED
    progress: float = 0.0
    attempts: int = 0  # starts so far; the current attempt's number while running
    cancel_requested: bool = False
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = None  # blob, model, backend, fallback, ... when done

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    @property
    def layer_id(self) -> str:
        """The id of the layer this job adds: derived from the job, so that a retried job
        finds the layer an earlier attempt added and never adds it twice."""
        return f"ai-{self.id}"

    @property
    def canvas_params(self) -> dict[str, Any]:
        """``params`` with the point and box prompts in canvas pixels (the working area
        starts at (``x``, ``y``) of the canvas)."""
        return shift_prompts(self.params, self.x, self.y)

    @property
    def blobs(self) -> list[str]:
        return [self.input_blob] + ([self.mask_blob] if self.mask_blob else [])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["state"] = str(self.state)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**{**data, "kind": JobKind(data["kind"]), "state": JobState(data["state"])})

    def with_(self, **changes: Any) -> Job:
        return replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """The job as the REST API shows it."""
        return {
            "id": self.id,
            "kind": str(self.kind),
            "doc_id": self.doc_id,
            "user": self.user_id,
            "state": str(self.state),
            "progress": round(self.progress, 1),
            "attempts": self.attempts,
            "cancel_requested": self.cancel_requested,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "params": self.canvas_params,
            "layer_id": self.layer_id if self.state is JobState.DONE else None,
            "result": self.result,
        }


@dataclass(frozen=True)
class Report:
    """What a worker tells the server about attempt ``attempt`` of a job: it is running
    (with its progress), or it ended (done with ``result``, failed or cancelled with
    ``error``). The server shows it to collaborators, applies a result and logs the task."""

    job_id: str
    attempt: int
    state: JobState
    progress: float = 0.0
    result: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": str(self.state)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Raises JobInvalid for a malformed report."""
        try:
            report = cls(
                job_id=str(data["job_id"]),
                attempt=int(data["attempt"]),
                state=JobState(data["state"]),
                progress=float(data.get("progress") or 0.0),
                result=data.get("result"),
                error=data.get("error"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise JobInvalid(f"malformed job report: {exc!r}") from None
        if report.state is JobState.QUEUED or not (0 <= report.progress <= 100):
            raise JobInvalid(f"a report says running or a final state, got {data!r:.120}")
        if report.result is not None and not isinstance(report.result, dict):
            raise JobInvalid("a report's result must be an object")
        return report


# -- request checks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobLimits:
    max_prompt_chars: int = 1000
    max_steps: int = 100
    max_points: int = 64


@dataclass(frozen=True)
class JobRequest:
    """A checked request: pipeline ``params`` (prompts in canvas pixels) plus what the server
    resolves before queueing (the input: one layer, a few layers, or by default the composite
    of the visible layers that are not masks; the region; the mask)."""

    kind: JobKind
    params: dict[str, Any]
    layer_id: str | None = None
    layers: tuple[str, ...] | None = None
    region: Area | None = None
    mask: str | None = None  # sha256 of a stored blob ...
    mask_png: bytes | None = None  # ... or the image itself


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_OUTPUTS = ("cutout", "mask")
_COMMON = ("layer_id", "layers", "region", "name", "stage")
_FIELDS: dict[JobKind, tuple[str, ...]] = {
    JobKind.GENERATIVE_FILL: (
        *_COMMON, "prompt", "negative_prompt", "mask", "mask_png", "steps", "guidance",
        "strength", "seed",
    ),
    JobKind.SEGMENT: (*_COMMON, "points", "point_labels", "box", "output"),
    JobKind.REMOVE_BACKGROUND: _COMMON,
}  # fmt: skip
MAX_INPUT_LAYERS = 100
MIN_BOX_SIDE = 2  # pixels: the pipelines need a box of at least 2x2


def parse_request(kind: JobKind, body: dict[str, Any], limits: JobLimits) -> JobRequest:
    """Check a request body of ``kind``; raises JobInvalid naming the bad field."""
    unknown = sorted(set(body) - set(_FIELDS[kind]))
    if unknown:
        raise JobInvalid(
            f"unknown field(s) {', '.join(map(repr, unknown))} for {kind}; expected some of "
            + ", ".join(_FIELDS[kind])
        )
    layer_id = _optional_text(body, "layer_id", 128)
    layers = _layer_list(body.get("layers"))
    if layer_id is not None and layers is not None:
        raise JobInvalid(f"give layer_id ({layer_id!r}) or layers ({list(layers)!r:.80}), not both")
    stage = body.get("stage", False)
    if not isinstance(stage, bool):
        raise JobInvalid(f"stage must be true or false, got {stage!r:.40}")
    # stage: the result lands as a proposal for collaborators to accept or discard
    params: dict[str, Any] = {"name": _optional_text(body, "name", 200), "stage": stage}
    if layers is not None:  # kept with the job, so that a re-run reads the same layers
        params["layers"] = list(layers)
    region = parse_area(body["region"]) if body.get("region") is not None else None
    if region is not None:  # kept with the job, so that a re-run asks for the same area
        params["region"] = {"x": region.x, "y": region.y, "width": region.width,
                            "height": region.height}  # fmt: skip
    request = JobRequest(kind, params, layer_id=layer_id, layers=layers, region=region)
    if kind is JobKind.GENERATIVE_FILL:
        return _fill(body, limits, request)
    if kind is JobKind.SEGMENT:
        params.update(_prompts(body, limits))
        output = body.get("output", "cutout")
        if output not in _OUTPUTS:
            raise JobInvalid(f"output must be 'cutout' or 'mask', got {output!r}")
        params["output"] = output
    return request


def _layer_list(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and 1 <= len(value) <= MAX_INPUT_LAYERS):
        raise JobInvalid(
            f"layers must be a list of 1 to {MAX_INPUT_LAYERS} layer ids, got {value!r:.80}"
        )
    for item in value:
        if not (isinstance(item, str) and 0 < len(item) <= 128):
            raise JobInvalid(f"layers must hold layer ids (strings), got {item!r:.60}")
    if len(set(value)) != len(value):
        raise JobInvalid(f"layers names a layer twice: {value!r:.80}")
    return tuple(value)


def _fill(body: dict[str, Any], limits: JobLimits, request: JobRequest) -> JobRequest:
    params = request.params
    params["prompt"] = _optional_text(body, "prompt", limits.max_prompt_chars) or ""
    params["negative_prompt"] = _optional_text(body, "negative_prompt", limits.max_prompt_chars)
    params["steps"] = _integer(body, "steps", 30, 1, limits.max_steps)
    params["guidance"] = _number(body, "guidance", 7.5, 0.0, 30.0)
    params["strength"] = _number(body, "strength", 0.99, 0.01, 1.0)
    seed = body.get("seed")
    # Drawn now, so that every attempt of a retried job starts from the same noise.
    params["seed"] = (
        random.randrange(2**32) if seed is None else _integer(body, "seed", 0, 0, 2**32 - 1)
    )
    mask, mask_png = body.get("mask"), body.get("mask_png")
    if (mask is None) == (mask_png is None):
        raise JobInvalid("give the mask either as 'mask' (a blob's sha256) or as 'mask_png'")
    if mask is not None and not (isinstance(mask, str) and _SHA256.match(mask)):
        raise JobInvalid(f"mask must be a blob's sha256 (64 lowercase hex), got {mask!r:.80}")
    png: bytes | None = None
    if mask_png is not None:
        try:
            png = base64.b64decode(mask_png, validate=True) if isinstance(mask_png, str) else None
        except (binascii.Error, ValueError):
            png = None
        if not png:
            raise JobInvalid("mask_png must be a base64-encoded PNG image")
    return replace(request, mask=mask, mask_png=png)


def _prompts(body: dict[str, Any], limits: JobLimits) -> dict[str, Any]:
    """Points, labels and box in canvas pixels; where they lie is checked by
    :func:`check_placement` once the canvas is known."""
    points = body.get("points") or []
    if not isinstance(points, list) or len(points) > limits.max_points:
        raise JobInvalid(
            f"points must be a list of at most {limits.max_points} [x, y] pairs, got {points!r:.80}"
        )
    checked = [_pair(p, "points") for p in points]
    labels = body.get("point_labels")
    if labels is None:
        labels = [1] * len(checked)
    if not isinstance(labels, list):
        raise JobInvalid(f"point_labels must be a list of 0 or 1, got {labels!r:.60}")
    if len(labels) != len(checked):
        raise JobInvalid(
            f"point_labels: {_count(len(labels), 'label')} for {_count(len(checked), 'point')}"
            " (one label per point: 1 object, 0 not the object)"
        )
    if any(label not in (0, 1) or isinstance(label, bool) for label in labels):
        raise JobInvalid(f"point_labels must be 0 (not the object) or 1 (object), got {labels}")
    box = body.get("box")
    if box is not None:
        if not (isinstance(box, list) and len(box) == 4 and all(_finite(v) for v in box)):
            raise JobInvalid(f"box must be [x0, y0, x1, y1] in canvas pixels, got {box!r:.80}")
        box = [float(v) for v in box]
        check_box(box)
    if not checked and box is None:
        raise JobInvalid("segmentation needs points, a box or both; got neither")
    if checked and box is None and 1 not in labels:
        raise JobInvalid("points need at least one object point (label 1) when no box is given")
    return {"points": checked, "point_labels": labels, "box": box}


def check_box(box: list[float]) -> None:
    """Refuse an inverted box (right of its left edge, below its top) or one under 2x2."""
    x0, y0, x1, y1 = box
    if x1 < x0 or y1 < y0:
        flipped = [f"x1 ({x1:g}) < x0 ({x0:g})"] if x1 < x0 else []
        flipped += [f"y1 ({y1:g}) < y0 ({y0:g})"] if y1 < y0 else []
        raise JobInvalid(
            f"box {_shown(box)} is inverted: {' and '.join(flipped)}; give [left, top, right, "
            "bottom]"
        )
    if x1 - x0 < MIN_BOX_SIDE or y1 - y0 < MIN_BOX_SIDE:
        raise JobInvalid(
            f"box {_shown(box)} must cover at least {MIN_BOX_SIDE}x{MIN_BOX_SIDE} pixels, got "
            f"{x1 - x0:g}x{y1 - y0:g}"
        )


def parse_area(value: object) -> Area:
    if not isinstance(value, dict) or set(value) != {"x", "y", "width", "height"}:
        raise JobInvalid(f"region must be {{x, y, width, height}}, got {value!r:.80}")
    numbers = [value[k] for k in ("x", "y", "width", "height")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in numbers):
        raise JobInvalid(f"region values must be integers, got {value!r:.80}")
    area = Area(*numbers)
    if area.width < 8 or area.height < 8:
        raise JobInvalid(f"region must be at least 8x8 pixels, got {area.width}x{area.height}")
    return area


def check_placement(request: JobRequest, width: int, height: int) -> None:
    """Check that the region lies on a ``width`` x ``height`` canvas and the prompts (canvas
    pixels) inside the region, or the canvas without one."""
    area = request.region
    if area is not None and not (
        area.x >= 0 and area.y >= 0 and area.x + area.width <= width
        and area.y + area.height <= height
    ):  # fmt: skip
        raise JobInvalid(
            f"region ({area.x}, {area.y}, {area.width}x{area.height}) must lie inside the "
            f"{width}x{height} canvas"
        )
    if area is None:
        area, where = Area(0, 0, width, height), f"the {width}x{height} canvas"
    else:
        where = f"the region ({area.x}, {area.y}, {area.width}x{area.height})"
    right, bottom = area.x + area.width, area.y + area.height
    for x, y in request.params.get("points", []):
        if not (area.x <= x < right and area.y <= y < bottom):
            raise JobInvalid(f"point ({x:g}, {y:g}) must lie inside {where}")
    box = request.params.get("box")
    if box is not None:
        x0, y0, x1, y1 = box
        if not (area.x <= x0 and area.y <= y0 and x1 <= right and y1 <= bottom):
            raise JobInvalid(
                f"box {_shown(box)} must lie inside {where}: x from {area.x} to {right}, y "
                f"from {area.y} to {bottom}"
            )


def shift_prompts(params: dict[str, Any], dx: float, dy: float) -> dict[str, Any]:
    """``params`` with the points and the box moved by (``dx``, ``dy``): from canvas pixels
    to a working area's with the area's negated origin, and back with the origin."""
    if (dx, dy) == (0, 0) or not (params.get("points") or params.get("box")):
        return params
    shifted = dict(params)
    if params.get("points"):
        shifted["points"] = [[x + dx, y + dy] for x, y in params["points"]]
    if params.get("box"):
        x0, y0, x1, y1 = params["box"]
        shifted["box"] = [x0 + dx, y0 + dy, x1 + dx, y1 + dy]
    return shifted


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _shown(box: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"


def _optional_text(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise JobInvalid(f"{name} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise JobInvalid(f"{name} must be at most {limit} characters, got {len(value)}")
    return value


def _integer(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise JobInvalid(f"{name} must be an integer from {low} to {high}, got {value!r:.40}")
    return value


def _number(body: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name, default)
    if not _finite(value) or not low <= value <= high:
        raise JobInvalid(f"{name} must be a number from {low:g} to {high:g}, got {value!r:.40}")
    return float(value)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pair(value: object, name: str) -> list[float]:
    if not (isinstance(value, list) and len(value) == 2 and all(_finite(v) for v in value)):
        raise JobInvalid(f"each of {name} must be [x, y] in canvas pixels, got {value!r:.60}")
    return [float(value[0]), float(value[1])]
