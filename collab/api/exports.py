"""Rendered images of a document: the flattened export, a thumbnail, one layer's pixels.

A request takes a consistent copy of the live document (one ``get_update`` of the room's
state, on the event loop, a fast Rust call), reads it into a :class:`Scene` in a thread, and
hands it to the render pool: rendering and encoding happen in a worker process, which asks
for the bytes of the images it has not decoded yet, so a heavy export never stalls live
editing and a repeated one ships no image bytes at all.

Renders are deterministic, so the ETag is a hash of the document state, the images and the
parameters: a client polling a thumbnail gets 304 until something changes.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collab.api._common import existing_doc_id, principal_of, room_for, server_of
from collab.api.errors import ApiError
from collab.render.compositor import MAX_SCALE, Scene, output_size
from collab.render.pool import RenderBusy, RenderFailed, RenderPool, shared_pool
from collab.render.tasks import FORMATS, RenderJob, RenderResult
from persistence.base import BlobNotFound

log = logging.getLogger(__name__)

RENDER_VERSION = "1"  # bump when the compositor's output changes, so ETags change with it
_MAX_THUMBNAIL = 4096


def render_pool_of(request: Request) -> RenderPool:
    """The server's render pool if it owns one, else the process-wide pool."""
    server = server_of(request)
    pool = getattr(server, "render_pool", None)
    if isinstance(pool, RenderPool):
        return pool
    settings = server.settings
    return shared_pool(settings.render_workers, settings.render_mode)


def _format(request: Request, default: str = "png") -> str:
    fmt = request.query_params.get("format", default).lower()
    fmt = "jpeg" if fmt == "jpg" else fmt
    if fmt not in FORMATS:
        raise ApiError(422, "invalid", f"format must be one of png, jpeg, webp; got {fmt!r}")
    return fmt


def _scale(request: Request) -> float:
    raw = request.query_params.get("scale", "1")
    try:
        scale = float(raw)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and 0 < scale <= MAX_SCALE):
        raise ApiError(
            422, "invalid", f"scale must be a number > 0 and <= {MAX_SCALE:g}, got {raw!r}"
        )
    return scale


def _quality(request: Request) -> int:
    raw = request.query_params.get("quality", "90")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ApiError(422, "invalid", f"quality must be an integer from 1 to 100, got {raw!r}")
    return int(raw)


async def _render(
    request: Request,
    *,
    fmt: str,
    scale: float | None,
    quality: int = 90,
    layer_id: str | None = None,
    fit: int | None = None,
    filename: str,
) -> Response:
    await principal_of(request)
    doc_id = await existing_doc_id(request)
    server = server_of(request)
    async with room_for(request, doc_id) as room:
        state = room.doc.get_update()
    scene = await anyio.to_thread.run_sync(Scene.from_update, state)
    if layer_id is not None and scene.layer(layer_id) is None:
        raise ApiError(404, "not_found", f"no layer with id {layer_id!r} in document {doc_id!r}")
    if fit is not None:
        scale = min(1.0, fit / max(scene.meta.width, scene.meta.height))
    assert scale is not None
    width, height = output_size(scene.meta, scale)
    limit = server.settings.max_export_pixels
    if width * height > limit:
        raise ApiError(
            413,
            "export_too_large",
            f"an export of {width}x{height} = {width * height} pixels exceeds the limit of "
            f"{limit} pixels (NEXUS_MAX_EXPORT_PIXELS); ask for a smaller scale",
        )
    needed = scene.blobs(layer_id=layer_id)
    etag = _etag(state, needed, fmt, scale, quality, layer_id)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    missing: list[str] = []

    async def fetch(hashes: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for digest in hashes:
            try:
                found[digest] = (await server.store.get_blob(digest)).data
            except BlobNotFound:
                missing.append(digest)
        return found

    job = RenderJob(
        scene, tuple(needed), format=fmt, scale=scale, quality=quality, layer_id=layer_id
    )
    result = await _run(request, job, fetch)
    if missing:
        log.warning("rendered without missing blobs", extra={"doc_id": doc_id, "missing": missing})
        headers["X-Missing-Blobs"] = ",".join(missing)
    headers["Content-Disposition"] = f'inline; filename="{filename}.{fmt}"'
    headers["X-Render-Ms"] = str(result.render_ms)
    headers["X-Encode-Ms"] = str(result.encode_ms)
    return Response(result.data, media_type=result.media_type, headers=headers)


async def _run(
    request: Request,
    job: RenderJob,
    fetch: Callable[[list[str]], Coroutine[Any, Any, dict[str, bytes]]],
) -> RenderResult:
    try:
        return await render_pool_of(request).run(job, fetch)
    except RenderBusy as exc:
        raise ApiError(503, "render_busy", str(exc)) from None
    except RenderFailed as exc:
        raise ApiError(500, "render_failed", str(exc)) from None


def _etag(
    state: bytes, blobs: list[str], fmt: str, scale: float, quality: int, layer_id: str | None
) -> str:
    digest = hashlib.sha256(state)
    digest.update(repr((RENDER_VERSION, blobs, fmt, scale, quality, layer_id)).encode())
    return f'W/"{digest.hexdigest()[:40]}"'


def _safe_name(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:80]
    return cleaned or "canvas"


async def export(request: Request) -> Response:
    """Export the flattened document.
    ---
    summary: The document flattened to one image, as a person sees it
    description: >
      Every visible layer in z-order with its opacity, offset and blend mode, on the
      document's background. JPEG has no alpha: transparency is flattened onto white.
      Rendering runs in a worker process, so live editing carries on meanwhile.
    tags: [rendering]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: format, in: query, schema: {type: string, enum: [png, jpeg, webp], default: png}}
      - name: scale
        in: query
        schema: {type: number, minimum: 0, exclusiveMinimum: true, maximum: 16, default: 1}
      - {name: quality, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 90}}
    responses:
      200: {description: The image (weak ETag; 304 on If-None-Match while nothing changed)}
      404: {description: unknown document}
      413: {description: "export_too_large: over NEXUS_MAX_EXPORT_PIXELS at this scale"}
      422: {description: bad format, scale or quality}
      503: {description: "render_busy: too many renders queued"}
    """
    fmt = _format(request)
    doc_id = request.path_params["doc_id"]
    return await _render(
        request,
        fmt=fmt,
        scale=_scale(request),
        quality=_quality(request),
        filename=_safe_name(doc_id),
    )


async def thumbnail(request: Request) -> Response:
    """A small preview of the document.
    ---
    summary: The flattened document scaled to fit a square box (never enlarged)
    tags: [rendering]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: size, in: query, schema: {type: integer, minimum: 16, maximum: 4096, default: 256}}
      - {name: format, in: query, schema: {type: string, enum: [png, jpeg, webp], default: png}}
    responses:
      200: {description: The thumbnail}
      404: {description: unknown document}
      422: {description: bad size or format}
    """
    default = server_of(request).settings.thumbnail_size
    raw = request.query_params.get("size", str(default))
    if not raw.isdigit() or not 16 <= int(raw) <= _MAX_THUMBNAIL:
        raise ApiError(
            422, "invalid", f"size must be an integer from 16 to {_MAX_THUMBNAIL}, got {raw!r}"
        )
    fmt = _format(request)
    return await _render(
        request,
        fmt=fmt,
        scale=None,
        fit=int(raw),
        quality=_quality(request),
        filename=_safe_name(request.path_params["doc_id"]) + "-thumbnail",
    )


async def layer_png(request: Request) -> Response:
    """One layer's pixels.
    ---
    summary: One layer's content as a PNG the size of the canvas
    description: >
      The layer alone on transparency, at its offset, whether visible or not; its opacity
      and blend mode are not applied (they say how it combines with the layers below).
    tags: [rendering, layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: layer_id, in: path, required: true, schema: {type: string}}
      - name: scale
        in: query
        schema: {type: number, minimum: 0, exclusiveMinimum: true, maximum: 16, default: 1}
    responses:
      200: {description: PNG}
      404: {description: unknown document or layer}
      422: {description: bad scale}
    """
    layer_id = request.path_params["layer_id"]
    return await _render(
        request,
        fmt="png",
        scale=_scale(request),
        layer_id=layer_id,
        filename=_safe_name(layer_id),
    )


routes = [
    Route("/api/docs/{doc_id}/export", export, methods=["GET"]),
    Route("/api/docs/{doc_id}/thumbnail", thumbnail, methods=["GET"]),
    Route("/api/docs/{doc_id}/layers/{layer_id}.png", layer_png, methods=["GET"]),
]
