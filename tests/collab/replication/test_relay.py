"""The relay between rooms and the broker: one bounded buffer (the broker's), and an overflow
healed by a resync once it drains."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Doc

from canvasdoc import close_codes
from collab.auth.identity import Principal
from collab.observability.metrics import Metrics
from collab.replication.access import AccessChange
from collab.replication.broker.base import BrokerError, Envelope, EnvelopeKind
from collab.replication.relay import EnvelopeRelay, RoomReplica
from collab.session.room import Room
from tests.collab.session.test_room_unit import Peer
from tests.support.waiting import eventually


class BoundedBroker:
    """A broker whose send buffer holds ``size`` envelopes until ``drain`` is called."""

    instance_id = "here"
    alone = False

    def __init__(self, size: int) -> None:
        self.size = size
        self.buffer: list[Envelope] = []
        self.sent: list[Envelope] = []
        self._drained = asyncio.Event()

    def offer(self, envelope: Envelope) -> bool:
        if len(self.buffer) >= self.size:
            return False
        self.buffer.append(envelope)
        return True

    def drain(self) -> None:
        self.sent += self.buffer
        self.buffer.clear()
        self._drained.set()

    async def drained(self) -> None:
        while self.buffer:
            self._drained.clear()
            await self._drained.wait()


class NullSink:
    def append(self, doc_id: str, update: bytes) -> None:
        pass


def _edit(room: Room, name: str) -> None:
    room.edit(Principal(user_id="u", name="U"), lambda canvas: canvas.add_layer(name=name))


async def test_updates_go_straight_into_the_brokers_buffer_in_order() -> None:
    broker = BoundedBroker(size=10)
    async with EnvelopeRelay(broker) as relay:  # type: ignore[arg-type]
        room = Room("doc", Doc(), NullSink(), Metrics())
        RoomReplica(room, relay)
        for text in ("a", "b", "c"):
            _edit(room, text)
        assert [e.kind for e in broker.buffer] == [EnvelopeKind.UPDATE] * 3
        assert [e.origin_user for e in broker.buffer] == ["u"] * 3
        assert relay.overflows == 0


async def test_an_overflow_is_counted_and_healed_by_a_sync_request_once_drained() -> None:
    broker = BoundedBroker(size=2)
    async with EnvelopeRelay(broker) as relay:  # type: ignore[arg-type]
        room = Room("doc", Doc(), NullSink(), Metrics())
        RoomReplica(room, relay)
        for text in ("a", "b", "c", "d"):
            _edit(room, text)
        assert len(broker.buffer) == 2 and relay.overflows == 2
        broker.drain()
        await eventually(lambda: len(broker.buffer) == 1, timeout=5)
        (request,) = broker.buffer
        assert request.kind is EnvelopeKind.SYNC_REQUEST
        assert request.payload == room.doc.get_state()  # peers answer and ask back


async def test_a_closed_replica_publishes_nothing() -> None:
    broker = BoundedBroker(size=10)
    async with EnvelopeRelay(broker) as relay:  # type: ignore[arg-type]
        room = Room("doc", Doc(), NullSink(), Metrics())
        RoomReplica(room, relay).close()
        _edit(room, "a")
        assert broker.buffer == []


async def test_an_access_change_from_another_instance_closes_the_matching_connections() -> None:
    broker = BoundedBroker(size=10)
    async with EnvelopeRelay(broker) as relay:  # type: ignore[arg-type]
        room = Room("doc", Doc(), NullSink(), Metrics())
        replica = RoomReplica(room, relay)
        eve, vic, guest = Peer("eve"), Peer("vic"), Peer("guest")
        guest.conn.principal = Principal(user_id="guest", name="Guest", link_id="link-1")
        for peer in (eve, vic, guest):
            room.join(peer.conn)

        def access(change: AccessChange) -> Envelope:
            return Envelope("doc", "there", None, EnvelopeKind.ACCESS, change.encode())

        replica.receive(access(AccessChange("doc", "access revoked", user_id="eve")))
        assert (eve.conn.close_code, eve.conn.close_reason) == (
            close_codes.ACCESS_REVOKED,
            "access revoked",
        )
        assert not vic.conn.closed.is_set() and not guest.conn.closed.is_set()
        replica.receive(access(AccessChange("doc", "share link revoked", link_id="link-1")))
        assert guest.conn.close_code == close_codes.ACCESS_REVOKED
        assert not vic.conn.closed.is_set()
        # A malformed access change is logged and ignored: nobody else is closed.
        replica.receive(Envelope("doc", "there", None, EnvelopeKind.ACCESS, b"\xc1"))
        assert not vic.conn.closed.is_set()
        assert broker.buffer == []  # nothing is republished


def test_an_access_change_names_exactly_one_of_user_and_link() -> None:
    with pytest.raises(ValueError, match="exactly one of user_id and link_id"):
        AccessChange("doc", "why", user_id="u", link_id="l")
    with pytest.raises(ValueError, match="exactly one of user_id and link_id"):
        AccessChange("doc", "why")
    change = AccessChange("doc", "role changed", user_id="vic")
    assert AccessChange.decode("doc", change.encode()) == change
    with pytest.raises(BrokerError, match=r"must be \[user_id, link_id, reason\]"):
        AccessChange.decode("doc", b"\x91\x01")
