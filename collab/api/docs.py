"""Documents over REST: create, list, read, delete, and add a raster layer from an upload.

The CRDT document is the truth for everything a person sees: ``GET /api/docs/{id}`` reads the
live ``meta`` and ``layers``. The store's document row (name, size, owner, timestamps) is
written at creation; the list answers from those rows (cheap, no room loaded). A document's
name has one source, its ``meta`` name: the list reads it from the room when the room is
loaded here, and the room copies it into the row on every save and unload.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import asdict, fields, replace
from pathlib import PurePath
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from canvasdoc.canvas import (
    Canvas,
    Layer,
    validate_background,
    validate_blend_mode,
    validate_dimension,
    validate_dpi,
    validate_opacity,
    validate_text,
)
from collab.api._common import (
    display_names,
    existing_doc_id,
    json_body,
    principal_of,
    room_for,
    server_of,
)
from collab.api._doc_pages import decode_cursor, encode_cursor, visible_page
from collab.api.blobs import form_image, read_limited_form, store_image
from collab.api.errors import ApiError
from collab.auth.identity import check_doc_id
from persistence.base import DocumentExists, DocumentRecord

_CREATE_FIELDS = ("id", "name", "width", "height", "dpi", "background", "color_profile")
_MAX_PAGE = 1000
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _record_json(record: DocumentRecord, names: dict[str, str]) -> dict[str, Any]:
    """The record as JSON; ``names`` has the owner's display name (``display_names``)."""
    return {
        "id": record.id,
        "name": record.name,
        "owner": record.owner,
        "owner_name": None if record.owner is None else names.get(record.owner, record.owner),
        "width": record.width,
        "height": record.height,
        "dpi": record.dpi,
        "color_profile": record.color_profile,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _with_live_name(request: Request, record: DocumentRecord) -> DocumentRecord:
    """The record with the ``meta`` name of the document's room, when it is loaded here."""
    room = server_of(request).rooms.rooms.get(record.id)
    if room is None:
        return record
    return replace(record, name=Canvas(room.doc).read_meta().name)


def layer_json(layer: Layer) -> dict[str, Any]:
    """A layer's properties; a paint layer's strokes are counted, not listed."""
    data = {f.name: getattr(layer, f.name) for f in fields(layer) if f.name != "strokes"}
    data["strokes"] = len(layer.strokes)
    return data


async def create_doc(request: Request) -> JSONResponse:
    """Create a document.
    ---
    summary: Create a document
    description: >
      Creates the document's record and sets its `meta` in the shared document, as a change
      of the caller's (in the history). Every field is optional; `id` is generated when
      absent.
    tags: [documents]
    requestBody:
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            properties:
              id:
                type: string
                nullable: true
                pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
                description: >
                  1-128 of letters, digits and _.:-, starting with a letter or digit; generated
                  when null or absent
              name: {type: string, maxLength: 1000, default: Untitled}
              width: {type: integer, minimum: 1, maximum: 32768, default: 1024}
              height: {type: integer, minimum: 1, maximum: 32768, default: 1024}
              dpi: {type: integer, minimum: 1, maximum: 4800, default: 72}
              background:
                type: string
                pattern: "^(#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?|transparent)$"
                description: "#rrggbb, #rrggbbaa or transparent"
              color_profile: {type: string, maxLength: 200, default: sRGB}
    responses:
      201: {description: "The document: {id, name, width, height, dpi, background, ...}"}
      400: {description: bad JSON or document id}
      409: {description: "document_exists: the id is taken"}
      422: {description: "invalid: a field is out of range (the message names it)"}
    """
    principal = await principal_of(request)
    body = await json_body(request)
    unknown = sorted(set(body) - set(_CREATE_FIELDS))
    if unknown:
        raise ApiError(
            422,
            "invalid",
            f"unknown field(s) {', '.join(map(repr, unknown))}; expected some of "
            + ", ".join(_CREATE_FIELDS),
        )
    raw_id = body.get("id")
    if raw_id is not None and not isinstance(raw_id, str):
        raise ApiError(422, "invalid", f"id must be a string, got {raw_id!r}")
    doc_id = check_doc_id(raw_id) if raw_id is not None else uuid.uuid4().hex
    meta: dict[str, Any] = {
        "name": validate_text(body.get("name", "Untitled"), "name"),
        "width": validate_dimension(body.get("width", 1024), "width"),
        "height": validate_dimension(body.get("height", 1024), "height"),
        "dpi": validate_dpi(body.get("dpi", 72)),
        "color_profile": validate_text(
            body.get("color_profile", "sRGB"), "color_profile", max_length=200
        ),
        "background": validate_background(body.get("background", "#ffffff")),
    }
    record = DocumentRecord(
        id=doc_id,
        owner=principal.user_id,
        name=meta["name"],
        width=meta["width"],
        height=meta["height"],
        dpi=meta["dpi"],
        color_profile=meta["color_profile"],
    )
    try:
        await server_of(request).store.create_document(record)
    except DocumentExists as exc:
        raise ApiError(409, "document_exists", str(exc)) from None
    async with room_for(request, doc_id) as room:
        room.edit(principal, lambda canvas: canvas.init(**meta))
    return JSONResponse(
        {
            **_record_json(record, await display_names(request, [record.owner])),
            "background": meta["background"],
            "layers": [],
        },
        status_code=201,
        headers={"Location": f"/api/docs/{doc_id}"},
    )


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(
            422, "invalid", f"{name} must be an integer from {low} to {high}, got {raw!r}"
        )
    return value


async def list_docs(request: Request) -> JSONResponse:
    """List documents.
    ---
    summary: List the documents the caller may see, oldest first, a page at a time
    description: >
      The stored records of the documents the caller may open (open mode: all of them; an
      account: those it owns or is a member of; a share link: its document while the link is
      active). Every page but the last is full. The name is the document's own (`meta.name`,
      as `GET /api/docs/{doc_id}` shows it); width, height and dpi are as created (`GET
      /api/docs/{doc_id}` has the live values). A document is listed once it was created or
      first edited; opening a connection alone creates nothing. Page with `cursor`: pass the
      previous page's `next_cursor` (null on the last page) and treat it as opaque. Documents
      created meanwhile never make a page repeat or skip one that existed before (they are
      listed if they sort after the cursor). `offset` skips that many of the documents the
      caller may see (after the cursor, when one is given); paging by offset alone still
      works (`next_offset`, null on the last page and whenever a cursor was given) but a
      page shifts when documents are created or deleted between requests.
    tags: [documents]
    parameters:
      - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}}
      - name: cursor
        in: query
        description: the previous page's next_cursor
        schema:
          type: string
          pattern: '^(-?0x[01]\\.[0-9a-f]{1,13}p-?[0-9]{1,3})~([A-Za-z0-9][A-Za-z0-9_.:-]{0,127})$'
      - {name: offset, in: query, schema: {type: integer, minimum: 0, default: 0}}
    responses:
      200: {description: "{documents: [...], limit, offset, next_offset, next_cursor}"}
      422: {description: "bad limit, offset or cursor (the message names it)"}
    """
    principal = await principal_of(request)
    limit = _int_param(request, "limit", 100, 1, _MAX_PAGE)
    offset = _int_param(request, "offset", 0, 0, 2**62)
    cursor = request.query_params.get("cursor")
    page = await visible_page(
        server_of(request),
        principal,
        limit=limit + 1,
        after=None if cursor is None else decode_cursor(cursor),
        offset=offset,
    )
    more = len(page) > limit
    records = [_with_live_name(request, r) for r in page[:limit]]
    names = await display_names(request, (r.owner for r in records))
    return JSONResponse(
        {
            "documents": [_record_json(r, names) for r in records],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if more and cursor is None else None,
            "next_cursor": encode_cursor(page[limit - 1]) if more else None,
        }
    )


async def get_doc(request: Request) -> JSONResponse:
    """Read a document's metadata and layers.
    ---
    summary: A document's live metadata and its layer list (bottom first)
    tags: [documents]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
    responses:
      200:
        description: >
          {id, owner, owner_name, created_at, updated_at, name, width, height, dpi, color_profile,
          background, layers: [{id, name, kind, blend_mode, opacity, visible, locked, x, y,
          blob, strokes (count), provenance}]}
      404: {description: unknown document}
    """
    await principal_of(request)
    doc_id = await existing_doc_id(request)
    record = await server_of(request).store.get_document(doc_id)
    async with room_for(request, doc_id) as room:
        canvas = Canvas(room.doc)
        with room.doc.transaction():
            meta = asdict(canvas.read_meta())
            layers = [layer_json(layer) for layer in canvas.read_layers()]
    names = await display_names(request, [record.owner])
    return JSONResponse({**_record_json(record, names), **meta, "layers": layers})


async def rename_doc(request: Request) -> JSONResponse:
    """Rename a document.
    ---
    summary: Rename a document
    description: >
      Sets the name in the document's record (what the list shows) and in the shared
      document's `meta`, as a change of the caller's (in the history, undoable).
    tags: [documents]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            required: [name]
            properties:
              name: {type: string, maxLength: 1000}
    responses:
      200: {description: "The document's record: {id, name, owner, width, height, ...}"}
      400: {description: bad JSON or document id}
      404: {description: unknown document}
      422: {description: "invalid: missing, unknown or bad field (the message names it)"}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    body = await json_body(request)
    unknown = sorted(set(body) - {"name"})
    if unknown:
        raise ApiError(
            422, "invalid", f"unknown field(s) {', '.join(map(repr, unknown))}; expected name"
        )
    if "name" not in body:
        raise ApiError(422, "invalid", "name is required")
    name = validate_text(body["name"], "name")
    record = await server_of(request).store.rename_document(doc_id, name)
    async with room_for(request, doc_id) as room:
        room.edit(principal, lambda canvas: canvas.set_meta(name=name))
    return JSONResponse(_record_json(record, await display_names(request, [record.owner])))


async def delete_doc(request: Request) -> Response:
    """Delete a document.
    ---
    summary: Delete a document with its log and versions
    description: >
      Refused with 409 while people are connected to it. Its queued AI jobs are cancelled
      and its running ones stopped. Its images stay in the blob store until
      `nexus-canvas gc-blobs` finds them unreferenced.
    tags: [documents]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
    responses:
      204: {description: Deleted}
      404: {description: unknown document}
      409: {description: "document_in_use: live connections"}
    """
    await principal_of(request)
    doc_id = await existing_doc_id(request, "owner")
    server = server_of(request)
    room = server.rooms.rooms.get(doc_id)
    if room is not None and room.connections:
        raise ApiError(
            409,
            "document_in_use",
            f"document {doc_id!r} has {len(room.connections)} live connection(s); "
            "delete it when everyone has left",
        )
    if room is not None:
        # Flush and snapshot now, so that the idle unload finds nothing left to write and
        # cannot re-create the document's row after the delete.
        await server.rooms.save(doc_id)
    await server.store.delete_document(doc_id)
    # After the delete, so that no job board write can bring the document back.
    await server.jobs.cancel_document(doc_id)
    return Response(status_code=204)


def _form_text(form: FormData, name: str) -> str | None:
    values = form.getlist(name)
    if len(values) > 1:
        raise ApiError(422, "invalid", f"multipart field {name!r} was sent {len(values)} times")
    value = values[0] if values else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid", f"multipart field {name!r} must be text, not a file")
    return value


def _form_number(form: FormData, name: str, default: float) -> float:
    raw = _form_text(form, name)
    if raw is None or raw.strip() == "":
        return default
    value = float(raw) if _NUMBER.fullmatch(raw.strip()) else math.nan
    if not math.isfinite(value):
        raise ApiError(422, "invalid", f"{name} must be a finite number, got {raw[:80]!r}")
    return value


async def add_layer(request: Request) -> JSONResponse:
    """Add a raster layer from an uploaded image.
    ---
    summary: Upload an image and add it as a raster layer, in one step
    description: >
      Multipart form: `image` (PNG, JPEG or WebP file), optional `name` (default: the file
      name without extension), `blend_mode`, `opacity` (0-100), `x`, `y`. The image is
      validated and stored as a blob, then the layer is added on top as a change of the
      caller's: broadcast to everyone, in the shared history, undoable by the caller.
    tags: [layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
    requestBody:
      required: true
      content:
        multipart/form-data:
          schema:
            type: object
            required: [image]
            properties:
              image: {type: string, format: binary}
              name: {type: string}
              blend_mode: {type: string, default: normal}
              opacity: {type: number, minimum: 0, maximum: 100, default: 100}
              x: {type: number, default: 0}
              y: {type: number, default: 0}
    responses:
      201: {description: "{id, blob, width, height, layer: {...}}"}
      400: {description: corrupt image or malformed form}
      404: {description: unknown document}
      413: {description: image over a size limit (the message names it)}
      415: {description: "not PNG, JPEG or WebP"}
      422: {description: a field is invalid (the message names it)}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    form = await read_limited_form(request, server_of(request).settings.max_blob_bytes)
    try:
        data, filename = await form_image(form)
        name = _form_text(form, "name")
        if name is None:
            name = PurePath(filename).stem if filename else "Image"
        props: dict[str, Any] = {
            "name": validate_text(name, "name"),
            "blend_mode": validate_blend_mode(_form_text(form, "blend_mode") or "normal"),
            "opacity": validate_opacity(_form_number(form, "opacity", 100)),
            "x": _form_number(form, "x", 0),
            "y": _form_number(form, "y", 0),
        }
    finally:
        await form.close()
    stored = await store_image(request, data)
    async with room_for(request, doc_id) as room:
        layer_id = room.edit(
            principal,
            lambda canvas: canvas.add_layer(kind="raster", blob=stored.sha256, **props),
        )
        layer = Canvas(room.doc).get_layer(layer_id)
    return JSONResponse(
        {
            "id": layer_id,
            "blob": stored.sha256,
            "width": stored.info.width,
            "height": stored.info.height,
            "layer": layer_json(layer),
        },
        status_code=201,
        headers={"Location": f"/api/docs/{doc_id}/layers/{layer_id}.png"},
    )


routes = [
    Route("/api/docs", create_doc, methods=["POST"]),
    Route("/api/docs", list_docs, methods=["GET"]),
    Route("/api/docs/{doc_id}", get_doc, methods=["GET"]),
    Route("/api/docs/{doc_id}", rename_doc, methods=["PATCH"]),
    Route("/api/docs/{doc_id}", delete_doc, methods=["DELETE"]),
    Route("/api/docs/{doc_id}/layers", add_layer, methods=["POST"]),
]
