from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from inference.jobs.model import Job, JobKind
from inference.jobs.queue import JobQueue, MemoryQueue
from tests.support.services import require_redis

QueueFactory = Callable[..., JobQueue]


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


@pytest.fixture(params=["memory", "redis"])
async def make_queue(request: pytest.FixtureRequest) -> AsyncIterator[QueueFactory]:
    """Builds unstarted queues of one kind; the queues of one test share their data."""
    if request.param == "memory":
        shared: dict[str, MemoryQueue] = {}

        def memory(**options: Any) -> JobQueue:
            # One object per test: a memory queue's data lives in the object.
            if "q" not in shared:
                shared["q"] = MemoryQueue(**options)
            return shared["q"]

        yield memory
        return
    import redis.asyncio as aioredis

    from inference.jobs.queue.redis import RedisQueue

    url = require_redis()
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    yield lambda **options: RedisQueue(url, namespace=namespace, **options)
    client = aioredis.Redis.from_url(url)
    keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
