"""Batches: several envelopes of one document as one message (``Envelope.encode_batch``,
``Broker.offer_many``), on the wire and through every Broker implementation."""

from __future__ import annotations

from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest

from collab.replication.broker import BrokerError, Envelope, EnvelopeKind
from collab.replication.broker.base import ENVELOPE_VERSION
from tests.collab.replication.broker.conftest import Inbox, Network, env
from tests.support.waiting import eventually


def wire(*fields: Any) -> bytes:
    data: bytes = msgpack.packb(list(fields), use_bin_type=True)
    return data


def mixed(origin: str = "inst-a", doc_id: str = "doc") -> list[Envelope]:
    return [
        Envelope(doc_id, origin, "alice", EnvelopeKind.UPDATE, b"\x01u1"),
        Envelope(doc_id, origin, "bob", EnvelopeKind.AWARENESS, b"\x02aw"),
        Envelope(doc_id, origin, None, EnvelopeKind.SYNC_REPLY, b"", "inst-b"),
        Envelope(doc_id, origin, None, EnvelopeKind.UPDATE, bytes(range(256))),
    ]


# -- the wire format -------------------------------------------------------------------------


def test_a_batch_round_trips_in_order_and_a_single_envelope_reads_as_a_list_of_one() -> None:
    batch = mixed()
    assert Envelope.decode_all(Envelope.encode_batch(batch)) == batch
    one = batch[0]
    assert Envelope.decode_all(one.encode()) == [one]
    assert Envelope.decode_all(Envelope.encode_batch([one])) == [one]


def test_decode_names_a_batch_instead_of_misreading_it() -> None:
    with pytest.raises(BrokerError, match="batch of envelopes; read it with decode_all"):
        Envelope.decode(Envelope.encode_batch(mixed()))


def test_a_batch_carries_the_origin_mark_so_its_publisher_skips_it_undecoded() -> None:
    data = Envelope.encode_batch(mixed())
    mark = Envelope.origin_mark("doc", "inst-a")
    assert Envelope.has_origin_mark(data, mark)
    assert not Envelope.has_origin_mark(data, Envelope.origin_mark("doc", "inst-b"))
    assert Envelope.count_marked(data, mark) == 4
    assert Envelope.count_marked(mixed()[0].encode(), mark) == 1


@pytest.mark.parametrize("size", [1, 15, 16, 300, 70_000])
def test_the_size_of_a_batch_is_read_from_its_raw_bytes(size: int) -> None:
    batch = [Envelope("doc", "inst-a", None, EnvelopeKind.UPDATE, b"")] * size
    data = Envelope.encode_batch(batch)
    assert Envelope.count_marked(data, Envelope.origin_mark("doc", "inst-a")) == size


def test_a_batch_costs_one_header_not_one_per_envelope() -> None:
    batch = [
        Envelope("doc-" + "x" * 28, "f" * 32, "alice", EnvelopeKind.UPDATE, b"u" * 200)
        for _ in range(10)
    ]
    singles = sum(len(e.encode()) for e in batch)
    assert len(Envelope.encode_batch(batch)) < singles - 9 * (32 + 32)


def test_encode_batch_refuses_mixed_documents_origins_and_nothing() -> None:
    with pytest.raises(ValueError, match="at least one envelope"):
        Envelope.encode_batch([])
    with pytest.raises(ValueError, match="one document from one instance"):
        Envelope.encode_batch([*mixed(), *mixed(doc_id="other")])
    with pytest.raises(ValueError, match="got 'doc' from 'inst-z'"):
        Envelope.encode_batch([*mixed(), *mixed(origin="inst-z")])


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "must hold a non-empty array"),
        (b"not a list", "must hold a non-empty array"),
        ([[1, "alice", b"u"]], r"arrays of \[kind, user, payload, target\]"),
        (["flat"], r"arrays of \[kind, user, payload, target\]"),
        ([[6, None, b"", None]], "unknown envelope kind 6"),  # no batch inside a batch
        ([[1, None, "text", None]], "payload must be binary"),
        ([[1, "", b"", None]], "origin_user must be a non-empty string or nil"),
    ],
)
def test_a_malformed_batch_is_a_broker_error_naming_the_problem(items: Any, message: str) -> None:
    with pytest.raises(BrokerError, match=message):
        Envelope.decode_all(wire(ENVELOPE_VERSION, 6, "doc", "inst", None, items, None))


# -- through every broker --------------------------------------------------------------------


async def test_offer_many_arrives_in_order_as_one_message_between_single_envelopes(
    net: Network,
) -> None:
    a, b = await net.make(), await net.make()
    inbox = Inbox()
    await b.subscribe("doc", inbox)
    await a.subscribe("doc", Inbox())
    first = env(a, "doc", b"first")
    batch = [env(a, "doc", b"%d" % i, user=f"user-{i % 3}") for i in range(5)]
    batch.append(env(a, "doc", b"aw", EnvelopeKind.AWARENESS, user=None))
    assert a.offer(first)
    assert a.offer_many(batch)
    assert a.offer(env(a, "doc", b"last"))
    await a.drained()
    assert await inbox.wait_for(8) == [first, *batch, env(a, "doc", b"last")]
    assert a.published == 8
    await eventually(lambda: b.received == 8)
    assert (b.messages, b.decoded, b.delivered) == (3, 8, 8)  # three messages, eight envelopes
    echoes = 8 if net.kind == "redis" else 0  # skipped undecoded, counted from the raw bytes
    await eventually(lambda: a.echoes == echoes)
    assert (a.messages, a.received, a.decoded) == (echoes and 3, echoes, 0)


async def test_offer_many_checks_every_envelope_and_takes_one_document(net: Network) -> None:
    a, b = await net.make(), await net.make()
    assert a.offer_many([])
    with pytest.raises(ValueError, match=f"from instance '{b.instance_id}'"):
        a.offer_many([env(a, "doc", b"x"), env(b, "doc", b"y")])
    with pytest.raises(ValueError, match="one document \\('doc'\\), got one of 'other'"):
        a.offer_many([env(a, "doc", b"x"), env(a, "other", b"y")])
    assert a.published == 0


async def test_targeted_envelopes_in_a_batch_reach_only_their_target(net: Network) -> None:
    a, b, c = await net.make(), await net.make(), await net.make()
    inbox_b, inbox_c = Inbox(), Inbox()
    await b.subscribe("doc", inbox_b)
    await c.subscribe("doc", inbox_c)
    to_b = env(a, "doc", b"for-b", EnvelopeKind.SYNC_REPLY, user=None, target=b.instance_id)
    everyone = env(a, "doc", b"all")
    assert a.offer_many([to_b, everyone])
    assert await inbox_b.wait_for(2) == [to_b, everyone]
    assert await inbox_c.wait_for(1) == [everyone]
