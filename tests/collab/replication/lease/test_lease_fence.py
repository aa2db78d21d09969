"""Fencing tokens: every new holding of a lease name gets a greater token, a renewal keeps it
(run against every Lease implementation, see conftest.KINDS)."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio as aioredis

from collab.replication.lease import LeaseRegistry, MemoryLease
from collab.replication.lease.base import first_token
from collab.replication.lease.redis import RedisLease
from tests.collab.replication.lease.conftest import LeaseFactory
from tests.support.services import require_redis
from tests.support.waiting import eventually

TTL = 0.3


async def take(lease: object, name: str, ttl: float = TTL, timeout: float = 5.0) -> int:
    """Acquire ``name`` as soon as it is free; returns the fencing token."""
    assert hasattr(lease, "acquire")
    async with asyncio.timeout(timeout):
        while (token := await lease.acquire_fenced(name, ttl)) is None:
            await asyncio.sleep(0.01)
    assert isinstance(token, int)
    return token


async def test_a_renewal_keeps_the_token(make_lease: LeaseFactory) -> None:
    a, b = await make_lease(), await make_lease()
    first = await a.acquire_fenced("doc", 10)
    assert first is not None and first >= 1
    assert await a.acquire_fenced("doc", 10) == first
    assert await a.renew("doc", 10)
    assert await a.acquire_fenced("doc", 10) == first
    assert await b.acquire_fenced("doc", 10) is None


async def test_every_new_holding_gets_a_greater_token(make_lease: LeaseFactory) -> None:
    a, b = await make_lease(), await make_lease()
    tokens = [await take(a, "doc")]
    tokens.append(await take(b, "doc"))  # after a's lease expired
    await b.release("doc")
    tokens.append(await take(a, "doc"))
    await a.release("doc")
    tokens.append(await take(a, "doc"))  # the same owner taking it anew: a new token
    assert tokens == sorted(set(tokens)), tokens


async def test_tokens_of_a_name_never_repeat_across_competing_owners(
    make_lease: LeaseFactory,
) -> None:
    owners = [await make_lease() for _ in range(4)]
    seen: list[int] = []
    for _ in range(3):
        results = await asyncio.gather(*(o.acquire_fenced("doc", TTL) for o in owners))
        held = [t for t in results if t is not None]
        assert len(held) == 1, results
        seen.append(held[0])
        holder = owners[results.index(held[0])]
        await holder.release("doc")
    assert seen == sorted(set(seen)), seen


async def test_redis_tokens_keep_growing_when_the_counter_is_lost() -> None:
    # A Redis restarted without persistence loses the counter; the store still holds the
    # newest token it saw, so the next one must be greater or every snapshot is refused.
    url, namespace = require_redis(), f"test-{uuid.uuid4().hex}"
    keys = aioredis.from_url(url)
    try:
        async with RedisLease(url, namespace=namespace, owner="a") as a:
            before = await take(a, "doc")
            await a.release("doc")
            fence_key = a.keys.lease("fence:doc")
            assert int(await keys.get(fence_key)) == before
            await keys.delete(fence_key)
            await eventually(lambda: first_token() > before)  # a restart takes longer than 1 ms
            after = await take(a, "doc")
            assert after > before
            assert await a.acquire_fenced("doc", TTL) == after
            await keys.delete(fence_key)  # lost while held: the renewal gets a fresh one
            await eventually(lambda: first_token() > after)
            renewed = await a.acquire_fenced("doc", TTL)
            assert renewed is not None and renewed > after
    finally:
        await keys.delete(f"{namespace}:lease:doc", f"{namespace}:lease:fence:doc")
        await keys.aclose()


async def test_a_restarted_process_hands_out_greater_tokens() -> None:
    # A fresh registry is what a restarted single instance has: its tokens must stay above
    # the ones the store saw before, which start from the wall clock in milliseconds.
    async with MemoryLease(LeaseRegistry(), owner="a") as before:
        old = await take(before, "doc")
    await eventually(lambda: first_token() > old)  # a restart takes longer than a millisecond
    async with MemoryLease(LeaseRegistry(), owner="a") as after:
        assert await take(after, "doc") > old
