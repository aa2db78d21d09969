"""AI jobs over REST: submit a generative fill, a segmentation or a background removal; read
and cancel a job; and the route through which standalone workers report.

Submitting checks everything before anything is queued (fields, the layers, the region, the
prompts, the mask's size and content), then renders the job's input with the compositor in
the render pool and stores it as a blob: the job works on what the document showed when it
was submitted, and every attempt of it sees the same pixels.

The input is one of (``source``): ``composite`` (the default: the visible layers that are
neither proposals nor masks an earlier segmentation added, with the canvas background),
``layer`` (``layer_id``: that layer's own pixels) or ``layers`` (a list of layer ids: those
layers alone, blended as the document blends them, on transparency). The job's params list
the layers read (``input_layers``: id and name), and so do its answer and its board entry.
Everything is cropped to ``region`` when one is given; point and box prompts are canvas
pixels, stored in the region's pixels for the pipeline (``Job.canvas_params`` shows them as
they were asked).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from typing import Any

import anyio
import numpy as np
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from canvasdoc.canvas import Layer
from collab.api._common import existing_doc_id, json_body, principal_of, room_for, server_of
from collab.api._rendering import render_pool_of
from collab.api.blobs import image_limits, store_image
from collab.api.errors import ApiError
from collab.auth import AuthenticationError
from collab.auth.identity import Principal
from collab.render.compositor import Region, Scene
from collab.render.images import (
    CorruptImage,
    ImageRejected,
    ImageTooLarge,
    UnsupportedImage,
    inspect_image,
)
from collab.render.pool import RenderBusy, RenderFailed
from collab.render.tasks import RenderJob
from inference.jobs.model import (
    Area,
    Job,
    JobInvalid,
    JobKind,
    JobRequest,
    JobState,
    Report,
    check_placement,
    parse_request,
    shift_prompts,
)
from inference.jobs.queue import JobNotFound, QueueFull, StaleAttempt
from inference.jobs.queue.base import RETRY_AFTER_S
from persistence.base import BlobNotFound, TaskNotFound, TaskRecord

_REJECTED: dict[type[ImageRejected], int] = {
    UnsupportedImage: 415,
    CorruptImage: 400,
    ImageTooLarge: 413,
}


def _busy(retry_after: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": "jobs_busy", "message": message, "retry_after": retry_after},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


async def _submit(request: Request, kind: JobKind) -> Response:
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    limit = server_of(request).settings.max_blob_bytes * 4 // 3 + 64 * 1024  # a base64 mask fits
    body = await json_body(request, max_bytes=limit)
    return await submit_job(request, principal, doc_id, kind, body)


async def submit_job(
    request: Request,
    principal: Principal,
    doc_id: str,
    kind: JobKind,
    body: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
    context: str = "",
) -> Response:
    """Check ``body`` as a request of ``kind`` and queue the job for ``principal`` (who may
    edit ``doc_id``): 202 with the job, or the error. ``extra`` joins the job's params (what
    the server adds, e.g. a re-run's origin); ``context`` prefixes the messages of refusals
    caused by the body (a re-run names the layer it came from)."""
    server = server_of(request)
    host = server.jobs
    try:
        wanted = parse_request(kind, body, host.limits)
    except JobInvalid as exc:
        raise ApiError(422, "invalid", f"{context}{exc}") from None
    if not host.submissions.allow(principal.user_id):
        per_minute = server.settings.jobs_per_user_per_minute
        return JSONResponse(
            {
                "error": "too_many_jobs",
                "message": f"{principal.name!r} may submit {per_minute:g} jobs per minute",
                "retry_after": 60,
            },
            status_code=429,
            headers={"Retry-After": "60"},
        )
    if await host.queue.size() >= host.queue.max_jobs:  # before spending a render on it
        return _busy(RETRY_AFTER_S, str(QueueFull(host.queue.max_jobs, RETRY_AFTER_S)))
    async with room_for(request, doc_id) as room:
        state = room.doc.get_update()
    scene = await anyio.to_thread.run_sync(Scene.from_update, state)
    source, inputs = _inputs(scene, wanted, doc_id, context)
    try:
        check_placement(wanted, scene.meta.width, scene.meta.height)
    except JobInvalid as exc:
        raise ApiError(422, "invalid", f"{context}{exc}") from None
    area = wanted.region or Area(0, 0, scene.meta.width, scene.meta.height)
    if area.width * area.height > server.settings.max_export_pixels:
        raise ApiError(
            413,
            "image_too_large",
            f"the job's area of {area.width}x{area.height} pixels exceeds the limit of "
            f"{server.settings.max_export_pixels} (NEXUS_MAX_EXPORT_PIXELS); choose a region",
        )
    mask_blob = await _mask(request, wanted, area) if kind is JobKind.GENERATIVE_FILL else None
    input_blob, input_bytes = await _render_input(request, scene, area, source, inputs)
    read = [{"id": layer.id, "name": layer.name} for layer in inputs]
    params = wanted.params | {"input_layer": wanted.layer_id, "source": source}
    job = Job(
        id=Job.new_id(),
        kind=kind,
        doc_id=doc_id,
        user_id=principal.user_id,
        user_name=principal.name,
        input_blob=input_blob,
        # the pipeline sees the area's pixels: its prompts are moved there
        params=shift_prompts(params, -area.x, -area.y) | {"input_layers": read} | (extra or {}),
        mask_blob=mask_blob,
        x=area.x,
        y=area.y,
        input_bytes=input_bytes,
    )
    try:
        job = await host.submit(job)
    except QueueFull as exc:
        return _busy(exc.retry_after, str(exc))
    return JSONResponse(job.public(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


async def _mask(request: Request, wanted: JobRequest, area: Area) -> str:
    """The mask as a stored blob: mode L, the area's size, marking something."""
    store = server_of(request).store
    if wanted.mask is not None:
        try:
            data = (await store.get_blob(wanted.mask)).data
        except BlobNotFound:
            raise ApiError(422, "invalid", f"mask blob {wanted.mask} is not stored") from None
    else:
        assert wanted.mask_png is not None
        data = wanted.mask_png
        limits = image_limits(server_of(request).settings)
        try:  # format and size limits, from the header, before anything is decoded
            await anyio.to_thread.run_sync(inspect_image, data, limits)
        except ImageRejected as exc:
            raise ApiError(_REJECTED.get(type(exc), 422), exc.code, f"mask: {exc}") from None
    gray = await anyio.to_thread.run_sync(_mask_pixels, data, area)
    stored = await store_image(request, gray)
    return stored.sha256


def _mask_pixels(data: bytes, area: Area) -> bytes:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # Pillow raises many kinds for a broken image
        raise ApiError(400, "corrupt_image", f"the mask cannot be decoded: {exc}") from None
    if image.size != (area.width, area.height):
        where = "the region" if (area.x, area.y) != (0, 0) else "the canvas (or the region)"
        raise ApiError(
            422,
            "invalid",
            f"mask must be {area.width}x{area.height} like {where}, got "
            f"{image.width}x{image.height}",
        )
    # White (>= 128) marks the area to fill; an image with transparency marks it with alpha.
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    gray = image.convert("RGBA").getchannel("A") if has_alpha else image.convert("L")
    if int(np.asarray(gray).max()) < 128:
        raise ApiError(
            422, "invalid", "mask is empty: no pixel marks an area to fill (values >= 128)"
        )
    buffer = io.BytesIO()
    gray.save(buffer, "PNG")
    return buffer.getvalue()


def is_mask_layer(layer: Layer) -> bool:
    """A mask an earlier segmentation added (``output: "mask"``): white where its object is,
    so a composite that included it would show a white blot, not the picture."""
    provenance = layer.provenance or {}
    return provenance.get("kind") == str(JobKind.SEGMENT) and provenance.get("output") == "mask"


def _inputs(scene: Scene, wanted: JobRequest, doc_id: str, context: str) -> tuple[str, list[Layer]]:
    """The job's source (composite, layer or layers) and the layers it reads, bottom first;
    422 naming an unknown layer id."""
    asked = [wanted.layer_id] if wanted.layer_id is not None else list(wanted.layers or ())
    unknown = [layer_id for layer_id in asked if scene.layer(layer_id) is None]
    if unknown:
        what = (
            f"layer_id {wanted.layer_id!r}: no such layer"
            if wanted.layer_id is not None
            else f"layers: no layer {', '.join(map(repr, unknown))}"
        )
        raise ApiError(422, "invalid", f"{context}{what} in document {doc_id!r}")
    if wanted.layer_id is not None:
        return "layer", [layer for layer in scene.layers if layer.id == wanted.layer_id][:1]
    if wanted.layers is not None:
        return "layers", [layer for layer in scene.layers if layer.id in asked]
    drawn = [
        layer
        for layer in scene.layers
        if layer.visible and layer.opacity > 0 and not layer.is_proposal
        and layer.kind in ("raster", "paint") and not is_mask_layer(layer)
    ]  # fmt: skip
    return "composite", drawn


async def _render_input(
    request: Request, scene: Scene, area: Area, source: str, inputs: list[Layer]
) -> tuple[str, int]:
    server = server_of(request)
    region = Region(area.x, area.y, area.width, area.height)
    if source == "layer":
        job = RenderJob(
            scene, tuple(scene.blobs(layer_id=inputs[0].id)), layer_id=inputs[0].id, region=region
        )
    else:
        # A scene of the chosen layers only: a list is drawn as the document blends it, even
        # where hidden or a proposal (it was asked for), on transparency.
        meta = scene.meta
        chosen = tuple(inputs)
        if source == "layers":
            meta = replace(meta, background="transparent")
            chosen = tuple(replace(layer, visible=True, proposal=None) for layer in inputs)
        scene = Scene(meta, chosen)
        job = RenderJob(scene, tuple(scene.blobs()), region=region)

    async def fetch(hashes: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for digest in hashes:
            try:
                found[digest] = (await server.store.get_blob(digest)).data
            except BlobNotFound:
                pass  # drawn as missing, as in an export
        return found

    try:
        rendered = await render_pool_of(request).run(job, fetch)
    except RenderBusy as exc:
        raise ApiError(503, "render_busy", str(exc)) from None
    except RenderFailed as exc:
        raise ApiError(500, "render_failed", str(exc)) from None
    digest = await anyio.to_thread.run_sync(lambda: hashlib.sha256(rendered.data).hexdigest())
    await server.store.put_blob(
        digest,
        rendered.data,
        media_type="image/png",
        width=rendered.width,
        height=rendered.height,
    )
    return digest, len(rendered.data)


async def generative_fill(request: Request) -> Response:
    """Fill a masked area from a prompt.
    ---
    summary: Submit a generative fill (inpainting) job
    description: >
      JSON body: `mask` (the sha256 of a stored image) or `mask_png` (base64 PNG): white (or
      opaque, for an image with alpha) marks the area to fill; the size of `region`, or of
      the canvas without one. Optional: `prompt`, `negative_prompt`, `region` {x, y, width,
      height}, `steps` (1..NEXUS_JOBS_MAX_STEPS, 30), `guidance` (0..30, 7.5), `strength`
      (0.01..1, 0.99), `seed` (drawn when absent), the input: `layer_id` (that layer's own
      pixels) or `layers` (a list of layer ids: those layers blended on transparency),
      default the composite of the visible layers that are neither proposals nor masks of an
      earlier segmentation; `name` (of the new layer; when a fallback ran its note is
      appended), `stage` (false). The result is a new layer holding the filled pixels only,
      added on behalf of the caller (the caller's undo removes it), named after what ran
      ("Fill (OpenCV inpainting, prompt not used)" when the fallback ignored the prompt); with
      `stage: true` it lands as a proposal instead, which any editor may accept, discard or
      re-run (`/api/docs/{doc_id}/layers/{layer_id}/accept`, ...). The answer's
      `params.input_layers` lists the layers read (id, name), `params.source` how.
    tags: [ai]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
    responses:
      202:
        description: "The job, queued: {id, kind, state, progress, ...}; Location: /api/jobs/{id}"
      400: {description: bad JSON or an undecodable mask}
      403: {description: the caller may not edit the document}
      404: {description: unknown document}
      413: {description: the area or the mask is too large}
      422:
        description: >
          a field is invalid: empty mask, wrong mask size, unknown layer, prompt too long,
          steps out of range (the message names it)
      503:
        description: >
          jobs_busy: the queue is full (Retry-After header, retry_after field);
          jobs_unavailable: the job queue cannot be reached (Retry-After header)
    """
    return await _submit(request, JobKind.GENERATIVE_FILL)


async def segment(request: Request) -> Response:
    """Segment an object from point and box prompts.
    ---
    summary: Submit a segmentation job (a cut-out or a mask layer)
    description: >
      JSON body: `points` [[x, y], ...] in canvas pixels with `point_labels` (one per point:
      1 object, the default; 0 not the object) and/or `box` [x0, y0, x1, y1] in canvas pixels
      (left, top, right, bottom; an inverted box is refused); `output` "cutout" (the
      object's pixels, the default) or "mask" (white where the object is); optional `region`
      {x, y, width, height} (segment that part of the canvas only: the prompts must lie in
      it, the result lands there; needed when the canvas is larger than
      NEXUS_MAX_EXPORT_PIXELS), the input (`layer_id` or `layers`, default the composite of
      the visible layers that are neither proposals nor masks), `name` and `stage` (the
      result lands as a proposal). The new layer is named after what was segmented and what
      ran, e.g. "Cut-out from box and 1 point (GrabCut fallback)".
    tags: [ai]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
    responses:
      202: {description: "The job, queued; params.input_layers lists the layers read"}
      404: {description: unknown document}
      413: {description: the area is larger than NEXUS_MAX_EXPORT_PIXELS (give a region)}
      422:
        description: >
          bad prompts (the message names the value): no point or box, a point or box off
          the canvas or region, an inverted box, a label count that differs from the point
          count; an unknown layer
      503: {description: "jobs_busy: the queue is full; jobs_unavailable: it is unreachable"}
    """
    return await _submit(request, JobKind.SEGMENT)


async def remove_background(request: Request) -> Response:
    """Remove the background of the canvas or of one layer.
    ---
    summary: Submit a background-removal job (a new layer with alpha)
    description: >
      JSON body (all optional): the input, `layer_id` (that layer's pixels) or `layers` (a
      list of layer ids blended on transparency), default the composite of the visible
      layers that are neither proposals nor masks; `region` {x, y, width, height} (that
      part of the canvas only; the result lands there; needed when the canvas is larger than
      NEXUS_MAX_EXPORT_PIXELS); `name` of the new layer and `stage` (the result lands as a
      proposal). The new layer is named after what ran: "Background removed (u2netp)", or
      "Background removed (GrabCut fallback: model file missing)".
    tags: [ai]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
    responses:
      202: {description: "The job, queued; params.input_layers lists the layers read"}
      404: {description: unknown document}
      413: {description: the area is larger than NEXUS_MAX_EXPORT_PIXELS (give a region)}
      422: {description: "unknown layer or field, a region off the canvas"}
      503: {description: "jobs_busy: the queue is full; jobs_unavailable: it is unreachable"}
    """
    return await _submit(request, JobKind.REMOVE_BACKGROUND)


async def get_job(request: Request) -> JSONResponse:
    """A job's state.
    ---
    summary: A job's state and progress (its result when done)
    description: >
      {id, kind, doc_id, user, state (queued, running, done, failed, cancelled), progress
      (0-100), attempts, cancel_requested, created_at, started_at, finished_at, error,
      params, layer_id (when done), result (blob, model, backend, fallback, ...)}. Jobs
      finished long ago are answered from the ai_tasks log.
    tags: [ai]
    parameters: [{name: job_id, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: The job}
      403: {description: the caller may not view the job's document}
      404: {description: unknown job}
    """
    principal = await principal_of(request)
    server = server_of(request)
    job_id = request.path_params["job_id"]
    try:
        view = (await server.jobs.get(job_id)).public()
    except JobNotFound:
        try:
            view = _task_view(await server.jobs.task(job_id))
        except TaskNotFound:
            raise ApiError(404, "not_found", f"job {job_id!r} not found") from None
    await server.access.require(principal, view["doc_id"], "viewer")
    return JSONResponse(view)


async def cancel_job(request: Request) -> JSONResponse:
    """Cancel a job.
    ---
    summary: Cancel a job (the submitter, the document's owner, or a service)
    description: >
      A queued job is dropped at once (200, state cancelled); a running one stops at its
      next step (202, cancel_requested; its state becomes cancelled when its worker
      reports).
    tags: [ai]
    parameters: [{name: job_id, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: "The job, cancelled"}
      202: {description: "The job, running, asked to stop"}
      403: {description: "not the submitter, the owner or a service"}
      404: {description: unknown job}
      409: {description: "job_finished: the job already ended"}
    """
    principal = await principal_of(request)
    server = server_of(request)
    job_id = request.path_params["job_id"]
    try:
        job = await server.jobs.get(job_id)
    except JobNotFound:
        raise ApiError(404, "not_found", f"job {job_id!r} not found") from None
    if principal.user_id != job.user_id and not principal.service:
        if await server.access.role_for(principal, job.doc_id) != "owner":
            raise AuthenticationError(
                f"{principal.name!r} may not cancel job {job_id!r}: only the user who "
                "submitted it or the document's owner may",
                status=403,
            )
    if job.state.final:
        raise ApiError(409, "job_finished", f"job {job_id!r} already ended: {job.state}")
    job = await server.jobs.cancel(job_id)
    status = 200 if job.state is JobState.CANCELLED else 202
    return JSONResponse(job.public(), status_code=status)


async def report_job(request: Request) -> JSONResponse:
    """A worker's report.
    ---
    summary: A worker reports a job's progress or end (service tokens only)
    description: >
      Body: {job_id, attempt, state (running, done, failed, cancelled), progress, result,
      error}. For "done" the server adds the result's blob as a layer on behalf of the user
      who submitted the job (once, whatever the retries); a result it cannot apply (blob
      missing, document deleted) fails the job. In token mode only a service token may
      report; open mode (loopback) accepts any caller.
    tags: [ai]
    parameters: [{name: job_id, in: path, required: true, schema: {type: string}}]
    responses:
      200: {description: The job after the report}
      403: {description: not a service}
      404: {description: unknown job}
      409: {description: "stale_report: that attempt no longer owns the job"}
      422: {description: a malformed report}
      503: {description: "jobs_unavailable: the job queue cannot be reached (Retry-After)"}
    """
    principal = await principal_of(request)
    server = server_of(request)
    if not (principal.service or server.settings.open_mode):
        raise AuthenticationError("only a worker's service token may report on jobs", status=403)
    try:
        report = Report.from_dict(await json_body(request))
    except JobInvalid as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    if report.job_id != request.path_params["job_id"]:
        raise ApiError(422, "invalid", "the report's job_id differs from the path's")
    try:
        job = await server.jobs.report(report)
    except JobNotFound:
        raise ApiError(404, "not_found", f"job {report.job_id!r} not found") from None
    except StaleAttempt as exc:
        raise ApiError(409, "stale_report", str(exc)) from None
    return JSONResponse(job.public())


def _task_view(task: TaskRecord) -> dict[str, Any]:
    params = dict(task.params)
    result = {k: params.pop(k) for k in ("model", "backend", "fallback", "blob") if k in params}
    done = task.status == str(JobState.DONE)
    return {
        "id": task.id,
        "kind": task.type,
        "doc_id": task.doc_id,
        "user": task.user_id,
        "state": task.status,
        "progress": 100.0 if done else 0.0,
        "attempts": task.attempts,
        "cancel_requested": False,
        "created_at": task.created_at,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
        "error": task.error,
        "params": params,
        "layer_id": params.get("layer_id") if done else None,
        "result": result or None,
    }


routes = [
    Route("/api/docs/{doc_id}/ai/generative-fill", generative_fill, methods=["POST"]),
    Route("/api/docs/{doc_id}/ai/segment", segment, methods=["POST"]),
    Route("/api/docs/{doc_id}/ai/remove-background", remove_background, methods=["POST"]),
    Route("/api/jobs/{job_id}", get_job, methods=["GET"]),
    Route("/api/jobs/{job_id}", cancel_job, methods=["DELETE"]),
    Route("/api/jobs/{job_id}/report", report_job, methods=["POST"]),
]
