"""The room's sync and awareness logic, driven without sockets through in-memory channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pycrdt import Awareness, Doc, Text

from canvasdoc import close_codes, wire
from canvasdoc.canvas import Canvas
from collab.auth.identity import Principal
from collab.exceptions import InvalidUpdate, ProtocolError
from collab.observability.metrics import Metrics
from collab.session.connection import Connection
from collab.session.room import Room
from collab.session.transport import ChannelClosed
from tests.support.waiting import eventually

DOC_ID = "room-unit"


class FakeChannel:
    """Stores what the connection sends; never blocks."""

    def __init__(self, path: str = f"/ws/{DOC_ID}") -> None:
        self.path = path
        self.sent: list[bytes] = []
        self.closed_with: tuple[int, str] | None = None

    async def send(self, message: bytes) -> None:
        if self.closed_with is not None:
            raise ChannelClosed(self.closed_with[0], "closed")
        self.sent.append(message)

    async def recv(self) -> bytes:
        raise ChannelClosed(1000, "fake channels receive nothing")

    async def close(self, code: int, reason: str) -> None:
        if self.closed_with is None:
            self.closed_with = (code, reason)


class ListSink:
    def __init__(self) -> None:
        self.appended: list[tuple[str, bytes]] = []

    def append(self, doc_id: str, update: bytes) -> None:
        self.appended.append((doc_id, update))


class Peer:
    """A connection on a fake channel, plus a client-side replica to build frames with."""

    def __init__(self, user: str) -> None:
        self.channel = FakeChannel()
        self.conn = Connection(
            self.channel,
            Principal(user_id=user, name=user.title()),
            max_queue_bytes=1 << 20,
            max_queue_messages=1000,
        )
        self.doc: Doc[Any] = Doc()
        self.awareness = Awareness(self.doc)

    async def take(self) -> list[wire.Message]:
        """Everything the room has sent to this peer since the last call, decoded."""
        await eventually(lambda: self.conn.queued_bytes == 0, timeout=5)
        frames, self.channel.sent = self.channel.sent, []
        return [wire.decode(frame) for frame in frames]

    def edit(self, text: str) -> bytes:
        """Append ``text`` to the replica's text and return the update frame for it."""
        before = self.doc.get_state()
        self.doc.get("t", type=Text).insert(len(self.doc.get("t", type=Text)), text)
        return wire.encode_update(self.doc.get_update(before))

    def presence(self, state: dict[str, Any] | None) -> bytes:
        self.awareness.set_local_state(state)
        payload = self.awareness.encode_awareness_update([self.awareness.client_id])
        return wire.encode_awareness(payload)


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def room(sink: ListSink, metrics: Metrics) -> Room:
    return Room(DOC_ID, Doc(), sink, metrics)


@pytest.fixture
async def peer(room: Room) -> AsyncIterator[Callable[[str], Peer]]:
    peers: list[Peer] = []

    def make(user: str) -> Peer:
        p = Peer(user)
        peers.append(p)
        return p

    yield make
    for p in peers:
        p.conn.abort(close_codes.NORMAL, "test over")
    await asyncio.gather(*(p.conn.stop() for p in peers))
    room.close()


async def joined(room: Room, make: Callable[[str], Peer], *users: str) -> list[Peer]:
    """Peers that joined and whose handshake frames were consumed."""
    peers = [make(u) for u in users]
    for p in peers:
        room.join(p.conn)
    for p in peers:
        await p.take()
    return peers


def _text(update: bytes) -> str:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return str(doc.get("t", type=Text))


def _awareness_states(payload: bytes) -> dict[int, Any]:
    """client id -> state (None for a removal) as a Yjs peer would read the payload."""
    observer = Awareness(Doc())
    seen: dict[int, Any] = {}

    def on_change(topic: str, change: tuple[dict[str, Any], Any]) -> None:
        if topic == "update":
            for cid in change[0]["added"] + change[0]["updated"]:
                seen[cid] = observer.states[cid]
            for cid in change[0]["removed"]:
                seen[cid] = None

    # pycrdt reports no removal for a client it never knew: removals are checked on a peer
    # that saw the announcement first.
    observer.observe(on_change)
    observer.apply_awareness_update(payload, "test")
    return seen


def _sample(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name)
    assert value is not None
    return value


# -- join ------------------------------------------------------------------------------------


async def test_join_sends_step1_with_the_room_state(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    room.doc["t"] = Text("existing")
    a = peer("a")
    room.join(a.conn)
    assert a.conn in room.connections
    hello = {"type": "hello", "doc": DOC_ID, "role": "editor", "user": "a", "name": "A"}
    assert await a.take() == [wire.Command(hello), wire.SyncStep1(room.doc.get_state())]


async def test_join_sends_current_awareness_states(room: Room, peer: Callable[[str], Peer]) -> None:
    (a,) = await joined(room, peer, "a")
    room.receive(a.conn, a.presence({"user": "a", "cursor": [3, 4]}))
    b = peer("b")
    room.join(b.conn)
    _hello, step1, awareness = await b.take()
    assert step1 == wire.SyncStep1(room.doc.get_state())
    assert isinstance(awareness, wire.AwarenessUpdate)
    assert _awareness_states(awareness.payload) == {
        a.awareness.client_id: {"user": "a", "cursor": [3, 4]}
    }


async def test_server_has_no_presence_of_its_own(room: Room) -> None:
    assert room.awareness.states == {}


# -- updates ------------------------------------------------------------------------------------


async def test_update_is_fanned_out_to_others_not_echoed_and_logged_once(
    room: Room, peer: Callable[[str], Peer], sink: ListSink, metrics: Metrics
) -> None:
    a, b, c = await joined(room, peer, "a", "b", "c")
    frame = a.edit("hello")
    room.receive(a.conn, frame)

    assert str(room.doc.get("t", type=Text)) == "hello"
    assert await a.take() == []
    for other in (b, c):
        (message,) = await other.take()
        assert isinstance(message, wire.SyncUpdate)
        assert _text(message.update) == "hello"
    assert len(sink.appended) == 1
    doc_id, logged = sink.appended[0]
    assert doc_id == DOC_ID
    assert _text(logged) == "hello"
    assert room.unsaved_updates == 1
    assert room.first_unsaved_at is not None
    assert _sample(metrics, "nexus_updates_applied_total") == 1
    assert _sample(metrics, "nexus_bytes_in_total") == len(frame)


async def test_step2_from_a_client_is_applied_and_fanned_out(
    room: Room, peer: Callable[[str], Peer], sink: ListSink
) -> None:
    a, b = await joined(room, peer, "a", "b")
    a.doc["t"] = Text("offline edit")
    room.receive(a.conn, wire.encode_sync_step2(a.doc.get_update(room.doc.get_state())))
    (message,) = await b.take()
    assert isinstance(message, wire.SyncUpdate)
    assert _text(message.update) == "offline edit"
    assert await a.take() == []
    assert len(sink.appended) == 1


async def test_already_applied_update_is_neither_fanned_out_nor_logged(
    room: Room, peer: Callable[[str], Peer], sink: ListSink, metrics: Metrics
) -> None:
    a, b = await joined(room, peer, "a", "b")
    frame = a.edit("once")
    room.receive(a.conn, frame)
    await b.take()
    room.receive(a.conn, frame)  # a retransmission
    room.receive(b.conn, frame)  # or another peer relaying what it already got
    room.receive(a.conn, wire.encode_sync_step2(a.doc.get_update()))
    assert await a.take() == []
    assert await b.take() == []
    assert len(sink.appended) == 1
    assert _sample(metrics, "nexus_updates_applied_total") == 1
    assert room.unsaved_updates == 1


async def test_already_applied_deletion_is_neither_fanned_out_nor_logged(
    room: Room, peer: Callable[[str], Peer], sink: ListSink
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.receive(a.conn, a.edit("abcdef"))
    before = a.doc.get_state()
    del a.doc.get("t", type=Text)[0:3]
    deletion = wire.encode_update(a.doc.get_update(before))
    room.receive(a.conn, deletion)
    assert str(room.doc.get("t", type=Text)) == "def"
    await b.take()
    logged = len(sink.appended)
    room.receive(a.conn, deletion)
    assert await b.take() == []
    assert len(sink.appended) == logged


async def test_empty_update_is_ignored(
    room: Room, peer: Callable[[str], Peer], sink: ListSink
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.receive(a.conn, wire.encode_update(wire.EMPTY_UPDATE))
    room.receive(a.conn, wire.encode_sync_step2(wire.EMPTY_UPDATE))
    assert await a.take() == []
    assert await b.take() == []
    assert sink.appended == []


async def test_invalid_update_raises_and_changes_nothing(
    room: Room, peer: Callable[[str], Peer], sink: ListSink
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.receive(a.conn, a.edit("keep"))
    await b.take()
    for garbage in (b"\x01", b"not an update", b"\xff\xff\xff\xff"):
        with pytest.raises(InvalidUpdate, match=f"update of {len(garbage)} bytes"):
            room.receive(a.conn, wire.encode_update(garbage))
    assert str(room.doc.get("t", type=Text)) == "keep"
    assert await b.take() == []
    assert len(sink.appended) == 1


async def test_malformed_frame_raises_protocol_error(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    (a,) = await joined(room, peer, "a")
    with pytest.raises(ProtocolError, match="payload declares"):
        room.receive(a.conn, b"\x00\x02\x10short")


# -- sync step 1 -------------------------------------------------------------------------------


async def test_step1_is_answered_with_exactly_the_missing_diff(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.receive(a.conn, a.edit("hello"))
    (update,) = await b.take()
    assert isinstance(update, wire.SyncUpdate)
    b.doc.apply_update(update.update)
    room.receive(a.conn, a.edit(" world"))  # b misses this one (say it was offline)

    state = b.doc.get_state()
    room.receive(b.conn, wire.encode_sync_step1(state))
    messages = await b.take()
    step2 = messages[-1]
    assert step2 == wire.SyncStep2(room.doc.get_update(state))
    assert isinstance(step2, wire.SyncStep2)
    # The diff holds " world" but not "hello" again.
    assert b"world" in step2.update
    assert b"hello" not in step2.update
    b.doc.apply_update(step2.update)
    assert str(b.doc.get("t", type=Text)) == "hello world"
    assert await a.take() == []


async def test_step1_of_an_up_to_date_client_gets_an_empty_diff(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    (a,) = await joined(room, peer, "a")
    room.receive(a.conn, a.edit("same"))
    room.receive(a.conn, wire.encode_sync_step1(a.doc.get_state()))
    assert await a.take() == [wire.SyncStep2(wire.EMPTY_UPDATE)]


async def test_step1_of_a_new_client_gets_the_whole_document(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    (a,) = await joined(room, peer, "a")
    room.receive(a.conn, a.edit("everything"))
    b = peer("b")
    room.join(b.conn)
    room.receive(b.conn, wire.encode_sync_step1(Doc().get_state()))
    _hello, step1, step2 = await b.take()
    assert isinstance(step1, wire.SyncStep1)
    assert isinstance(step2, wire.SyncStep2)
    assert _text(step2.update) == "everything"


async def test_invalid_state_vector_raises_invalid_update(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    (a,) = await joined(room, peer, "a")
    with pytest.raises(InvalidUpdate, match="invalid state vector"):
        room.receive(a.conn, wire.encode_sync_step1(b"\xff\xff"))
    assert await a.take() == []


# -- awareness ---------------------------------------------------------------------------------


async def test_awareness_is_broadcast_to_others_and_tracked(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    a, b, c = await joined(room, peer, "a", "b", "c")
    room.receive(a.conn, a.presence({"user": "a", "color": "#f00"}))
    cid = a.awareness.client_id
    assert a.conn.awareness_ids == {cid}
    assert room.awareness.states[cid] == {"user": "a", "color": "#f00"}
    assert await a.take() == []
    for other in (b, c):
        (message,) = await other.take()
        assert isinstance(message, wire.AwarenessUpdate)
        assert _awareness_states(message.payload) == {cid: {"user": "a", "color": "#f00"}}


async def test_leave_removes_awareness_and_tells_the_others(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.receive(a.conn, a.presence({"user": "a"}))
    (announce,) = await b.take()
    assert isinstance(announce, wire.AwarenessUpdate)

    room.leave(a.conn)
    cid = a.awareness.client_id
    assert a.conn not in room.connections
    assert cid not in room.awareness.states
    assert a.conn.awareness_ids == set()
    (removal,) = await b.take()
    assert isinstance(removal, wire.AwarenessUpdate)
    # b, a Yjs peer that knows a's state, must drop it on this update.
    b.awareness.apply_awareness_update(announce.payload, "remote")
    assert cid in b.awareness.states
    b.awareness.apply_awareness_update(removal.payload, "remote")
    assert cid not in b.awareness.states
    assert await a.take() == []


async def test_leave_without_awareness_broadcasts_nothing(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.leave(a.conn)
    assert await b.take() == []


async def test_client_clearing_its_presence_is_broadcast(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.receive(a.conn, a.presence({"user": "a"}))
    (announce,) = await b.take()
    assert isinstance(announce, wire.AwarenessUpdate)
    b.awareness.apply_awareness_update(announce.payload, "remote")
    room.receive(a.conn, a.presence(None))
    cid = a.awareness.client_id
    assert cid not in room.awareness.states
    assert a.conn.awareness_ids == set()
    (removal,) = await b.take()
    assert isinstance(removal, wire.AwarenessUpdate)
    b.awareness.apply_awareness_update(removal.payload, "remote")
    assert cid not in b.awareness.states


async def test_malformed_awareness_raises_protocol_error(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    a, b = await joined(room, peer, "a", "b")
    for payload in (b"", b"\x01\x05", b"\x01\x01\x01\x05{bad}", b"\x01\x01\x01\x03{\xff}"):
        with pytest.raises(ProtocolError, match="malformed awareness update"):
            room.receive(a.conn, wire.encode_awareness(payload))
    assert await b.take() == []
    assert room.awareness.states == {}


async def test_query_awareness_is_answered_with_every_state(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    a, b, c = await joined(room, peer, "a", "b", "c")
    room.receive(a.conn, a.presence({"user": "a"}))
    room.receive(b.conn, b.presence({"user": "b"}))
    for p in (a, b, c):
        await p.take()
    room.receive(c.conn, wire.encode_query_awareness())
    (message,) = await c.take()
    assert isinstance(message, wire.AwarenessUpdate)
    assert _awareness_states(message.payload) == {
        a.awareness.client_id: {"user": "a"},
        b.awareness.client_id: {"user": "b"},
    }
    assert await a.take() == []  # only the asker is answered
    assert await b.take() == []


async def test_auth_and_unknown_frames_are_ignored(
    room: Room, peer: Callable[[str], Peer], sink: ListSink
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.receive(a.conn, wire.encode_permission_denied("nope"))
    room.receive(a.conn, b"\x09whatever")
    assert await a.take() == []
    assert await b.take() == []
    assert sink.appended == []


# -- close -------------------------------------------------------------------------------------


async def test_close_aborts_every_connection_and_stops_observing(
    room: Room, peer: Callable[[str], Peer], sink: ListSink
) -> None:
    a, b = await joined(room, peer, "a", "b")
    room.close()
    assert room.closed
    assert room.connections == set()
    for p in (a, b):
        assert p.conn.closed.is_set()
        assert p.conn.close_code == close_codes.GOING_AWAY
    room.doc["t"] = Text("after close")
    assert sink.appended == []
    room.close()  # idempotent


async def test_a_broken_awareness_update_announces_nothing(
    room: Room, peer: Callable[[str], Peer]
) -> None:
    """Found by fuzzing: pycrdt applied the entries before a broken one without telling
    anyone, so the state stayed in the room after its connection was closed."""
    a, b = await joined(room, peer, "a", "b")
    payload = b"\x02" + b"\x07\x01\x03[0]" + b"\x08\x01\x05{bad}"
    with pytest.raises(ProtocolError, match="malformed awareness update"):
        room.receive(a.conn, wire.encode_awareness(payload))
    assert room.awareness.states == {}
    assert a.conn.awareness_ids == set()
    assert await b.take() == []


# -- one pass per edit ---------------------------------------------------------------------------


class RecordingObserver:
    def __init__(self) -> None:
        self.updates: list[tuple[bytes, str | None]] = []
        self.awareness: list[tuple[bytes, str]] = []

    def local_update(self, update: bytes, user: str | None) -> None:
        self.updates.append((update, user))

    def local_awareness(self, payload: bytes, user: str) -> None:
        self.awareness.append((payload, user))


def _canvas(update: bytes) -> Canvas:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return Canvas(doc)


async def test_an_edit_and_its_history_entry_cost_one_append_one_publish_one_broadcast(
    room: Room, peer: Callable[[str], Peer], sink: ListSink, metrics: Metrics
) -> None:
    observer = RecordingObserver()
    room.observe(observer)
    a, b = await joined(room, peer, "a", "b")
    before = a.doc.get_state()
    Canvas(a.doc).add_layer(name="Sky")
    room.receive(a.conn, wire.encode_update(a.doc.get_update(before)))

    (entry,) = Canvas(room.doc).history()
    assert entry["label"] == "add layer 'Sky'" and entry["user"] == "a"
    assert len(sink.appended) == 1
    assert len(observer.updates) == 1 and observer.updates[0][1] == "a"
    assert _sample(metrics, "nexus_updates_applied_total") == 1
    for logged in (sink.appended[0][1], observer.updates[0][0]):
        written = _canvas(logged)  # the layer and its history entry in one update
        assert [layer.name for layer in written.read_layers()] == ["Sky"]
        assert [e["label"] for e in written.history()] == ["add layer 'Sky'"]
    (to_b,) = await b.take()
    assert isinstance(to_b, wire.SyncUpdate)
    assert [e["label"] for e in _canvas(to_b.update).history()] == ["add layer 'Sky'"]
    (to_a,) = await a.take()  # the sender gets only what the server added: the entry
    assert isinstance(to_a, wire.SyncUpdate)
    a.doc.apply_update(to_a.update)
    assert a.doc.get_state() == room.doc.get_state()
    assert _canvas(to_a.update).read_layers() == []


async def test_undo_and_its_history_entry_are_one_update(
    room: Room, peer: Callable[[str], Peer], sink: ListSink
) -> None:
    (a,) = await joined(room, peer, "a")
    before = a.doc.get_state()
    Canvas(a.doc).add_layer(name="Sky")
    room.receive(a.conn, wire.encode_update(a.doc.get_update(before)))
    await a.take()
    sink.appended.clear()
    done, _ = room.undo_for(a.conn.principal)
    assert done
    assert len(sink.appended) == 1
    assert [e["label"] for e in Canvas(room.doc).history()][-1] == "undo: remove layer 'Sky'"


async def test_remote_changes_are_not_told_to_the_observers_nor_logged(
    room: Room, peer: Callable[[str], Peer], sink: ListSink
) -> None:
    observer = RecordingObserver()
    room.observe(observer)
    (a,) = await joined(room, peer, "a")
    other: Doc[Any] = Doc()
    other.get("t", type=Text).insert(0, "from elsewhere")
    room.apply_remote(other.get_update(), "zoe")
    (message,) = await a.take()
    assert isinstance(message, wire.SyncUpdate)
    assert _text(message.update) == "from elsewhere"
    assert sink.appended == [] and observer.updates == []
    # the local client's presence is told to the observers
    room.receive(a.conn, a.presence({"name": "A"}))
    assert [user for _, user in observer.awareness] == ["a"]


@pytest.mark.parametrize("batch", [False, True])
async def test_a_sender_gets_what_its_update_unblocked(
    sink: ListSink, metrics: Metrics, batch: bool
) -> None:
    """An update can let the room integrate changes it held back for a missing dependency
    (another instance's envelope that arrived before the one it builds on). The sender has
    its own update, not those: it must be sent them, or its replica lacks them, and every
    later change of their author, for good (found by the chaos soak after an instance
    restart: a client's offline step 2 supplied what the reloaded room lacked)."""
    room = Room(DOC_ID, Doc(), sink, metrics, batch=batch)
    a, b = Peer("a"), Peer("b")
    for p in (a, b):
        room.join(p.conn)
        await p.take()
    zoe: Doc[Any] = Doc()
    text = zoe.get("t", type=Text)
    text.insert(0, "one ")
    first = zoe.get_update()
    text.insert(4, "two")
    second = zoe.get_update(_state_of(first))
    room.apply_remote(second, "zoe")  # held back: it builds on ``first``
    assert str(room.doc.get("t", type=Text)) == ""
    a.doc.apply_update(first)  # ``a`` had it (say, from before the room was reloaded)
    a.doc.get("t", type=Text).insert(len(a.doc.get("t", type=Text)), "!")
    room.receive(a.conn, wire.encode_sync_step2(a.doc.get_update(room.doc.get_state())))
    want = str(room.doc.get("t", type=Text))
    assert sorted(want) == sorted("one two!")
    await asyncio.sleep(0)  # a batching room sends at the end of the loop turn
    for p in (a, b):
        for message in await p.take():
            if isinstance(message, wire.SyncUpdate):
                p.doc.apply_update(message.update)
    assert str(b.doc.get("t", type=Text)) == want
    assert str(a.doc.get("t", type=Text)) == want
    room.close()


def _state_of(update: bytes) -> bytes:
    doc: Doc[Any] = Doc()
    doc.apply_update(update)
    return doc.get_state()
