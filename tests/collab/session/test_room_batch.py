"""A server room (``batch=True``) broadcasts the updates of one event-loop turn together: each
receiver gets one merged update, no sender gets its own update back, and a command's reply
still follows the change it reports."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pycrdt import Doc, Text

from canvasdoc import close_codes, wire
from canvasdoc.canvas import Canvas
from collab.observability.metrics import Metrics
from collab.session.room import Room
from tests.collab.session.test_room_unit import ListSink, Peer


def _texts(messages: list[wire.Message]) -> list[str]:
    out = []
    for m in messages:
        if isinstance(m, wire.SyncUpdate):
            doc: Doc[Any] = Doc()
            doc.apply_update(m.update)
            out.append(str(doc.get("t", type=Text)))
    return out


async def _joined(room: Room, *users: str) -> list[Peer]:
    peers = [Peer(u) for u in users]
    for p in peers:
        room.join(p.conn)
    for p in peers:
        await p.take()
    return peers


@pytest.fixture
async def setup() -> Any:
    sink = ListSink()
    room = Room("batch", Doc(), sink, Metrics(), batch=True)
    peers = await _joined(room, "a", "b", "c")
    yield room, sink, peers
    for p in peers:
        p.conn.abort(close_codes.NORMAL, "test over")
    await asyncio.gather(*(p.conn.stop() for p in peers))
    room.close()


def _lacks(replica: Doc[Any], room: Doc[Any]) -> bytes:
    """What ``room`` has that ``replica`` lacks (an encoded state vector's entries come in
    hash-map order, so two equal states need not encode to equal bytes); b"" when nothing."""
    missing = room.get_update(replica.get_state())
    return b"" if missing == wire.EMPTY_UPDATE else missing


async def _settled(peers: list[Peer]) -> list[list[wire.Message]]:
    await asyncio.sleep(0)  # the end of this loop turn: the room's flush runs
    return [await p.take() for p in peers]


async def test_updates_of_one_turn_reach_each_receiver_as_one_merged_update(setup: Any) -> None:
    room, sink, (a, b, c) = setup
    room.receive(a.conn, a.edit("A"))
    room.receive(b.conn, b.edit("B"))
    assert not c.channel.sent  # nothing sent within the turn
    to_a, to_b, to_c = await _settled([a, b, c])

    (merged,) = _texts(to_c)  # one frame with both updates
    assert sorted(merged) == ["A", "B"]
    assert _texts(to_a) == ["B"]  # each sender gets the others' updates, never its own
    assert _texts(to_b) == ["A"]
    assert len(sink.appended) == 2  # the store still gets every change
    assert len(room.connections) == 3


async def test_a_single_update_is_sent_by_the_end_of_the_turn_unmerged(setup: Any) -> None:
    room, _, (a, b, c) = setup
    room.receive(a.conn, a.edit("x"))
    to_a, to_b, to_c = await _settled([a, b, c])
    assert _texts(to_b) == _texts(to_c) == ["x"]
    assert to_a == []


async def test_sender_gets_the_history_entry_the_server_added_in_a_merged_turn(
    setup: Any,
) -> None:
    room, _, (a, b, c) = setup
    before = a.doc.get_state()
    Canvas(a.doc).add_layer(name="Sky")
    room.receive(a.conn, wire.encode_update(a.doc.get_update(before)))
    room.receive(b.conn, b.edit("B"))
    to_a, _, to_c = await _settled([a, b, c])
    for m in to_a:
        assert isinstance(m, wire.SyncUpdate)
        a.doc.apply_update(m.update)
    assert _lacks(a.doc, room.doc) == b""  # nothing missing, entry included
    for m in to_c:
        assert isinstance(m, wire.SyncUpdate)
        c.doc.apply_update(m.update)
    assert _lacks(c.doc, room.doc) == b""


async def test_an_undo_reply_follows_the_change_it_reports(setup: Any) -> None:
    room, _, (a, b, _) = setup
    before = a.doc.get_state()
    Canvas(a.doc).add_layer(name="Sky")
    room.receive(a.conn, wire.encode_update(a.doc.get_update(before)))
    await _settled([a, b])
    room.receive(a.conn, wire.encode_command({"op": "undo", "id": 1}))
    (*updates, reply) = await a.take()
    assert isinstance(reply, wire.Command) and reply.body["done"] is True
    assert updates and all(isinstance(m, wire.SyncUpdate) for m in updates)
    for m in updates:
        a.doc.apply_update(m.update)
    assert Canvas(a.doc).read_layers() == []
