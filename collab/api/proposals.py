"""Staged AI proposals: accept, discard or re-run a layer that carries a ``proposal``.

A job submitted with ``stage: true`` lands its result as a proposal layer (collab/ai/host.py):
every collaborator sees it, exports leave it out. Any editor then decides:

- **accept**: the ``proposal`` key is removed, so the layer is an ordinary one from now on;
  one undo step of the acceptor's (their undo makes it a proposal again, nobody else's
  does), named in the history ("accept proposal 'Fill (OpenCV inpainting, prompt not used)'").
- **discard**: the layer is removed, as one undo step of the discarder's.
- **re-run**: the job that made the layer (any AI layer, proposal or not) is submitted again
  from the layer's provenance (kind, mask, region, input layer, prompts, parameters) with a
  new seed, on behalf of the caller; its result lands as a new proposal just above the old
  layer.

Each change is made with ``room.edit`` as the caller, so it is broadcast, logged and
recorded like an edit the caller made over the WebSocket.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from canvasdoc.canvas import Canvas, Layer, LayerNotFound, NotAProposal
from collab.api._common import (
    edit_as_caller,
    existing_doc_id,
    json_body,
    layer_id_of,
    principal_of,
    room_for,
    undo_answer,
)
from collab.api.ai_jobs import submit_job
from collab.api.docs import layer_json
from collab.api.errors import ApiError
from collab.auth.identity import Principal
from collab.session.room import Room
from inference.jobs.model import JobKind

# What a re-run takes from the provenance, per kind: request field <- provenance key.
_RERUN_FIELDS: dict[JobKind, dict[str, str]] = {
    JobKind.GENERATIVE_FILL: {
        "mask": "mask", "region": "region", "layer_id": "input_layer", "prompt": "prompt",
        "negative_prompt": "negative_prompt", "steps": "steps", "guidance": "guidance",
        "strength": "strength", "layers": "layers",
    },
    JobKind.SEGMENT: {
        "points": "points", "point_labels": "point_labels", "box": "box", "output": "output",
        "layer_id": "input_layer", "region": "region", "layers": "layers",
    },
    JobKind.REMOVE_BACKGROUND: {"layer_id": "input_layer", "region": "region", "layers": "layers"},
}  # fmt: skip
_MAX_SEED = 2**32


def _edit(room: Room, principal: Principal, doc_id: str, change: Callable[[Canvas], None]) -> None:
    """``change`` as one undo step of the caller's; 404 / 409 as the layer says."""
    try:
        edit_as_caller(room, principal, doc_id, change)
    except NotAProposal as exc:
        raise ApiError(409, "not_a_proposal", str(exc)) from None


async def accept(request: Request) -> JSONResponse:
    """Accept a proposal.
    ---
    summary: Accept a staged proposal (any editor); it becomes an ordinary layer
    description: >
      Removes the layer's `proposal`, so exports and thumbnails draw it from now on. One
      undo step of the caller's (their undo makes it a proposal again; nobody else's undo
      does), named in the history ("accept proposal '<name>'").
    tags: [ai, layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: layer_id, in: path, required: true, schema: {type: string}}
    responses:
      200: {description: "{layer (as GET /api/docs/{doc_id} lists it), can_undo, can_redo, user}"}
      403: {description: the caller may not edit the document (a viewer)}
      404: {description: unknown document or layer}
      409: {description: "not_a_proposal: the layer is an ordinary one (accepted already?)"}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    layer_id = layer_id_of(request)
    async with room_for(request, doc_id) as room:
        _edit(room, principal, doc_id, lambda canvas: canvas.accept_proposal(layer_id))
        layer = Canvas(room.doc).get_layer(layer_id)
        return undo_answer(room, principal, {"layer": layer_json(layer)})


async def discard(request: Request) -> JSONResponse:
    """Discard a proposal.
    ---
    summary: Discard a staged proposal (any editor); the layer is removed
    description: >
      One undo step of the caller's (their undo brings the proposal back). An ordinary
      layer is never removed this way (409).
    tags: [ai, layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: layer_id, in: path, required: true, schema: {type: string}}
    responses:
      200: {description: "{id, name (of the removed layer), can_undo, can_redo, user}"}
      403: {description: the caller may not edit the document (a viewer)}
      404: {description: unknown document or layer}
      409: {description: "not_a_proposal: the layer is an ordinary one"}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    layer_id = layer_id_of(request)
    async with room_for(request, doc_id) as room:
        removed: list[Layer] = []

        def change(canvas: Canvas) -> None:
            removed.append(canvas.get_layer(layer_id))
            canvas.discard_proposal(layer_id)

        _edit(room, principal, doc_id, change)
        return undo_answer(room, principal, {"id": layer_id, "name": removed[0].name})


async def rerun(request: Request) -> Response:
    """Re-run the job that made an AI layer.
    ---
    summary: Re-run an AI layer's job with a new seed; the result lands as a new proposal
    description: >
      The job is submitted again on behalf of the caller from the layer's provenance: the
      same kind, mask, region, input layer, prompts and parameters, with a new seed (or the
      body's `seed`). The input is rendered from the document as it is now (proposals left
      out). The result lands as a proposal just above the layer; its provenance names the
      job it re-ran (`rerun_of`). Errors of the recorded request (an input layer removed
      since) are answered as a submission's, prefixed with the layer.
    tags: [ai, layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: layer_id, in: path, required: true, schema: {type: string}}
    requestBody:
      required: false
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            properties:
              seed: {type: integer, minimum: 0, maximum: 4294967295}
    responses:
      202:
        description: "The new job, queued: {id, kind, state, ...}; Location: /api/jobs/{id}"
      403: {description: the caller may not edit the document (a viewer)}
      404: {description: unknown document or layer}
      409:
        description: >
          not_rerunnable: the layer was not made by an AI job, or its provenance lacks what
          a re-run needs (the mask of a fill)
      422: {description: "a bad seed or field, or the recorded request no longer fits"}
      429: {description: "too_many_jobs: the caller's submissions per minute are spent"}
      503: {description: "jobs_busy: the queue is full (Retry-After header, retry_after field)"}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    layer_id = layer_id_of(request)
    given = await json_body(request)
    unknown = sorted(set(given) - {"seed"})
    if unknown:
        raise ApiError(
            422, "invalid", f"unknown field(s) {', '.join(map(repr, unknown))}; expected seed"
        )
    async with room_for(request, doc_id) as room:
        try:
            layer = Canvas(room.doc).get_layer(layer_id)
        except LayerNotFound as exc:
            raise ApiError(404, "not_found", f"{exc} in document {doc_id!r}") from None
    kind, body = _rerun_request(layer)
    if "seed" in given:
        body["seed"] = given["seed"]
    provenance = layer.provenance or {}
    extra = {"beside": layer.id, "rerun_of": provenance.get("job_id")}
    context = f"re-run of layer {layer.id!r}: "
    return await submit_job(request, principal, doc_id, kind, body, extra=extra, context=context)


def _rerun_request(layer: Layer) -> tuple[JobKind, dict[str, Any]]:
    """The job kind and the request body that re-run the job which made ``layer``."""
    provenance = layer.provenance or {}
    try:
        kind = JobKind(str(provenance.get("kind")))
    except ValueError:
        raise ApiError(
            409,
            "not_rerunnable",
            f"layer {layer.id!r} ({layer.name!r}) was not made by an AI job: its provenance "
            f"names no job kind (one of {', '.join(JobKind)})",
        ) from None
    if kind is JobKind.GENERATIVE_FILL and not isinstance(provenance.get("mask"), str):
        raise ApiError(
            409,
            "not_rerunnable",
            f"layer {layer.id!r} ({layer.name!r}) cannot be re-run: its provenance records no "
            "mask (it was made before re-runs were recorded, or by another client)",
        )
    body: dict[str, Any] = {
        field: _whole(provenance[key])
        for field, key in _RERUN_FIELDS[kind].items()
        if provenance.get(key) is not None
    }
    # The name the user gave (recorded only when given): the layer's own name may carry a
    # note about the model that ran last time, which the re-run may not repeat.
    if provenance.get("name"):
        body["name"] = str(provenance["name"])[:200]
    body["stage"] = True
    if kind is JobKind.GENERATIVE_FILL:
        old = provenance.get("seed")
        seed = random.randrange(_MAX_SEED)
        while seed == old:
            seed = random.randrange(_MAX_SEED)
        body["seed"] = seed
    return kind, body


def _whole(value: Any) -> Any:
    """Integral floats as ints, throughout: Yjs stores every number as a double, and the
    request checks want integers for steps, seeds, regions and labels."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole(item) for key, item in value.items()}
    return value


routes = [
    Route("/api/docs/{doc_id}/layers/{layer_id}/accept", accept, methods=["POST"]),
    Route("/api/docs/{doc_id}/layers/{layer_id}/discard", discard, methods=["POST"]),
    Route("/api/docs/{doc_id}/layers/{layer_id}/rerun", rerun, methods=["POST"]),
]
