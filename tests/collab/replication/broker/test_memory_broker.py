"""MemoryBroker specifics: asynchronous delivery and the outage hooks."""

from __future__ import annotations

import asyncio

from collab.replication.broker import MemoryBroker, MemoryHub
from tests.collab.replication.broker.conftest import Inbox, env


async def test_delivery_is_asynchronous() -> None:
    hub = MemoryHub()
    async with MemoryBroker(hub) as a, MemoryBroker(hub) as b:
        inbox = Inbox()
        await b.subscribe("doc", inbox)
        await a.publish(env(a, "doc", b"x"))
        assert inbox.items == []  # not inside publish()
        await inbox.wait_for(1)


async def test_envelopes_in_flight_when_the_receiver_disconnects_are_lost() -> None:
    hub = MemoryHub()
    async with MemoryBroker(hub) as a, MemoryBroker(hub) as b:
        inbox = Inbox()
        await b.subscribe("doc", inbox)
        await a.publish(env(a, "doc", b"in flight"))
        hub.disconnect(b)
        await a.publish(env(a, "doc", b"while away"))
        await asyncio.sleep(0)
        hub.reconnect(b)
        await a.publish(env(a, "doc", b"after"))
        await inbox.wait_for(1)
        assert inbox.payloads == [b"after"]
        assert a.dropped == 0  # the publisher cannot know what receivers missed


async def test_brokers_without_a_shared_hub_do_not_meet() -> None:
    async with MemoryBroker() as a, MemoryBroker() as b:
        inbox = Inbox()
        await b.subscribe("doc", inbox)
        await a.publish(env(a, "doc", b"x"))
        for _ in range(3):
            await asyncio.sleep(0)
        assert inbox.items == []


async def test_reconnect_of_a_connected_broker_is_a_no_op() -> None:
    hub = MemoryHub()
    async with MemoryBroker(hub) as a:
        calls: list[int] = []
        a.on_reconnect(lambda: calls.append(1))
        hub.reconnect(a)
        await asyncio.sleep(0)
        assert calls == []


async def test_a_broker_is_alone_until_its_hub_is_ever_shared() -> None:
    """RoomManager skips merging the stored log into snapshots only while alone."""
    hub = MemoryHub()
    async with MemoryBroker(hub) as a:
        assert a.alone
        async with MemoryBroker(hub) as b:
            assert not a.alone and not b.alone
        assert not a.alone  # rows b logged may still be in the store: never alone again
    async with MemoryBroker() as private:
        assert private.alone
