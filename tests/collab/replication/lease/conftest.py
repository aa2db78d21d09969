"""Lease fixtures: leases of one kind that compete for the same names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from collab.replication.lease import Lease, LeaseRegistry, MemoryLease

KINDS = ["memory", "redis"]

LeaseFactory = Callable[..., Awaitable[Lease]]


@pytest.fixture(params=KINDS)
async def make_lease(request: pytest.FixtureRequest) -> AsyncIterator[LeaseFactory]:
    """Starts leases (one per owner) sharing one registry / Redis namespace per test."""
    kind: str = request.param
    registry = LeaseRegistry()
    namespace = f"test-{uuid.uuid4().hex}"
    url = ""
    if kind == "redis":
        from tests.support.services import require_redis

        url = require_redis()
    made: list[Lease] = []

    async def make(**kwargs: Any) -> Lease:
        lease: Lease
        if kind == "memory":
            lease = MemoryLease(registry, **kwargs)
        else:
            from collab.replication.lease.redis import RedisLease

            lease = RedisLease(url, namespace=namespace, **kwargs)
        await lease.start()
        made.append(lease)
        return lease

    try:
        yield make
    finally:
        for lease in made:
            await lease.stop()
