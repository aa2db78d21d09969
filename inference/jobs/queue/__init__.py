"""Job queues: in-process (embedded mode) or Redis Streams (distributed mode), chosen by
``REDIS_URL``; redis is imported only for the latter."""

from __future__ import annotations

from typing import Any

from inference.jobs.queue.base import (
    JobNotFound,
    JobQueue,
    Lease,
    QueueAlreadyStarted,
    QueueError,
    QueueFull,
    QueueNotStarted,
    StaleAttempt,
)
from inference.jobs.queue.memory import MemoryQueue


def queue_from_url(url: str | None, **options: Any) -> JobQueue:
    """``None`` → :class:`MemoryQueue`; ``redis://`` / ``rediss://`` / ``unix://`` →
    :class:`~inference.jobs.queue.redis.RedisQueue`. ``options``: ``max_jobs``,
    ``max_attempts``, ``lease`` and, for Redis, ``namespace``."""
    if url is None:
        options.pop("namespace", None)
        return MemoryQueue(**options)
    if url.partition(":")[0].lower() in ("redis", "rediss", "unix"):
        from inference.jobs.queue.redis import RedisQueue

        return RedisQueue(url, **options)
    raise ValueError(f"unsupported job queue URL scheme in {url.partition(':')[0]!r}: use redis://")


__all__ = [
    "JobNotFound",
    "JobQueue",
    "Lease",
    "MemoryQueue",
    "QueueAlreadyStarted",
    "QueueError",
    "QueueFull",
    "QueueNotStarted",
    "StaleAttempt",
    "queue_from_url",
]
