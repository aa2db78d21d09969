"""A batching room's replica publishes one loop turn's envelopes as one broker message, one
user's consecutive updates merged, and the other instance ends up with the same document."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pycrdt import Doc, Text

from canvasdoc import wire
from collab.observability.metrics import Metrics
from collab.replication.broker import MemoryBroker, MemoryHub
from collab.replication.broker.base import Envelope, EnvelopeKind
from collab.replication.relay import EnvelopeRelay, RoomReplica
from collab.session.room import Room
from tests.collab.session.test_room_unit import Peer
from tests.support.waiting import eventually


class RecordingBroker:
    """Takes everything; ``messages`` holds what would be one broker message each."""

    instance_id = "here"
    alone = False

    def __init__(self) -> None:
        self.messages: list[list[Envelope]] = []

    def offer(self, envelope: Envelope) -> bool:
        self.messages.append([envelope])
        return True

    def offer_many(self, envelopes: Sequence[Envelope]) -> bool:
        self.messages.append(list(envelopes))
        return True

    async def drained(self) -> None:
        pass


class NullSink:
    def append(self, doc_id: str, update: bytes) -> None:
        pass


def _text(doc: Doc) -> str:  # type: ignore[type-arg]
    return str(doc.get("t", type=Text))


async def test_one_turns_envelopes_go_out_as_one_message_after_the_turn() -> None:
    broker = RecordingBroker()
    async with EnvelopeRelay(broker) as relay:  # type: ignore[arg-type]
        room = Room("doc", Doc(), NullSink(), Metrics(), batch=True)
        RoomReplica(room, relay)
        ann, ann2, bob = Peer("ann"), Peer("ann"), Peer("bob")
        for peer in (ann, ann2, bob):
            room.join(peer.conn)
        # ann twice (two connections), then bob, then ann again, all in one loop turn
        room.receive(ann.conn, ann.edit("a1"))
        room.receive(ann2.conn, ann2.edit("a2"))
        room.receive(bob.conn, bob.edit("b1"))
        room.receive(ann.conn, ann.edit("a3"))
        room.receive(bob.conn, bob.presence({"cursor": 1}))
        assert broker.messages == []  # nothing before the end of the turn
        await asyncio.sleep(0)
        await eventually(lambda: len(broker.messages) == 1, timeout=5)
        (message,) = broker.messages
        assert [(e.kind, e.origin_user) for e in message] == [
            (EnvelopeKind.UPDATE, "ann"),  # a1 and a2 merged
            (EnvelopeKind.UPDATE, "bob"),
            (EnvelopeKind.UPDATE, "ann"),
            (EnvelopeKind.AWARENESS, "bob"),
        ]
        replica_doc: Doc = Doc()  # type: ignore[type-arg]
        for envelope in message[:3]:
            replica_doc.apply_update(envelope.payload)
        assert _text(replica_doc) == _text(room.doc)


async def test_an_idle_rooms_single_update_goes_out_alone_and_sync_keeps_the_order() -> None:
    broker = RecordingBroker()
    async with EnvelopeRelay(broker) as relay:  # type: ignore[arg-type]
        room = Room("doc", Doc(), NullSink(), Metrics(), batch=True)
        replica = RoomReplica(room, relay)
        ann = Peer("ann")
        room.join(ann.conn)
        room.receive(ann.conn, ann.edit("x"))
        await eventually(lambda: len(broker.messages) == 1, timeout=5)
        assert [e.kind for e in broker.messages[0]] == [EnvelopeKind.UPDATE]
        room.receive(ann.conn, ann.edit("y"))
        replica.request_sync()  # not batched: what is pending goes first
        assert [[e.kind for e in m] for m in broker.messages[1:]] == [
            [EnvelopeKind.UPDATE],
            [EnvelopeKind.SYNC_REQUEST],
        ]
        room.receive(ann.conn, ann.edit("z"))
        replica.close()  # closing publishes what is pending
        assert [e.kind for e in broker.messages[-1]] == [EnvelopeKind.UPDATE]


async def test_a_non_batching_room_publishes_each_update_at_once() -> None:
    broker = RecordingBroker()
    async with EnvelopeRelay(broker) as relay:  # type: ignore[arg-type]
        room = Room("doc", Doc(), NullSink(), Metrics())
        RoomReplica(room, relay)
        ann = Peer("ann")
        room.join(ann.conn)
        room.receive(ann.conn, ann.edit("x"))
        room.receive(ann.conn, ann.edit("y"))
        assert [len(m) for m in broker.messages] == [1, 1]


async def test_batches_cross_a_hub_and_both_instances_converge() -> None:
    hub = MemoryHub()
    async with (
        MemoryBroker(hub, instance_id="a") as broker_a,
        MemoryBroker(hub, instance_id="b") as broker_b,
        EnvelopeRelay(broker_a) as relay_a,
        EnvelopeRelay(broker_b) as relay_b,
    ):
        room_a = Room("doc", Doc(), NullSink(), Metrics(), batch=True)
        room_b = Room("doc", Doc(), NullSink(), Metrics(), batch=True)
        replica_a, replica_b = RoomReplica(room_a, relay_a), RoomReplica(room_b, relay_b)
        await broker_a.subscribe("doc", replica_a.receive)
        await broker_b.subscribe("doc", replica_b.receive)
        peers = [Peer(f"user-{i // 2}") for i in range(6)]  # two connections each
        watcher = Peer("watcher")
        for peer in peers:
            room_a.join(peer.conn)
        room_b.join(watcher.conn)
        for turn in range(3):
            for peer in peers:
                room_a.receive(peer.conn, peer.edit(f"{peer.conn.principal.user_id}/{turn};"))
            await asyncio.sleep(0)
        await eventually(lambda: _text(room_b.doc) == _text(room_a.doc), timeout=5)
        assert len(_text(room_a.doc).split(";")) == 19
        assert broker_b.messages == 3  # one message per turn
        assert broker_b.decoded == 9  # each user's two consecutive updates merged
        # The watcher on instance B received the remote updates and has the document too.
        for message in await watcher.take():
            if isinstance(message, wire.SyncUpdate):
                watcher.doc.apply_update(message.update)
        assert _text(watcher.doc) == _text(room_a.doc)
