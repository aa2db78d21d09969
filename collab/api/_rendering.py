"""What the routes that render share: query parameters, the render step and its limits.

``render_state`` turns one document state (the live room's, or a stored version's) into an
image response: the state is read into a :class:`Scene` in a thread, checked against the pixel
limit, and rendered in the render pool, which asks for the image bytes it has not decoded yet.
Renders are deterministic, so the ETag is a hash of the state, the images and the parameters.
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

from collab.api._common import server_of
from collab.api.errors import ApiError
from collab.render.compositor import MAX_SCALE, Scene, output_size
from collab.render.pool import RenderBusy, RenderFailed, RenderPool, shared_pool
from collab.render.tasks import FORMATS, RenderJob, RenderResult
from persistence.base import BlobNotFound

log = logging.getLogger(__name__)

RENDER_VERSION = "1"  # bump when the compositor's output changes, so ETags change with it
MAX_THUMBNAIL = 4096


def render_pool_of(request: Request) -> RenderPool:
    """The server's render pool if it owns one, else the process-wide pool."""
    server = server_of(request)
    pool = getattr(server, "render_pool", None)
    if isinstance(pool, RenderPool):
        return pool
    settings = server.settings
    return shared_pool(settings.render_workers, settings.render_mode)


def query_format(request: Request, default: str = "png") -> str:
    fmt = request.query_params.get("format", default).lower()
    fmt = "jpeg" if fmt == "jpg" else fmt
    if fmt not in FORMATS:
        raise ApiError(422, "invalid", f"format must be one of png, jpeg, webp; got {fmt!r}")
    return fmt


def query_scale(request: Request) -> float:
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


def query_proposals(request: Request) -> bool:
    raw = request.query_params.get("proposals", "0")
    if raw.lower() not in ("0", "1", "true", "false"):
        raise ApiError(
            422, "invalid", f"proposals must be 1 (include staged proposals) or 0, got {raw!r}"
        )
    return raw.lower() in ("1", "true")


def query_quality(request: Request) -> int:
    raw = request.query_params.get("quality", "90")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise ApiError(422, "invalid", f"quality must be an integer from 1 to 100, got {raw!r}")
    return int(raw)


def query_thumbnail_size(request: Request) -> int:
    default = server_of(request).settings.thumbnail_size
    raw = request.query_params.get("size", str(default))
    if not raw.isdigit() or not 16 <= int(raw) <= MAX_THUMBNAIL:
        raise ApiError(
            422, "invalid", f"size must be an integer from 16 to {MAX_THUMBNAIL}, got {raw!r}"
        )
    return int(raw)


def safe_name(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:80]
    return cleaned or "canvas"


async def render_state(
    request: Request,
    state: bytes,
    *,
    doc_id: str,
    fmt: str,
    filename: str,
    scale: float | None = None,
    fit: int | None = None,
    quality: int = 90,
    layer_id: str | None = None,
    proposals: bool = False,
    etag: str | None = None,
    what: str = "an export",
) -> Response:
    """Render ``state`` of ``doc_id`` as an image response (``fit``: scale to fit a square box,
    never enlarged). ``etag`` names the state when the caller has a cheaper name for it."""
    server = server_of(request)
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
            f"{what} of {width}x{height} = {width * height} pixels exceeds the limit of "
            f"{limit} pixels (NEXUS_MAX_EXPORT_PIXELS); ask for a smaller scale",
        )
    needed = scene.blobs(layer_id=layer_id, proposals=proposals)
    if etag is None:
        etag = _etag(state, needed, fmt, scale, quality, layer_id, proposals)
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
        scene,
        tuple(needed),
        format=fmt,
        scale=scale,
        quality=quality,
        layer_id=layer_id,
        proposals=proposals,
    )
    result = await run_render(request, job, fetch)
    if missing:
        # Not cacheable: the same state renders differently once the images are back.
        log.warning("rendered without missing blobs", extra={"doc_id": doc_id, "missing": missing})
        del headers["ETag"]
        headers["X-Missing-Blobs"] = ",".join(missing)
    headers["Content-Disposition"] = f'inline; filename="{filename}.{fmt}"'
    headers["X-Render-Ms"] = str(result.render_ms)
    headers["X-Encode-Ms"] = str(result.encode_ms)
    return Response(result.data, media_type=result.media_type, headers=headers)


async def run_render(
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
    state: bytes,
    blobs: list[str],
    fmt: str,
    scale: float,
    quality: int,
    layer_id: str | None,
    proposals: bool,
) -> str:
    digest = hashlib.sha256(state)
    params = (RENDER_VERSION, blobs, fmt, scale, quality, layer_id, proposals)
    digest.update(repr(params).encode())
    return f'W/"{digest.hexdigest()[:40]}"'
