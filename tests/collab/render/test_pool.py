"""The render pool: worker processes render exactly what the compositor renders in-process,
fetch each image's bytes once, survive a dying worker, and refuse work beyond their queue."""

from __future__ import annotations

import asyncio
import io
import os
import signal

import numpy as np
import pytest
from PIL import Image

from canvasdoc.canvas import CanvasMeta, Layer, Stroke
from collab.render import tasks
from collab.render.compositor import Scene, render
from collab.render.pool import RenderBusy, RenderFailed, RenderPool

BLOB = "a" * 64


def photo() -> bytes:
    pixels = np.random.default_rng(3).integers(0, 256, (40, 60, 4), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


SCENE = Scene(
    CanvasMeta(width=96, height=64, background="#204060"),
    (
        Layer(id="photo", blob=BLOB, x=7, y=5, blend_mode="vivid-light", opacity=80),
        Layer(
            id="ink",
            kind="paint",
            strokes=(Stroke(id="s", points=(0, 0, 90, 60), size=9, hardness=0.3),),
        ),
    ),
)


class Store:
    """Counts what the pool asks for."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    async def fetch(self, hashes: list[str]) -> dict[str, bytes]:
        self.asked.append(list(hashes))
        return {h: photo() for h in hashes if h == BLOB}


@pytest.mark.parametrize("mode", ["process", "thread"])
async def test_pool_renders_what_the_compositor_renders(mode: str) -> None:
    store = Store()
    job = tasks.RenderJob(SCENE, (BLOB,))
    async with RenderPool(1, mode=mode) as pool:
        first = await pool.run(job, store.fetch)
        second = await pool.run(job, store.fetch)
    expected = render(SCENE, {BLOB: np.asarray(Image.open(io.BytesIO(photo())).convert("RGBA"))})
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(first.data))), expected)
    assert first.data == second.data
    assert (first.width, first.height, first.media_type) == (96, 64, "image/png")
    if mode == "process":  # the worker decoded the image once and kept it
        assert store.asked == [[BLOB]]


async def test_a_missing_image_renders_as_nothing() -> None:
    async def nothing(hashes: list[str]) -> dict[str, bytes]:
        return {}

    async with RenderPool(1) as pool:
        result = await pool.run(tasks.RenderJob(SCENE, ("b" * 64,)), nothing)
    assert result.width == 96


async def test_a_dead_worker_fails_its_render_and_is_replaced() -> None:
    store = Store()
    async with RenderPool(1) as pool:
        await pool.run(tasks.RenderJob(SCENE, (BLOB,)), store.fetch)
        os.kill(pool._processes[0].proc.pid, signal.SIGKILL)
        with pytest.raises(RenderFailed, match=r"died|exited"):
            await pool.run(tasks.RenderJob(SCENE, (BLOB,)), store.fetch)
        again = await pool.run(tasks.RenderJob(SCENE, (BLOB,)), store.fetch)
        assert again.width == 96
        assert store.asked[-1] == [BLOB]  # a fresh worker has an empty cache


async def test_errors_in_a_render_are_reported() -> None:
    async with RenderPool(1) as pool:
        with pytest.raises(RenderFailed, match="format must be one of"):
            await pool.run(tasks.RenderJob(SCENE, format="gif"), Store().fetch)
        assert (await pool.run(tasks.RenderJob(SCENE), Store().fetch)).width == 96


async def test_work_beyond_the_queue_is_refused() -> None:
    gate = asyncio.Event()
    uncached = "c" * 64  # an image no earlier test decoded: the render must fetch it

    async def slow(hashes: list[str]) -> dict[str, bytes]:
        await gate.wait()
        return {uncached: photo()}

    async with RenderPool(1, mode="thread", queue=0) as pool:
        first = asyncio.create_task(pool.run(tasks.RenderJob(SCENE, (uncached,)), slow))
        await asyncio.sleep(0.05)
        with pytest.raises(RenderBusy, match="limit 1"):
            await pool.run(tasks.RenderJob(SCENE), Store().fetch)
        gate.set()
        await first


async def test_lifecycle() -> None:
    pool = RenderPool(1, mode="thread")
    with pytest.raises(RuntimeError, match="not started"):
        await pool.run(tasks.RenderJob(SCENE), Store().fetch)
    await pool.start()
    with pytest.raises(RuntimeError, match="already started"):
        await pool.start()
    await pool.stop()
    await pool.stop()
    with pytest.raises(ValueError, match="mode"):
        RenderPool(1, mode="fork")


async def test_a_fetch_that_fails_fails_its_render_only() -> None:
    """The store fails while a worker waits for an image's bytes (found by the chaos soak:
    the worker then read the next job as those bytes, died, and failed an innocent render)."""

    class StoreDown(RuntimeError):
        pass

    async def failing(hashes: list[str]) -> dict[str, bytes]:
        raise StoreDown("store unavailable")

    store = Store()
    async with RenderPool(1) as pool:
        with pytest.raises(StoreDown):
            await pool.run(tasks.RenderJob(SCENE, ("d" * 64,)), failing)
        worker = pool._processes[0].proc.pid
        again = await pool.run(tasks.RenderJob(SCENE, (BLOB,)), store.fetch)
        assert again.width == 96
        assert pool._processes[0].proc.pid == worker  # the same worker, still in step
