"""Pick a :class:`Lease` implementation from a URL (``REDIS_URL``)."""

from __future__ import annotations

from typing import Any

from collab.replication.lease.base import Lease
from foundation.urls import redact_url

SUPPORTED_SCHEMES = ("memory://", "redis://", "rediss://")


def lease_from_url(url: str | None, **kwargs: Any) -> Lease:
    """Build an unstarted lease; ``kwargs`` go to its constructor (``owner=``, ...).

    - ``None`` or ``memory://`` → :class:`~collab.replication.lease.memory.MemoryLease` (pass
      ``registry=`` to share leases between several in one process)
    - ``redis://`` / ``rediss://`` → :class:`~collab.replication.lease.redis.RedisLease`
    """
    scheme = "memory" if url is None else url.partition("://")[0].lower()
    if scheme == "memory" and (url is None or url.lower() == "memory://"):
        from collab.replication.lease.memory import MemoryLease

        return MemoryLease(**kwargs)
    if scheme in ("redis", "rediss") and url is not None:
        from collab.replication.lease.redis import RedisLease

        return RedisLease(url, **kwargs)
    shown = redact_url(url) if isinstance(url, str) else url
    raise ValueError(f"unsupported lease URL {shown!r}; supported: {', '.join(SUPPORTED_SCHEMES)}")
