"""One contract suite, run against every Lease implementation (see conftest.KINDS)."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from collab.replication.lease import AlreadyStarted, Lease, NotStarted
from tests.collab.replication.lease.conftest import LeaseFactory

TTL = 0.3


async def wait_acquired(lease: Lease, name: str, ttl: float, timeout: float = 5.0) -> float:
    """Retry ``acquire`` until it succeeds; returns how long that took."""
    start = time.monotonic()
    async with asyncio.timeout(timeout):
        while not await lease.acquire(name, ttl):
            await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_kind_and_owner(make_lease: LeaseFactory) -> None:
    a, b = await make_lease(), await make_lease()
    assert a.kind in ("memory", "redis")
    assert a.owner != b.owner
    named = await make_lease(owner="instance-1")
    assert named.owner == "instance-1"


async def test_lifecycle(make_lease: LeaseFactory) -> None:
    lease = await make_lease()
    with pytest.raises(AlreadyStarted, match="already started"):
        await lease.start()
    await lease.stop()
    await lease.stop()
    with pytest.raises(NotStarted, match="not started"):
        await lease.acquire("doc", TTL)
    async with lease:
        assert await lease.acquire("doc", TTL)
    assert not lease.started


async def test_a_lease_is_exclusive(make_lease: LeaseFactory) -> None:
    a, b = await make_lease(), await make_lease()
    assert await a.holder("doc") is None
    assert await a.acquire("doc", 10)
    assert not await b.acquire("doc", 10)
    assert await b.holder("doc") == a.owner
    assert await a.acquire("doc", 10)  # the holder may acquire again: a renewal
    assert await b.acquire("other-doc", 10)  # names are independent
    assert await a.holder("other-doc") == b.owner


async def test_expiry_lets_another_owner_take_over(make_lease: LeaseFactory) -> None:
    a, b = await make_lease(), await make_lease()
    assert await a.acquire("doc", TTL)
    assert not await b.acquire("doc", TTL)
    waited = await wait_acquired(b, "doc", 10)
    assert waited > TTL / 2
    assert await a.holder("doc") == b.owner


async def test_renew_extends_only_the_holders_lease(make_lease: LeaseFactory) -> None:
    a, b = await make_lease(), await make_lease()
    assert not await a.renew("doc", TTL)  # nothing to renew
    assert await a.acquire("doc", TTL)
    assert not await b.renew("doc", 10)
    assert await a.renew("doc", 10)
    await asyncio.sleep(TTL + 0.1)  # past the first TTL: the renewal keeps it
    assert not await b.acquire("doc", TTL)
    assert await b.holder("doc") == a.owner


async def test_release_only_by_the_holder(make_lease: LeaseFactory) -> None:
    a, b = await make_lease(), await make_lease()
    await b.release("doc")  # releasing a free lease is a no-op
    assert await a.acquire("doc", 10)
    await b.release("doc")
    assert await a.holder("doc") == a.owner
    await a.release("doc")
    assert await a.holder("doc") is None
    assert await b.acquire("doc", 10)


async def test_an_expired_and_retaken_lease_is_safe_from_its_old_holder(
    make_lease: LeaseFactory,
) -> None:
    old, new = await make_lease(), await make_lease()
    assert await old.acquire("doc", TTL)
    await wait_acquired(new, "doc", 10)
    assert not await old.renew("doc", 10)
    await old.release("doc")
    assert not await old.acquire("doc", 10)
    assert await old.holder("doc") == new.owner
    assert await new.renew("doc", 10)


async def test_an_expired_lease_is_not_renewed(make_lease: LeaseFactory) -> None:
    a = await make_lease()
    assert await a.acquire("doc", TTL)
    async with asyncio.timeout(5):
        while await a.holder("doc") is not None:
            await asyncio.sleep(0.01)
    assert not await a.renew("doc", 10)
    assert await a.holder("doc") is None


async def test_concurrent_acquire_has_exactly_one_winner(make_lease: LeaseFactory) -> None:
    leases = [await make_lease() for _ in range(10)]
    for _ in range(3):
        results = await asyncio.gather(*(lease.acquire("race", 10) for lease in leases))
        assert sum(results) == 1
        winner = leases[results.index(True)]
        assert await winner.holder("race") == winner.owner
        await winner.release("race")


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf, "1", True])
async def test_bad_ttl_is_named(make_lease: LeaseFactory, ttl: object) -> None:
    lease = await make_lease()
    with pytest.raises(ValueError, match="lease ttl must be"):
        await lease.acquire("doc", ttl)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lease ttl must be"):
        await lease.renew("doc", ttl)  # type: ignore[arg-type]


async def test_bad_name_and_owner(make_lease: LeaseFactory) -> None:
    lease = await make_lease()
    with pytest.raises(ValueError, match="lease name must be a non-empty string"):
        await lease.acquire("", 1)
    with pytest.raises(ValueError, match="lease owner must be a non-empty string"):
        await make_lease(owner="")
