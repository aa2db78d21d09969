from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from inference.jobs.model import Job, JobKind
from inference.jobs.queue import JobQueue, MemoryQueue
from tests.support.clock import ManualClock
from tests.support.services import require_redis


def make_job(**changes: Any) -> Job:
    base = Job(
        id=Job.new_id(),
        kind=JobKind.GENERATIVE_FILL,
        doc_id="poster",
        user_id="ann",
        user_name="Ann",
        input_blob="a" * 64,
        mask_blob="b" * 64,
        params={"prompt": "a red sofa", "steps": 2, "seed": 7, "name": None},
        x=10,
        y=20,
        input_bytes=321,
    )
    return base.with_(**changes)


class QueueFactory:
    """Builds unstarted queues of one kind (``factory(**options)``); the queues of one test
    share their data. ``pass_time`` lets leases run out: a memory queue's clock jumps, while
    Redis times its leases (a consumer's idle time) on its own clock, so there the test
    really waits."""

    def __call__(self, **options: Any) -> JobQueue:
        raise NotImplementedError

    async def pass_time(self, seconds: float) -> None:
        raise NotImplementedError


class _MemoryQueues(QueueFactory):
    def __init__(self) -> None:
        self.clock = ManualClock()
        self._queue: MemoryQueue | None = None

    def __call__(self, **options: Any) -> JobQueue:
        # One object per test: a memory queue's data lives in the object.
        if self._queue is None:
            self._queue = MemoryQueue(clock=self.clock, **options)
        return self._queue

    async def pass_time(self, seconds: float) -> None:
        self.clock.advance(seconds)


class _SQLiteQueues(QueueFactory):
    """Every call opens the same file (as a restarted server would); leases run on a
    manual clock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = ManualClock()

    def __call__(self, **options: Any) -> JobQueue:
        from inference.jobs.queue.sqlite import SQLiteQueue

        return SQLiteQueue(self.path, clock=self.clock, **options)

    async def pass_time(self, seconds: float) -> None:
        self.clock.advance(seconds)


class _RedisQueues(QueueFactory):
    def __init__(self, url: str, namespace: str) -> None:
        self.url, self.namespace = url, namespace

    def __call__(self, **options: Any) -> JobQueue:
        from inference.jobs.queue.redis import RedisQueue

        return RedisQueue(self.url, namespace=self.namespace, **options)

    async def pass_time(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def make_queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[QueueFactory]:
    if request.param == "memory":
        yield _MemoryQueues()
        return
    if request.param == "sqlite":
        yield _SQLiteQueues(tmp_path / "data" / "jobs.db")
        return
    import redis.asyncio as aioredis

    url = require_redis()
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    yield _RedisQueues(url, namespace)
    client = aioredis.Redis.from_url(url)
    keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
