"""One contract suite, run against every Broker implementation (see conftest.KINDS)."""

from __future__ import annotations

import asyncio

import pytest

from collab.replication.broker import AlreadyStarted, Broker, EnvelopeKind, NotStarted
from tests.collab.replication.broker.conftest import Inbox, Network, env
from tests.support.waiting import eventually


async def test_kind_names_the_backend(net: Network) -> None:
    broker = await net.make()
    assert broker.kind == net.kind
    assert broker.healthy


async def test_start_twice_raises_and_stop_is_idempotent(net: Network) -> None:
    broker = await net.make()
    with pytest.raises(AlreadyStarted, match="already started"):
        await broker.start()
    await broker.stop()
    assert not broker.healthy
    await broker.stop()
    async with broker:  # a stopped broker starts again
        assert broker.healthy
    assert not broker.started


async def test_use_outside_start_stop_raises_not_started(net: Network) -> None:
    broker = await net.make()
    await broker.stop()
    with pytest.raises(NotStarted, match="not started"):
        await broker.subscribe("doc", Inbox())
    with pytest.raises(NotStarted):
        await broker.publish(env(broker, "doc", b"x"))
    await broker.unsubscribe("doc")  # cleanup never raises


async def test_instance_ids_default_to_unique_values(net: Network) -> None:
    a, b = await net.make(), await net.make()
    assert a.instance_id != b.instance_id
    named = await net.make(instance_id="instance-7")
    assert named.instance_id == "instance-7"


async def test_two_instances_exchange_envelopes_both_ways_without_self_delivery(
    net: Network,
) -> None:
    a, b = await net.make(), await net.make()
    inbox_a, inbox_b = Inbox(), Inbox()
    await a.subscribe("doc", inbox_a)
    await b.subscribe("doc", inbox_b)

    sent = env(a, "doc", b"from-a", EnvelopeKind.UPDATE, user="alice")
    await a.publish(sent)
    assert await inbox_b.wait_for(1) == [sent]

    reply = env(b, "doc", b"from-b", EnvelopeKind.AWARENESS, user=None)
    await b.publish(reply)
    # a's own envelope went out first; had it come back, it would be ahead of b's.
    assert await inbox_a.wait_for(1) == [reply]
    assert inbox_b.items == [sent]


async def test_every_kind_and_field_survives_the_trip(net: Network) -> None:
    a, b = await net.make(), await net.make()
    inbox = Inbox()
    await b.subscribe("doc/with:odd chars ✓", inbox)
    sent = [
        env(a, "doc/with:odd chars ✓", bytes(range(256)), kind, user=user)
        for kind in EnvelopeKind
        for user in ("bob", None)
    ]
    for envelope in sent:
        await a.publish(envelope)
    assert await inbox.wait_for(len(sent)) == sent


async def test_publish_refuses_an_envelope_of_another_instance(net: Network) -> None:
    a, b = await net.make(), await net.make()
    foreign = env(b, "doc", b"x")
    with pytest.raises(ValueError, match=f"from instance '{b.instance_id}'"):
        await a.publish(foreign)
    with pytest.raises(TypeError, match="Envelope"):
        await a.publish(b"raw bytes")  # type: ignore[arg-type]


async def test_targeted_envelopes_reach_only_their_target(net: Network) -> None:
    a, b, c = await net.make(), await net.make(), await net.make()
    inbox_b, inbox_c = Inbox(), Inbox()
    await b.subscribe("doc", inbox_b)
    await c.subscribe("doc", inbox_c)
    await a.publish(env(a, "doc", b"diff", EnvelopeKind.SYNC_REPLY, target=b.instance_id))
    await a.publish(env(a, "doc", b"for-all"))
    assert [e.payload for e in await inbox_b.wait_for(2)] == [b"diff", b"for-all"]
    # c got the broadcast that was published after the targeted one, and only that.
    assert [e.payload for e in await inbox_c.wait_for(1)] == [b"for-all"]


async def test_unsubscribe_stops_delivery(net: Network) -> None:
    a, b = await net.make(), await net.make()
    gone, kept = Inbox(), Inbox()
    await b.subscribe("gone", gone)
    await b.subscribe("kept", kept)
    await a.publish(env(a, "gone", b"1"))
    await gone.wait_for(1)

    await b.unsubscribe("gone")
    await b.unsubscribe("never-subscribed")
    await a.publish(env(a, "gone", b"2"))
    await a.publish(env(a, "kept", b"3"))
    await kept.wait_for(1)
    assert gone.payloads == [b"1"]

    await b.subscribe("gone", gone)  # and back
    await a.publish(env(a, "gone", b"4"))
    await gone.wait_for(2)
    assert gone.payloads == [b"1", b"4"]


async def test_subscribing_again_replaces_the_handler(net: Network) -> None:
    a, b = await net.make(), await net.make()
    first, second = Inbox(), Inbox()
    await b.subscribe("doc", first)
    await b.subscribe("doc", second)
    await a.publish(env(a, "doc", b"x"))
    await second.wait_for(1)
    assert first.items == []


async def test_many_documents_are_multiplexed(net: Network) -> None:
    a, b = await net.make(), await net.make()
    inboxes = {f"doc-{i}": Inbox() for i in range(50)}
    for doc_id, inbox in inboxes.items():
        await b.subscribe(doc_id, inbox)
    for doc_id in reversed(list(inboxes)):
        await a.publish(env(a, doc_id, doc_id.encode()))
    for doc_id, inbox in inboxes.items():
        assert [e.payload for e in await inbox.wait_for(1)] == [doc_id.encode()]
        assert inbox.items[0].doc_id == doc_id


async def test_order_is_kept_per_publisher(net: Network) -> None:
    a, b, c = await net.make(), await net.make(), await net.make()
    inbox = Inbox()
    await c.subscribe("doc", inbox)
    for i in range(300):
        await a.publish(env(a, "doc", b"a%d" % i))
        await b.publish(env(b, "doc", b"b%d" % i))
    await inbox.wait_for(600)
    for broker, prefix in ((a, b"a"), (b, b"b")):
        mine = [e.payload for e in inbox.items if e.origin_instance == broker.instance_id]
        assert mine == [prefix + b"%d" % i for i in range(300)]


async def test_a_failing_handler_does_not_stop_delivery(
    net: Network, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = await net.make(), await net.make()
    inbox = Inbox()

    def handler(envelope: object) -> None:
        inbox(envelope)  # type: ignore[arg-type]
        if len(inbox.items) == 1:
            raise RuntimeError("boom")

    await b.subscribe("doc", handler)
    await a.publish(env(a, "doc", b"1"))
    await a.publish(env(a, "doc", b"2"))
    await inbox.wait_for(2)
    assert "handler for document 'doc' failed" in caplog.text
    assert b.healthy


async def test_large_payloads_pass(net: Network) -> None:
    a, b = await net.make(), await net.make()
    inbox = Inbox()
    await b.subscribe("doc", inbox)
    big = bytes(range(256)) * 8192  # 2 MiB
    await a.publish(env(a, "doc", big))
    assert (await inbox.wait_for(1))[0].payload == big


async def test_stopped_broker_gets_nothing_and_others_go_on(net: Network) -> None:
    a, b, c = await net.make(), await net.make(), await net.make()
    inbox_b, inbox_c = Inbox(), Inbox()
    await b.subscribe("doc", inbox_b)
    await c.subscribe("doc", inbox_c)
    await b.stop()
    await a.publish(env(a, "doc", b"x"))
    await inbox_c.wait_for(1)
    assert inbox_b.items == []


async def test_outage_drops_publishes_then_reconnect_callbacks_fire_and_delivery_resumes(
    net: Network,
) -> None:
    a, b = await net.make(), await net.make()
    inbox_a, inbox_b = Inbox(), Inbox()
    await a.subscribe("doc", inbox_a)
    await b.subscribe("doc", inbox_b)
    sync_calls: list[str] = []
    async_done = asyncio.Event()

    async def catch_up() -> None:
        # What a room does: ask the others for what it missed (publishing is allowed here).
        await b.publish(env(b, "doc", b"state-vector", EnvelopeKind.SYNC_REQUEST))
        async_done.set()

    b.on_reconnect(lambda: sync_calls.append("reconnected"))
    b.on_reconnect(catch_up)
    removed: list[str] = []
    remove = b.on_reconnect(lambda: removed.append("should not run"))
    remove()

    await net.cut(b)
    await eventually(lambda: not b.healthy)
    assert b.dropped == 0
    await b.publish(env(b, "doc", b"lost"))  # must not raise
    assert b.dropped == 1
    await net.restore(b)

    async with asyncio.timeout(10):
        await async_done.wait()
    assert b.healthy
    assert sync_calls == ["reconnected"]
    assert removed == []
    assert a.healthy and a.dropped == 0

    # Delivery resumes in both directions; the lost envelope stays lost.
    assert [e.payload for e in await inbox_a.wait_for(1)] == [b"state-vector"]
    await a.publish(env(a, "doc", b"after"))
    assert [e.payload for e in await inbox_b.wait_for(1)] == [b"after"]
    await b.publish(env(b, "doc", b"back"))
    await inbox_a.wait_for(2)
    assert inbox_a.payloads == [b"state-vector", b"back"]


async def test_subscribe_during_an_outage_takes_effect_on_reconnect(net: Network) -> None:
    a, b = await net.make(), await net.make()
    reconnected = asyncio.Event()
    b.on_reconnect(reconnected.set)
    await net.cut(b)
    await eventually(lambda: not b.healthy)
    inbox = Inbox()
    await b.subscribe("late", inbox)  # does not raise or hang
    await net.restore(b)
    async with asyncio.timeout(10):
        await reconnected.wait()
    await a.publish(env(a, "late", b"x"))
    await inbox.wait_for(1)


async def test_a_failing_reconnect_callback_does_not_stop_the_others(
    net: Network, caplog: pytest.LogCaptureFixture
) -> None:
    broker = await net.make()
    done = asyncio.Event()

    def bad() -> None:
        raise RuntimeError("sync boom")

    async def bad_async() -> None:
        raise RuntimeError("async boom")

    broker.on_reconnect(bad)
    broker.on_reconnect(bad_async)
    broker.on_reconnect(done.set)
    await net.cut(broker)
    await eventually(lambda: not broker.healthy)
    await net.restore(broker)
    async with asyncio.timeout(10):
        await done.wait()
    await eventually(lambda: "async boom" in caplog.text)
    assert "sync boom" in caplog.text
    assert broker.healthy


async def test_subscribe_rejects_a_bad_doc_id(net: Network) -> None:
    broker: Broker = await net.make()
    with pytest.raises(ValueError, match="doc_id must be a non-empty string"):
        await broker.subscribe("", Inbox())


async def test_resubscribing_right_after_unsubscribing_keeps_the_subscription(
    net: Network,
) -> None:
    a, b = await net.make(), await net.make()
    inbox = Inbox()
    # No awaiting in between: the commands overlap on the wire.
    first = asyncio.ensure_future(b.subscribe("doc", inbox))
    await asyncio.sleep(0)
    await b.unsubscribe("doc")
    await b.subscribe("doc", inbox)
    await first
    await a.publish(env(a, "doc", b"x"))
    await inbox.wait_for(1)


async def test_a_broker_that_can_reach_other_instances_is_never_alone(net: Network) -> None:
    a, b = await net.make(), await net.make()
    assert not a.alone and not b.alone


async def test_offer_hands_over_without_waiting_in_order_with_publishs_checks(
    net: Network,
) -> None:
    """``offer`` (what rooms use: they cannot await) goes into the same send buffer as
    ``publish``: delivered in order, refused for another instance's envelope, and a drained
    buffer is reported."""
    a, b = await net.make(), await net.make()
    inbox = Inbox()
    await b.subscribe("doc", inbox)
    for i in range(100):
        assert a.offer(env(a, "doc", b"%d" % i))
    await a.drained()
    await inbox.wait_for(100)
    assert inbox.payloads == [b"%d" % i for i in range(100)]
    with pytest.raises(ValueError, match=f"from instance '{b.instance_id}'"):
        a.offer(env(b, "doc", b"x"))
    await a.stop()
    with pytest.raises(NotStarted):
        a.offer(env(a, "doc", b"late"))


async def test_own_envelopes_are_never_decoded_and_other_documents_bring_nothing(
    net: Network,
) -> None:
    a, b, c = await net.make(), await net.make(), await net.make()
    inbox_a, inbox_b = Inbox(), Inbox()
    await a.subscribe("doc", inbox_a)
    await b.subscribe("doc", inbox_b)
    await c.subscribe("elsewhere", Inbox())
    for i in range(5):
        await a.publish(env(a, "doc", f"a{i}".encode(), EnvelopeKind.UPDATE))
    await b.publish(env(b, "doc", b"b0", EnvelopeKind.UPDATE))
    await inbox_b.wait_for(5)
    await inbox_a.wait_for(1)
    # Redis sends a publisher its envelopes back: recognised undecoded. The hub never does.
    echoes = 5 if net.kind == "redis" else 0
    await eventually(lambda: a.echoes == echoes and b.echoes == echoes // 5)
    assert (a.published, a.decoded, a.delivered, a.received) == (5, 1, 1, 1 + echoes)
    assert (b.published, b.decoded, b.delivered, b.received) == (1, 5, 5, 5 + echoes // 5)
    assert inbox_a.payloads == [b"b0"]
    assert (c.received, c.decoded, c.delivered) == (0, 0, 0)  # not subscribed to "doc"
