"""Pick a :class:`Broker` implementation from a URL (``REDIS_URL``)."""

from __future__ import annotations

from typing import Any

from collab.replication.broker.base import Broker
from foundation.urls import redact_url

SUPPORTED_SCHEMES = ("memory://", "redis://", "rediss://")


def broker_from_url(url: str | None, **kwargs: Any) -> Broker:
    """Build an unstarted broker; ``kwargs`` go to its constructor.

    - ``None`` or ``memory://`` → :class:`~collab.replication.broker.memory.MemoryBroker`
      (pass ``hub=`` to connect several in one process; without it the broker is alone)
    - ``redis://`` / ``rediss://`` → :class:`~collab.replication.broker.redis.RedisBroker`
    """
    scheme = "memory" if url is None else url.partition("://")[0].lower()
    if scheme == "memory" and (url is None or url.lower() == "memory://"):
        from collab.replication.broker.memory import MemoryBroker

        return MemoryBroker(**kwargs)
    if scheme in ("redis", "rediss") and url is not None:
        from collab.replication.broker.redis import RedisBroker

        return RedisBroker(url, **kwargs)
    shown = redact_url(url) if isinstance(url, str) else url
    raise ValueError(f"unsupported broker URL {shown!r}; supported: {', '.join(SUPPORTED_SCHEMES)}")
