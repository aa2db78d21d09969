"""Job queues: in-process (tests, a server without a data directory), a SQLite file (the
embedded mode: jobs survive a restart) or Redis Streams (distributed mode), chosen by URL;
redis is imported only for the latter."""

from __future__ import annotations

from typing import Any

from inference.jobs.queue.base import (
    JobNotFound,
    JobQueue,
    Lease,
    QueueAlreadyStarted,
    QueueError,
    QueueFull,
    QueueInUse,
    QueueNotStarted,
    QueueUnavailable,
    StaleAttempt,
)
from inference.jobs.queue.memory import MemoryQueue


def queue_from_url(url: str | None, **options: Any) -> JobQueue:
    """``None`` → :class:`MemoryQueue`; ``sqlite:///path/jobs.db`` →
    :class:`~inference.jobs.queue.sqlite.SQLiteQueue`; ``redis://`` / ``rediss://`` /
    ``unix://`` → :class:`~inference.jobs.queue.redis.RedisQueue`. ``options``:
    ``max_jobs``, ``max_attempts``, ``lease`` and, for Redis, ``namespace``."""
    scheme = url.partition(":")[0].lower() if url is not None else None
    if scheme not in ("redis", "rediss", "unix"):
        options.pop("namespace", None)
    if url is None:
        return MemoryQueue(**options)
    if scheme == "sqlite":
        from inference.jobs.queue.sqlite import SQLiteQueue, path_of

        return SQLiteQueue(path_of(url), **options)
    if scheme in ("redis", "rediss", "unix"):
        from inference.jobs.queue.redis import RedisQueue

        return RedisQueue(url, **options)
    raise ValueError(
        f"unsupported job queue URL scheme in {url.partition(':')[0]!r}: use sqlite:/// or redis://"
    )


__all__ = [
    "JobNotFound",
    "JobQueue",
    "Lease",
    "MemoryQueue",
    "QueueAlreadyStarted",
    "QueueError",
    "QueueFull",
    "QueueInUse",
    "QueueNotStarted",
    "QueueUnavailable",
    "StaleAttempt",
    "queue_from_url",
]
