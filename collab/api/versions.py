"""Versions: snapshots listed as automatic or named versions, naming the current state,
previewing one read-only (its canvas JSON, a thumbnail, the rendered image) and restoring one
as a new change (undoable by whoever restored it; the log is never rewritten).

A preview reads the stored snapshot into a scratch document, never the live room: previewing
loads no room and changes nothing. Its images come from the render pool exactly as exports
do (a worker process renders and encodes; blobs travel only when the worker lacks them).
A version never changes, so its ETag is a hash of the snapshot and the parameters, and a
repeated request is answered 304 before the snapshot is even parsed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import asdict
from typing import Any

import anyio
from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from canvasdoc.canvas import Canvas
from collab.api._common import existing_doc_id, json_body, principal_of, room_for, server_of
from collab.api._rendering import (
    RENDER_VERSION,
    query_format,
    query_quality,
    query_scale,
    query_thumbnail_size,
    render_state,
    safe_name,
)
from collab.api.docs import layer_json
from collab.api.errors import ApiError
from persistence.base import SnapshotInfo, SnapshotNotFound

log = logging.getLogger(__name__)

_MAX_LABEL = 200
_MAX_VERSION_ID = 2**63 - 1  # stores keep 64-bit ids
_VERSION_ID = re.compile(r"-?[0-9]+")


def _version_json(info: SnapshotInfo) -> dict[str, Any]:
    base = f"/api/docs/{info.doc_id}/versions/{info.id}"
    return {
        "id": info.id,
        "label": info.label,
        "kind": "named" if info.label else "auto",
        "created_at": info.created_at,
        "seq": info.seq,
        "size": info.size,
        "url": base,
        "thumbnail_url": f"{base}/thumbnail",
        "preview_url": f"{base}/preview",
    }


def _version_id(request: Request, doc_id: str) -> int:
    """The path's version id: 400 unless an integer, 404 when negative or past the stores'
    range."""
    raw = request.path_params["version_id"]
    if not _VERSION_ID.fullmatch(raw):
        raise ApiError(400, "bad_request", f"version id must be an integer, got {raw!r}")
    if raw.startswith("-"):  # an integer no store holds (as past the range): not found
        raise ApiError(404, "not_found", f"document {doc_id!r} has no version {raw}")
    digits = raw.lstrip("0") or "0"
    if len(digits) > len(str(_MAX_VERSION_ID)) or int(digits) > _MAX_VERSION_ID:
        raise ApiError(404, "not_found", f"document {doc_id!r} has no version {digits}")
    return int(digits)


async def _snapshot(request: Request, doc_id: str, version_id: int) -> bytes:
    try:
        return await server_of(request).store.read_snapshot(doc_id, version_id)
    except SnapshotNotFound:
        raise ApiError(
            404, "not_found", f"document {doc_id!r} has no version {version_id}"
        ) from None


async def _info(request: Request, doc_id: str, version_id: int) -> SnapshotInfo:
    snapshots = await server_of(request).store.list_snapshots(doc_id)
    found = next((s for s in snapshots if s.id == version_id), None)
    if found is None:
        raise ApiError(404, "not_found", f"document {doc_id!r} has no version {version_id}")
    return found


async def list_versions(request: Request) -> JSONResponse:
    doc_id = await existing_doc_id(request)
    snapshots = await server_of(request).store.list_snapshots(doc_id)
    return JSONResponse({"versions": [_version_json(s) for s in snapshots]})


async def create_version(request: Request) -> JSONResponse:
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    body = await json_body(request)
    label = body.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > _MAX_LABEL:
        raise ApiError(
            422,
            "invalid",
            f"label must be a non-empty string of at most {_MAX_LABEL} characters, got {label!r}",
        )
    server = server_of(request)
    async with room_for(request, doc_id):
        version_id = await server.rooms.create_version(doc_id, label.strip())
    info = await _info(request, doc_id, version_id)
    return JSONResponse({**_version_json(info), "created_by": principal.user_id}, status_code=201)


def _canvas_json(state: bytes) -> dict[str, Any]:
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    canvas = Canvas(doc)
    with doc.transaction():
        meta = asdict(canvas.read_meta())
        layers = [layer_json(layer) for layer in canvas.read_layers()]
    return {**meta, "layers": layers}


async def get_version(request: Request) -> JSONResponse:
    """A version's canvas, read-only.
    ---
    summary: A version's metadata and layers, as GET /api/docs/{doc_id} gives the live ones
    description: >
      Read from the stored snapshot; the live document is not touched. Raster layers name
      their images by hash (fetch them from /api/blobs/{sha256}).
    tags: [versions]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - name: version_id
        in: path
        required: true
        schema: {type: integer, format: int64, minimum: 0}
    responses:
      200:
        description: >
          {id, version: {id, label, kind, created_at, seq, size, url, thumbnail_url,
          preview_url}, name, width, height, dpi, color_profile, background,
          layers: [{id, name, kind, blend_mode, opacity, visible, locked, x, y, blob,
          strokes (count), provenance}]}
      400: {description: "bad_request: the version id is not an integer"}
      404: {description: unknown document or version}
    """
    doc_id = await existing_doc_id(request)
    version_id = _version_id(request, doc_id)
    info = await _info(request, doc_id, version_id)
    state = await _snapshot(request, doc_id, version_id)
    canvas = await anyio.to_thread.run_sync(_canvas_json, state)
    return JSONResponse({"id": doc_id, "version": _version_json(info), **canvas})


async def _render_version(
    request: Request,
    *,
    fmt: str,
    quality: int,
    scale: float | None = None,
    fit: int | None = None,
    filename: str,
) -> Response:
    doc_id = await existing_doc_id(request)
    version_id = _version_id(request, doc_id)
    state = await _snapshot(request, doc_id, version_id)
    digest = hashlib.sha256(state)
    digest.update(repr((RENDER_VERSION, fmt, quality, scale, fit)).encode())
    etag = f'W/"v{version_id}-{digest.hexdigest()[:40]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}  # revalidate: access may change
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return await render_state(
        request,
        state,
        doc_id=doc_id,
        fmt=fmt,
        filename=filename,
        scale=scale,
        fit=fit,
        quality=quality,
        etag=etag,
        what="a preview",
    )


def _version_filename(request: Request, suffix: str) -> str:
    params = request.path_params
    return f"{safe_name(params['doc_id'])[:60]}-v{params['version_id']}{suffix}"


async def version_thumbnail(request: Request) -> Response:
    """A small picture of a version.
    ---
    summary: A version flattened and scaled to fit a square box (never enlarged)
    description: As the document's thumbnail, but of the stored version.
    tags: [versions, rendering]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - name: version_id
        in: path
        required: true
        schema: {type: integer, format: int64, minimum: 0}
      - {name: size, in: query, schema: {type: integer, minimum: 16, maximum: 4096, default: 256}}
      - {name: format, in: query, schema: {type: string, enum: [png, jpeg, webp], default: png}}
    responses:
      200: {description: "The thumbnail (weak ETag; 304 on If-None-Match)"}
      400: {description: "bad_request: the version id is not an integer"}
      404: {description: unknown document or version}
      422: {description: bad size or format}
      503: {description: "render_busy: too many renders queued"}
    """
    fit = query_thumbnail_size(request)
    return await _render_version(
        request,
        fmt=query_format(request),
        quality=query_quality(request),
        fit=fit,
        filename=_version_filename(request, "-thumbnail"),
    )


async def version_preview(request: Request) -> Response:
    """A version rendered, read-only.
    ---
    summary: A version flattened to one image, at full size or a given scale
    description: >
      As the document's export, but of the stored version: every visible layer in z-order
      with its opacity, offset and blend mode, on the version's background.
    tags: [versions, rendering]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - name: version_id
        in: path
        required: true
        schema: {type: integer, format: int64, minimum: 0}
      - {name: format, in: query, schema: {type: string, enum: [png, jpeg, webp], default: png}}
      - name: scale
        in: query
        schema: {type: number, minimum: 0, exclusiveMinimum: true, maximum: 16, default: 1}
      - {name: quality, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 90}}
    responses:
      200: {description: "The image (weak ETag; 304 on If-None-Match)"}
      400: {description: "bad_request: the version id is not an integer"}
      404: {description: unknown document or version}
      413: {description: "export_too_large: over NEXUS_MAX_EXPORT_PIXELS at this scale"}
      422: {description: "bad format, scale or quality"}
      503: {description: "render_busy: too many renders queued"}
    """
    return await _render_version(
        request,
        fmt=query_format(request),
        quality=query_quality(request),
        scale=query_scale(request),
        filename=_version_filename(request, ""),
    )


async def restore_version(request: Request) -> JSONResponse:
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    version_id = _version_id(request, doc_id)
    label = (await _info(request, doc_id, version_id)).label
    state = await _snapshot(request, doc_id, version_id)
    version_doc: Doc[Any] = Doc()
    version_doc.apply_update(state)
    async with room_for(request, doc_id) as room:
        undo = room.restore(
            principal, Canvas(version_doc), repr(label) if label else f"#{version_id}"
        )
    return JSONResponse(
        {
            "restored": version_id,
            "can_undo": undo.can_undo,
            "can_redo": undo.can_redo,
            "user": principal.user_id,
        }
    )


routes = [
    Route("/api/docs/{doc_id}/versions", list_versions, methods=["GET"]),
    Route("/api/docs/{doc_id}/versions", create_version, methods=["POST"]),
    Route("/api/docs/{doc_id}/versions/{version_id}", get_version, methods=["GET"]),
    Route("/api/docs/{doc_id}/versions/{version_id}/thumbnail", version_thumbnail, methods=["GET"]),
    Route("/api/docs/{doc_id}/versions/{version_id}/preview", version_preview, methods=["GET"]),
    Route("/api/docs/{doc_id}/versions/{version_id}/restore", restore_version, methods=["POST"]),
]
