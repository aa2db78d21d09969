"""Rendered images of a document: the flattened export, a thumbnail, one layer's pixels.

A request takes a consistent copy of the live document (one ``get_update`` of the room's
state, on the event loop, a fast Rust call), reads it into a :class:`Scene` in a thread, and
hands it to the render pool: rendering and encoding happen in a worker process, which asks
for the bytes of the images it has not decoded yet, so a heavy export never stalls live
editing and a repeated one ships no image bytes at all.

Staged proposals (AI results awaiting review) are left out of exports and thumbnails; an
export shows them with ``?proposals=1``.

Renders are deterministic, so the ETag is a hash of the document state, the images and the
parameters: a client polling a thumbnail gets 304 until something changes.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collab.api._common import existing_doc_id, principal_of, room_for
from collab.api._rendering import (
    query_format,
    query_proposals,
    query_quality,
    query_scale,
    query_thumbnail_size,
    render_state,
    safe_name,
)


async def _render(request: Request, *, filename: str, **options: Any) -> Response:
    await principal_of(request)
    doc_id = await existing_doc_id(request)
    async with room_for(request, doc_id) as room:
        state = room.doc.get_update()
    return await render_state(request, state, doc_id=doc_id, filename=filename, **options)


async def export(request: Request) -> Response:
    """Export the flattened document.
    ---
    summary: The document flattened to one image, as a person sees it
    description: >
      Every visible layer in z-order with its opacity, offset and blend mode, on the
      document's background. Staged proposals (layers with a `proposal`, AI results not yet
      accepted) are left out unless `proposals=1`. JPEG has no alpha: transparency is
      flattened onto white. Rendering runs in a worker process, so live editing carries on
      meanwhile.
    tags: [rendering]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: format, in: query, schema: {type: string, enum: [png, jpeg, webp], default: png}}
      - name: scale
        in: query
        schema: {type: number, minimum: 0, exclusiveMinimum: true, maximum: 16, default: 1}
      - {name: quality, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 90}}
      - name: proposals
        in: query
        description: 1 to draw staged proposals too (default 0, as everyone will see it)
        schema: {type: string, enum: ["0", "1", "true", "false"], default: "0"}
    responses:
      200: {description: The image (weak ETag; 304 on If-None-Match while nothing changed)}
      404: {description: unknown document}
      413: {description: "export_too_large: over NEXUS_MAX_EXPORT_PIXELS at this scale"}
      422: {description: "bad format, scale, quality or proposals"}
      503: {description: "render_busy: too many renders queued"}
    """
    fmt = query_format(request)
    doc_id = request.path_params["doc_id"]
    return await _render(
        request,
        fmt=fmt,
        scale=query_scale(request),
        quality=query_quality(request),
        proposals=query_proposals(request),
        filename=safe_name(doc_id),
    )


async def thumbnail(request: Request) -> Response:
    """A small preview of the document.
    ---
    summary: The flattened document scaled to fit a square box (never enlarged)
    description: Staged proposals are never drawn in a thumbnail.
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
    fit = query_thumbnail_size(request)
    fmt = query_format(request)
    return await _render(
        request,
        fmt=fmt,
        fit=fit,
        quality=query_quality(request),
        filename=safe_name(request.path_params["doc_id"]) + "-thumbnail",
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
        scale=query_scale(request),
        layer_id=layer_id,
        filename=safe_name(layer_id),
    )


routes = [
    Route("/api/docs/{doc_id}/export", export, methods=["GET"]),
    Route("/api/docs/{doc_id}/thumbnail", thumbnail, methods=["GET"]),
    Route("/api/docs/{doc_id}/layers/{layer_id}.png", layer_png, methods=["GET"]),
]
