"""RedisBroker specifics: the wire, one subscriber connection, surviving kills and restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest
import redis.asyncio as aioredis

from collab.replication.broker import BrokerUnavailable, Envelope, EnvelopeKind
from collab.replication.broker.redis import RedisBroker
from tests.collab.replication.broker.conftest import (
    REDIS_TIMINGS,
    Inbox,
    PrivateRedis,
    env,
    free_port,
)
from tests.support.services import require_redis
from tests.support.waiting import eventually


@pytest.fixture
async def admin() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(require_redis())
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex}"


def make(url: str, namespace: str, **kwargs: Any) -> RedisBroker:
    return RedisBroker(url, namespace=namespace, **{**REDIS_TIMINGS, **kwargs})


async def clients_named(admin: aioredis.Redis, name: str) -> list[dict[str, Any]]:
    return [c for c in await admin.client_list() if c.get("name") == name]


async def test_channel_names_come_from_the_namespace(admin: aioredis.Redis, namespace: str) -> None:
    async with make(require_redis(), namespace) as broker:
        await broker.subscribe("doc-1", Inbox())
        channels = await admin.pubsub_channels(f"{namespace}:*")
        assert channels == [f"{namespace}:doc:doc-1".encode()]


async def test_one_subscriber_connection_multiplexes_every_document(
    admin: aioredis.Redis, namespace: str
) -> None:
    async with make(require_redis(), namespace) as broker:
        for i in range(20):
            await broker.subscribe(f"doc-{i}", Inbox())
        [sub] = await clients_named(admin, broker.subscriber_name)
        assert int(sub["sub"]) == 20
        await broker.unsubscribe("doc-3")
        await eventually_async(
            lambda: clients_named(admin, broker.subscriber_name),
            lambda found: int(found[0]["sub"]) == 19,
        )


async def eventually_async(fetch: Any, check: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check(await fetch()):
            await asyncio.sleep(0.02)


async def test_malformed_messages_are_skipped_and_the_reader_goes_on(
    admin: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = require_redis()
    async with make(url, namespace) as a, make(url, namespace) as b:
        inbox = Inbox()
        await b.subscribe("doc", inbox)
        channel = b.keys.doc_channel("doc")
        other_doc = Envelope("other", "x", None, EnvelopeKind.UPDATE, b"1").encode()
        garbage = [
            b"",
            b"not msgpack \xc1",
            msgpack.packb({"v": 1}),
            msgpack.packb([1, 99, "doc", "x", None, b"", None]),
            msgpack.packb([1, 1, "doc", "x", None, "str payload", None]),
            msgpack.packb([7, 1, "doc", "x", None, b"", None]),
            other_doc,  # valid, but on the wrong channel
        ]
        for data in garbage:
            assert await admin.publish(channel, data) == 1
        await a.publish(env(a, "doc", b"good"))
        assert [e.payload for e in await inbox.wait_for(1)] == [b"good"]
        assert b.malformed == len(garbage)
        assert b.healthy
        assert "skipped a bad message" in caplog.text


async def test_killing_both_connections_with_plain_client_kill(
    admin: aioredis.Redis, namespace: str
) -> None:
    url = require_redis()
    async with make(url, namespace) as a, make(url, namespace) as b:
        inbox_a, inbox_b = Inbox(), Inbox()
        await a.subscribe("doc", inbox_a)
        await b.subscribe("doc", inbox_b)
        await b.publish(env(b, "doc", b"warm-up"))  # opens b's publishing connection
        await inbox_a.wait_for(1)
        reconnected = asyncio.Event()
        b.on_reconnect(reconnected.set)

        for role in ("sub", "pub"):
            for client in await clients_named(admin, b.keys.client_name(role, b.instance_id)):
                await admin.client_kill_filter(_id=client["id"])
        async with asyncio.timeout(10):
            await reconnected.wait()

        await b.publish(env(b, "doc", b"after"))
        await a.publish(env(a, "doc", b"to-b"))
        await inbox_a.wait_for(2)
        assert inbox_a.payloads == [b"warm-up", b"after"]
        assert (await inbox_b.wait_for(1))[0].payload == b"to-b"


async def test_killed_publishing_connection_is_replaced_without_loss(
    admin: aioredis.Redis, namespace: str
) -> None:
    url = require_redis()
    async with make(url, namespace) as a, make(url, namespace) as b:
        inbox = Inbox()
        await b.subscribe("doc", inbox)
        await a.publish(env(a, "doc", b"1"))
        await inbox.wait_for(1)
        for client in await clients_named(admin, a.keys.client_name("pub", a.instance_id)):
            await admin.client_kill_filter(_id=client["id"])
        await a.publish(env(a, "doc", b"2"))
        await inbox.wait_for(2)
        assert inbox.payloads == [b"1", b"2"]
        assert a.dropped == 0


async def test_stop_flushes_what_was_published(namespace: str) -> None:
    url = require_redis()
    async with make(url, namespace) as b:
        inbox = Inbox()
        await b.subscribe("doc", inbox)
        a = make(url, namespace)
        await a.start()
        for i in range(500):
            await a.publish(env(a, "doc", b"%d" % i))
        await a.stop()
        await inbox.wait_for(500)
        assert inbox.payloads == [b"%d" % i for i in range(500)]


async def test_an_injected_client_is_used_and_left_open(namespace: str) -> None:
    url = require_redis()
    # decode_responses on the caller's client must not turn payloads into text.
    conn = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        async with (
            RedisBroker(conn=conn, namespace=namespace) as a,
            RedisBroker(conn=conn, namespace=namespace) as b,
        ):
            inbox = Inbox()
            await b.subscribe("doc", inbox)
            await a.publish(env(a, "doc", b"\xff\x00binary"))
            assert (await inbox.wait_for(1))[0].payload == b"\xff\x00binary"
        assert await conn.ping()  # type: ignore[misc]
    finally:
        await conn.aclose()


async def test_start_fails_clearly_when_redis_is_unreachable() -> None:
    broker = RedisBroker(f"redis://user:pw@127.0.0.1:{free_port()}/0", connect_timeout=1.0)
    with pytest.raises(BrokerUnavailable, match="cannot reach Redis") as info:
        await broker.start()
    assert "pw" not in str(info.value)
    assert not broker.started


async def test_survives_a_redis_restart(private_redis: PrivateRedis, namespace: str) -> None:
    await private_redis.wait_ready()
    url = private_redis.url
    async with make(url, namespace) as a, make(url, namespace) as b:
        inbox_a, inbox_b = Inbox(), Inbox()
        await a.subscribe("doc", inbox_a)
        await b.subscribe("doc", inbox_b)
        reconnected = {a.instance_id: asyncio.Event(), b.instance_id: asyncio.Event()}
        for broker in (a, b):
            broker.on_reconnect(reconnected[broker.instance_id].set)

        private_redis.kill()
        await eventually(lambda: not a.healthy and not b.healthy)
        await a.publish(env(a, "doc", b"lost"))
        assert a.dropped == 1
        private_redis.start()

        async with asyncio.timeout(15):
            for event in reconnected.values():
                await event.wait()
        assert a.healthy and b.healthy
        await a.publish(env(a, "doc", b"after restart"))
        await b.publish(env(b, "doc", b"and back"))
        assert [e.payload for e in await inbox_b.wait_for(1)] == [b"after restart"]
        assert [e.payload for e in await inbox_a.wait_for(1)] == [b"and back"]


async def test_a_frozen_server_is_noticed_by_ping(
    private_redis: PrivateRedis, namespace: str
) -> None:
    await private_redis.wait_ready()
    assert private_redis.process is not None
    async with make(private_redis.url, namespace) as broker:
        await broker.subscribe("doc", Inbox())
        reconnected = asyncio.Event()
        broker.on_reconnect(reconnected.set)
        os.kill(private_redis.process.pid, signal.SIGSTOP)
        try:
            # No error on the socket: only the unanswered PING tells.
            await eventually(lambda: not broker.healthy, timeout=5)
        finally:
            os.kill(private_redis.process.pid, signal.SIGCONT)
        async with asyncio.timeout(15):
            await reconnected.wait()
        assert broker.healthy


@pytest.mark.parametrize("subscribed", [False, True])
async def test_idle_connection_stays_healthy_across_pings(
    admin: aioredis.Redis, namespace: str, subscribed: bool
) -> None:
    # Redis answers PING with "+PONG" without subscriptions and ["pong", ""] with some.
    async with make(require_redis(), namespace, ping_interval=0.05, ping_timeout=0.2) as broker:
        if subscribed:
            await broker.subscribe("doc", Inbox())
        reconnects: list[int] = []
        broker.on_reconnect(lambda: reconnects.append(1))
        await asyncio.sleep(0.8)  # several PING rounds; nothing to wait for
        assert broker.healthy
        assert reconnects == []
        [sub] = await clients_named(admin, broker.subscriber_name)
        assert sub["cmd"] == "ping"  # the PINGs did go out


async def test_a_full_queue_slows_publishers_down_instead_of_dropping(namespace: str) -> None:
    url = require_redis()
    async with make(url, namespace, queue_size=4) as a, make(url, namespace) as b:
        inbox = Inbox()
        await b.subscribe("doc", inbox)
        for i in range(2000):  # never yields on its own
            await a.publish(env(a, "doc", b"%d" % i))
        await inbox.wait_for(2000)
        assert inbox.payloads == [b"%d" % i for i in range(2000)]
        assert a.dropped == 0
        assert a.healthy


async def test_offer_refuses_when_the_send_buffer_is_full_and_drained_says_when_it_emptied(
    namespace: str,
) -> None:
    url = require_redis()
    async with make(url, namespace, queue_size=4) as a, make(url, namespace) as b:
        inbox = Inbox()
        await b.subscribe("doc", inbox)
        taken = [a.offer(env(a, "doc", b"%d" % i)) for i in range(10)]  # no await: no sending
        assert taken == [True] * 4 + [False] * 6  # the buffer's bound, nothing dropped silently
        await a.drained()
        assert a.offer(env(a, "doc", b"after"))
        await inbox.wait_for(5)
        assert inbox.payloads == [b"0", b"1", b"2", b"3", b"after"]
        assert a.dropped == 0 and a.healthy
