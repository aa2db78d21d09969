from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support.servers import RunningServer


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url, timeout=60) as client:
        yield client


def png(width: int = 64, height: int = 48, *, seed: int = 1, alpha: bool = True) -> bytes:
    """A noisy PNG (so every test image is different unless the seed repeats)."""
    rng = np.random.default_rng(seed)
    channels = 4 if alpha else 3
    pixels = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return encode(Image.fromarray(pixels, "RGBA" if alpha else "RGB"), "PNG")


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
