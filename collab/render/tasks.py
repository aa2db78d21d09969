"""Render jobs: plain, picklable requests that a worker turns into encoded images.

A job names the images it shows by hash (``RenderJob.images``); their bytes travel only when
the worker has not decoded them already. Blobs are immutable, so each worker keeps decoded
images by hash (least recently used go first, ``CACHE_BYTES`` in all) and asks for the bytes
of the others (:func:`missing`). A repeated export or thumbnail of a document then ships
nothing but the scene.
"""

from __future__ import annotations

import io
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from collab.render.compositor import Region, Scene, output_size, render
from collab.render.images import decode_rgba

FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
CACHE_BYTES = 512 * 1024 * 1024
PNG_COMPRESS_LEVEL = 3  # zlib level: 6 takes twice as long for a few percent smaller files


@dataclass(frozen=True)
class RenderJob:
    """Render ``scene`` (or its layer ``layer_id``) at ``scale`` and encode it as ``format``;
    ``images`` are the blob hashes it needs (see :meth:`Scene.blobs`); staged proposals are
    drawn only if ``proposals``."""

    scene: Scene
    images: tuple[str, ...] = ()
    format: str = "png"
    scale: float = 1.0
    quality: int = 90  # JPEG and WebP
    layer_id: str | None = None
    region: Region | None = None
    proposals: bool = False


@dataclass(frozen=True)
class RenderResult:
    data: bytes = field(repr=False)
    media_type: str
    width: int
    height: int
    render_ms: float
    encode_ms: float


class DecodedCache:
    """Least-recently-used decoded images by blob hash, bounded in bytes; thread-safe."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def lookup(self, digest: str) -> np.ndarray | None:
        with self._lock:
            found = self._items.get(digest)
            if found is not None:
                self._items.move_to_end(digest)
            return found

    def decode(self, digest: str, data: bytes) -> np.ndarray:
        pixels = decode_rgba(data)
        pixels.setflags(write=False)  # shared between renders: nobody may draw into it
        with self._lock:
            if digest not in self._items and pixels.nbytes <= self._limit:
                self._items[digest] = pixels
                self._bytes += pixels.nbytes
                while self._bytes > self._limit:
                    _, dropped = self._items.popitem(last=False)
                    self._bytes -= dropped.nbytes
        return pixels


CACHE = DecodedCache(CACHE_BYTES)


def cached_images(job: RenderJob) -> dict[str, np.ndarray]:
    """The job's images already decoded here (held, so no eviction can take them now)."""
    return {h: pixels for h in job.images if (pixels := CACHE.lookup(h)) is not None}


def missing(job: RenderJob, have: Mapping[str, object]) -> list[str]:
    return [digest for digest in job.images if digest not in have]


def run(job: RenderJob, images: dict[str, np.ndarray], blobs: Mapping[str, bytes]) -> RenderResult:
    """Decode ``blobs`` (the bytes of images not in ``images``), render, encode.

    An image with neither pixels nor bytes (not in the store) draws nothing.
    """
    started = time.perf_counter()
    for digest, data in blobs.items():
        if digest not in images:
            images[digest] = CACHE.decode(digest, data)
    pixels = render(
        job.scene,
        images,
        scale=job.scale,
        region=job.region,
        layer_id=job.layer_id,
        proposals=job.proposals,
    )
    rendered = time.perf_counter()
    data = encode(pixels, job.format, quality=job.quality)
    done = time.perf_counter()
    height, width = pixels.shape[:2]
    return RenderResult(
        data,
        FORMATS[job.format],
        width,
        height,
        round((rendered - started) * 1000, 1),
        round((done - rendered) * 1000, 1),
    )


def encode(pixels: np.ndarray, fmt: str, *, quality: int = 90) -> bytes:
    """``(h, w, 4)`` uint8 RGBA as PNG, JPEG (flattened onto white) or WebP bytes."""
    image = Image.fromarray(pixels, "RGBA")
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    elif fmt == "jpeg":
        flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
        flat.alpha_composite(image)
        flat.convert("RGB").save(buffer, "JPEG", quality=quality)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=quality, method=4)
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return buffer.getvalue()


def warm_up() -> None:
    """Run once in each new worker so that the first real job pays no import or JIT cost."""
    scene = Scene.from_update(b"")
    render(scene, {}, scale=16 / max(output_size(scene.meta, 1.0)))
