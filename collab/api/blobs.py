"""Blobs: content-addressed images, uploaded once and served forever.

``PUT``/``POST /api/blobs`` store an image and answer its sha256 (putting the same bytes again
stores nothing new); ``GET /api/blobs/{sha256}`` serves it with a strong ETag (the hash) and
immutable caching. Every upload is validated with Pillow before anything is stored (see
:mod:`collab.render.images`), and a blob is written in one transaction, so nothing
half-written or unvalidated is ever stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from collab.api._common import principal_of, server_of
from collab.api.errors import ApiError
from collab.render.images import (
    CorruptImage,
    ImageInfo,
    ImageLimits,
    ImageRejected,
    ImageTooLarge,
    UnsupportedImage,
    inspect_image,
)
from collab.settings import Settings
from persistence.base import BlobInfo, BlobNotFound, check_sha256

IMMUTABLE = "public, max-age=31536000, immutable"
_MULTIPART_OVERHEAD = 64 * 1024  # form fields and part headers around the image
_STATUS = {UnsupportedImage: 415, CorruptImage: 400, ImageTooLarge: 413}


def image_limits(settings: Settings) -> ImageLimits:
    return ImageLimits(
        max_bytes=settings.max_blob_bytes,
        max_dimension=settings.max_image_dimension,
        max_pixels=settings.max_image_pixels,
    )


def _too_large(size: int | str, limit: int) -> ApiError:
    return ApiError(
        413,
        "blob_too_large",
        f"upload of {size} bytes exceeds the limit of {limit} bytes (NEXUS_MAX_BLOB_BYTES)",
    )


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400, "bad_request", f"Content-Length must be an integer, got {raw!r}"
        ) from None


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` bytes
    (from Content-Length before reading, else while streaming): never buffered whole."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise _too_large(declared, limit)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_large(f"more than {limit}", limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_limited_form(request: Request, limit: int) -> FormData:
    """The multipart (or urlencoded) form, refused with 413 past ``limit`` bytes of body."""
    declared = _declared_length(request)
    if declared is not None and declared > limit + _MULTIPART_OVERHEAD:
        raise _too_large(declared, limit)
    seen = 0

    async def receive() -> Message:
        nonlocal seen
        message = await request.receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit + _MULTIPART_OVERHEAD:
                raise _too_large(f"more than {limit}", limit)
        return message

    limited = Request(request.scope, receive)
    return await limited.form(max_files=1, max_fields=32, max_part_size=64 * 1024)


async def form_image(form: FormData, field: str = "image") -> tuple[bytes, str | None]:
    """The bytes and file name of the form's file field ``field``."""
    value = form.get(field)
    if not isinstance(value, UploadFile):
        present = ", ".join(sorted(form.keys())) or "none"
        raise ApiError(
            422,
            "invalid",
            f"multipart field {field!r} must be an image file; fields sent: {present}",
        )
    return await value.read(), value.filename


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    info: ImageInfo
    size: int
    created: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.info.media_type,
            "width": self.info.width,
            "height": self.info.height,
            "created": self.created,
            "url": f"/api/blobs/{self.sha256}",
        }


def _validate(data: bytes, limits: ImageLimits) -> tuple[str, ImageInfo]:
    return hashlib.sha256(data).hexdigest(), inspect_image(data, limits)


async def store_image(request: Request, data: bytes, *, expected: str | None = None) -> StoredImage:
    """Validate ``data`` (off the event loop) and store it as a blob; errors as ApiError."""
    server = server_of(request)
    try:
        digest, info = await anyio.to_thread.run_sync(
            _validate, data, image_limits(server.settings)
        )
    except ImageRejected as exc:
        raise ApiError(_STATUS.get(type(exc), 422), exc.code, str(exc)) from None
    if expected is not None and digest != expected:
        raise ApiError(
            422,
            "hash_mismatch",
            f"the uploaded bytes hash to {digest}, not to {expected} named in the URL",
        )
    created = await server.store.put_blob(
        digest, data, media_type=info.media_type, width=info.width, height=info.height
    )
    return StoredImage(digest, info, len(data), created)


async def _upload(request: Request, expected: str | None = None) -> JSONResponse:
    await principal_of(request)
    limit = server_of(request).settings.max_blob_bytes
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await read_limited_form(request, limit)
        try:
            data, _ = await form_image(form)
        finally:
            await form.close()
    else:
        data = await read_limited_body(request, limit)
    stored = await store_image(request, data, expected=expected)
    return JSONResponse(
        stored.to_json(),
        status_code=201 if stored.created else 200,
        headers={"Location": f"/api/blobs/{stored.sha256}"},
    )


async def put_blob(request: Request) -> JSONResponse:
    """Upload an image as a blob (idempotent).
    ---
    summary: Upload an image (PNG, JPEG or WebP) as a content-addressed blob
    description: >
      The body is the image's bytes (or a multipart form with an `image` file). It is
      validated before it is stored; the answer names its sha256. Uploading the same bytes
      again stores nothing new and answers 200. Uploading refreshes the blob's stored time,
      which protects it from `nexus-canvas gc-blobs` until a document references it.
    tags: [blobs]
    requestBody:
      required: true
      content:
        image/png: {schema: {type: string, format: binary}}
        image/jpeg: {schema: {type: string, format: binary}}
        image/webp: {schema: {type: string, format: binary}}
        multipart/form-data:
          schema:
            type: object
            required: [image]
            properties: {image: {type: string, format: binary}}
    responses:
      201: {description: "Stored: {sha256, size, media_type, width, height, created, url}"}
      200: {description: "Already stored (same answer, created false)"}
      400: {description: "corrupt_image: truncated or damaged data"}
      413: {description: "blob_too_large (bytes) or image_too_large (pixels); names the limit"}
      415: {description: "unsupported_media_type: not PNG, JPEG or WebP (GIF, text, ...)"}
      422: {description: "invalid: a multipart form without an `image` file"}
    """
    return await _upload(request)


async def put_blob_at(request: Request) -> JSONResponse:
    """Upload an image under the hash the client computed.
    ---
    summary: Upload an image to its own address
    description: As `PUT /api/blobs`, but 422 `hash_mismatch` unless the bytes hash to `sha256`.
    tags: [blobs]
    parameters:
      - {name: sha256, in: path, required: true, schema: {type: string, pattern: "^[0-9a-f]{64}$"}}
    requestBody:
      required: true
      content:
        image/png: {schema: {type: string, format: binary}}
        image/jpeg: {schema: {type: string, format: binary}}
        image/webp: {schema: {type: string, format: binary}}
        multipart/form-data:
          schema:
            type: object
            required: [image]
            properties: {image: {type: string, format: binary}}
    responses:
      201: {description: Stored}
      200: {description: Already stored}
      400: {description: corrupt image or malformed hash}
      413: {description: too large}
      415: {description: unsupported media type}
      422: {description: "hash_mismatch: the bytes hash to another value"}
    """
    return await _upload(request, expected=_path_hash(request))


def _path_hash(request: Request) -> str:
    try:
        return check_sha256(request.path_params["sha256"])
    except ValueError as exc:
        raise ApiError(400, "bad_request", str(exc)) from None


def _etag(digest: str) -> str:
    return f'"{digest}"'


def _matches(request: Request, digest: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or _etag(digest) in tags


def _blob_headers(info: BlobInfo) -> dict[str, str]:
    headers = {
        "ETag": _etag(info.sha256),
        "Cache-Control": IMMUTABLE,
        "X-Content-Type-Options": "nosniff",
    }
    if info.width is not None and info.height is not None:
        headers["X-Image-Size"] = f"{info.width}x{info.height}"
    return headers


async def get_blob(request: Request) -> Response:
    """Download a blob.
    ---
    summary: Download a blob by its sha256
    description: >
      Strong ETag (the hash in quotes) and `Cache-Control: public, max-age=31536000,
      immutable`: a blob never changes. `If-None-Match` with the ETag answers 304.
    tags: [blobs]
    parameters:
      - {name: sha256, in: path, required: true, schema: {type: string, pattern: "^[0-9a-f]{64}$"}}
    responses:
      200: {description: The image bytes with their media type}
      304: {description: Not modified}
      400: {description: malformed hash}
      404: {description: no such blob}
    """
    await principal_of(request)
    digest = _path_hash(request)
    store = server_of(request).store
    try:
        if _matches(request, digest):
            info = await store.blob_info(digest)
            return Response(status_code=304, headers=_blob_headers(info))
        if request.method == "HEAD":
            info = await store.blob_info(digest)
            headers = {**_blob_headers(info), "Content-Length": str(info.size)}
            return Response(status_code=200, headers=headers, media_type=info.media_type)
        record = await store.get_blob(digest)
    except BlobNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return Response(record.data, media_type=record.media_type, headers=_blob_headers(record))


routes = [
    Route("/api/blobs", put_blob, methods=["PUT", "POST"]),
    Route("/api/blobs/{sha256}", put_blob_at, methods=["PUT"]),
    Route("/api/blobs/{sha256}", get_blob, methods=["GET", "HEAD"]),
]
