"""Backend specifics: the factory, the memory clock, Redis keys and connections."""

from __future__ import annotations

import socket
import uuid

import pytest
import redis.asyncio as aioredis

from collab.replication.lease import LeaseRegistry, LeaseUnavailable, MemoryLease, lease_from_url
from collab.replication.lease.redis import RedisLease
from tests.collab.replication.broker.conftest import PrivateRedis, private_redis
from tests.support.services import require_redis

__all__ = ["private_redis"]  # the fixture, shared with the broker tests


@pytest.mark.parametrize("url", [None, "memory://"])
def test_factory_memory(url: str | None) -> None:
    registry = LeaseRegistry()
    lease = lease_from_url(url, registry=registry, owner="o")
    assert isinstance(lease, MemoryLease)
    assert lease.registry is registry
    assert lease.owner == "o"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://example.com"])
def test_factory_redis(url: str) -> None:
    lease = lease_from_url(url, namespace="ns")
    assert isinstance(lease, RedisLease)
    assert lease.keys.lease("doc") == "ns:lease:doc"


@pytest.mark.parametrize("url", ["postgres://u:secret@h/db", "memory://x", ""])
def test_factory_rejects_unknown_urls(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported lease URL") as info:
        lease_from_url(url)
    assert "secret" not in str(info.value)


def test_redis_lease_needs_exactly_one_of_url_and_conn() -> None:
    with pytest.raises(ValueError, match="exactly one of url or conn"):
        RedisLease()


async def test_memory_lease_follows_its_clock() -> None:
    now = [100.0]
    registry = LeaseRegistry()
    a = MemoryLease(registry, owner="a", clock=lambda: now[0])
    b = MemoryLease(registry, owner="b", clock=lambda: now[0])
    async with a, b:
        assert await a.acquire("doc", 5)
        now[0] = 104.9
        assert not await b.acquire("doc", 5)
        now[0] = 105.0
        assert await b.acquire("doc", 5)
        assert not await a.renew("doc", 5)


async def test_redis_key_lives_in_the_namespace_with_the_ttl() -> None:
    url = require_redis()
    namespace = f"test-{uuid.uuid4().hex}"
    admin = aioredis.Redis.from_url(url)
    try:
        async with RedisLease(url, namespace=namespace, owner="owner-1") as lease:
            assert await lease.acquire("doc", 7.5)
            key = f"{namespace}:lease:doc"
            assert await admin.get(key) == b"owner-1"
            assert 7000 < await admin.pttl(key) <= 7500
            await lease.release("doc")
            assert await admin.exists(key) == 0
    finally:
        await admin.aclose()


async def test_redis_outage_raises_and_a_restarted_server_works_again(
    private_redis: PrivateRedis,
) -> None:
    await private_redis.wait_ready()
    async with RedisLease(private_redis.url, connect_timeout=1.0) as lease:
        assert await lease.acquire("doc", 10)
        private_redis.kill()
        with pytest.raises(LeaseUnavailable, match="renew of lease 'doc' failed"):
            await lease.renew("doc", 10)
        with pytest.raises(LeaseUnavailable, match="reading lease 'doc' failed"):
            await lease.holder("doc")
        private_redis.start()
        await private_redis.wait_ready()
        # The restarted server forgot the lease and the cached scripts; both come back.
        assert not await lease.renew("doc", 10)
        assert await lease.acquire("doc", 10)
        assert await lease.holder("doc") == lease.owner


async def test_an_injected_client_is_left_open() -> None:
    conn = aioredis.Redis.from_url(require_redis(), decode_responses=True)
    try:
        namespace = f"test-{uuid.uuid4().hex}"
        async with RedisLease(conn=conn, namespace=namespace, owner="me") as lease:
            assert await lease.acquire("doc", 10)
            assert await lease.holder("doc") == "me"
            await lease.release("doc")
        assert await conn.ping()  # type: ignore[misc]
    finally:
        await conn.aclose()


async def test_unreachable_redis_is_lease_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lease = RedisLease(f"redis://127.0.0.1:{port}/0", connect_timeout=1.0)
    with pytest.raises(LeaseUnavailable, match="cannot reach Redis"):
        await lease.start()
    assert not lease.started
