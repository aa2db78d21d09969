"""A room: one live pycrdt document, its connections, their awareness states, every user's
undo stack and the shared history panel.

The room has no I/O of its own. Frames come in through ``receive``; everything it sends goes
through each connection's non-blocking ``send``; every document change is handed to the
update log (``UpdateSink.append``), which commits in groups. So a slow socket or a slow disk
never stalls the room. Replication across instances is not in here: it hangs on the room as a
``RoomObserver`` (``RoomReplica`` in ``collab/replication/relay.py``); framing belongs to the
transport.

One update's path: ``receive`` → ``_apply`` opens a :class:`Change` (who, from which
connection, when) and applies the update in a transaction whose origin is that change; the
history entry it earns is written within the same change; when the change closes, its updates
(merged when there are two) go once to the update log and once to the observers, and (in a
server room, ``batch=True``) join this event-loop turn's broadcast, which sends each
connection one merged update at the end of the turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

from pycrdt import Array, Awareness, Doc, Subscription, TransactionEvent, merge_updates

from canvasdoc import close_codes, wire
from canvasdoc.canvas import Canvas
from collab.auth.identity import Principal
from collab.exceptions import DocumentTooLarge, InvalidUpdate, ProtocolError
from collab.observability.metrics import Metrics
from collab.session.connection import Connection
from collab.session.history import ChangeDescriber, HistoryLog
from collab.session.layer_events import LayerEvent, observe_layers, unobserve_layers
from collab.session.transport import SharedFrame
from collab.session.undo import RoomUndo, UndoState
from collab.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

REMOTE_ORIGIN = "nexus:remote"  # transaction / awareness origin of changes from other instances


class UpdateSink(Protocol):
    def append(self, doc_id: str, update: bytes) -> None: ...


class RoomObserver(Protocol):
    """What hangs on a room to follow its local changes (replication across instances)."""

    def local_update(self, update: bytes, user: str | None) -> None:
        """An update made on this instance (not one applied with ``apply_remote``)."""

    def local_awareness(self, payload: bytes, user: str) -> None:
        """An awareness change announced by one of this instance's connections."""


class Change:
    """The context of one change of the document: it travels as the origin of the
    transactions it opens (so undo managers see the user: it hashes and compares as the
    user id) and collects the updates they produce, which are sent out once it closes."""

    __slots__ = ("received_at", "remote", "sender", "sent", "updates", "user")

    def __init__(
        self,
        user: str | None,
        *,
        sender: Connection | None = None,
        received_at: float | None = None,
        remote: bool = False,
    ) -> None:
        self.user = user
        self.sender = sender  # the connection it came from: not echoed back to it
        self.sent: bytes | None = None  # the update the sender sent, when it sent one
        self.received_at = received_at
        self.remote = remote  # another instance's change: neither logged nor republished
        self.updates: list[bytes] = []

    def __hash__(self) -> int:  # pycrdt's undo managers track origins by their hash
        return hash(self.user if self.user is not None else REMOTE_ORIGIN)


class _Outgoing:
    """A change's update waiting for the end of the loop turn to be broadcast."""

    __slots__ = ("received", "rest", "sender", "update")

    def __init__(
        self, update: bytes, sender: Connection | None, rest: bytes | None, received: float
    ) -> None:
        self.update = update
        self.sender = sender  # gets ``rest`` (what the server added) instead of ``update``
        self.rest = rest
        self.received = received


class Room:
    """The live state of one document on this instance.

    With ``batch=True`` (the server's rooms) the updates applied during one event-loop turn
    are broadcast together at its end (``loop.call_soon``, never a timer): when there are
    several, each receiver gets one merged update instead of one frame per update, so the
    cost per delivery falls as load rises; an idle room sends right after the current
    callback, adding no latency. Without a running loop every change is sent at once.
    """

    def __init__(
        self,
        doc_id: str,
        doc: Doc[Any],
        sink: UpdateSink,
        metrics: Metrics,
        settings: Settings | None = None,
        *,
        batch: bool = False,
    ) -> None:
        settings = settings or Settings()
        self._loop: asyncio.AbstractEventLoop | None = None
        if batch:
            with contextlib.suppress(RuntimeError):
                self._loop = asyncio.get_running_loop()
        self._pending: list[_Outgoing] = []  # this turn's updates, not yet broadcast
        self._max_bytes = settings.max_document_bytes
        self.doc_id = doc_id
        self.doc = doc
        self.connections: set[Connection] = set()
        self.unsaved_updates = 0
        self.first_unsaved_at: float | None = None
        # Upper bound of the encoded document size: grows by each effective update, reset to
        # the exact size at every snapshot (deletions in Yjs leave tombstones anyway).
        self.size_estimate = len(doc.get_update())
        self._sink = sink
        self._metrics = metrics
        self._observers: list[RoomObserver] = []
        # The change being applied now. pycrdt hands a document observer only the hash of a
        # transaction's origin, so the open change is where the observer finds it.
        self._open: Change | None = None
        self.undo = RoomUndo(
            doc,
            max_depth=settings.undo_max_depth,
            capture_ms=settings.undo_capture_ms,
            observe=False,
        )
        self.history = HistoryLog(
            doc,
            max_entries=settings.history_max_entries,
            coalesce_s=settings.history_coalesce_seconds,
        )
        self._describer = ChangeDescriber(doc, observe=False)
        # One observer of the layers for both (each deep observer costs a pass over the events).
        self._layers_subscription: Subscription | None = observe_layers(
            doc, doc.get("layers", type=Array), self._on_layers
        )
        self.awareness = Awareness(doc)
        self.awareness.set_local_state(None)  # the server itself has no presence
        self._doc_subscription: Subscription | None = doc.observe(self._on_transaction)
        self._awareness_subscription = self.awareness.observe(self._on_awareness)
        self.closed = False

    @property
    def batch_loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop over whose turns this room batches its broadcasts (None: it
        broadcasts each update at once)."""
        return self._loop

    def _on_layers(self, events: list[LayerEvent]) -> None:
        self.undo.on_layers(events)  # first: it decides how the undo managers group this change
        self._describer.on_layers(events)

    def observe(self, observer: RoomObserver) -> Callable[[], None]:
        """Tell ``observer`` about every local change; returns the function that stops it."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    # -- connections ---------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        """Add a connection: tell it its role (the ``hello`` notice, first, so a client knows
        whether its replica is read-only before it answers the sync), then start the sync
        handshake (server's step 1 + awareness)."""
        self.connections.add(conn)
        principal = conn.principal
        conn.send(
            wire.encode_hello(
                doc_id=self.doc_id, role=conn.role, user=principal.user_id, name=principal.name
            )
        )
        conn.send(wire.encode_sync_step1(self.doc.get_state()))
        states = [cid for cid in self.awareness.states if cid != self.awareness.client_id]
        if states:
            conn.send(wire.encode_awareness(self.awareness.encode_awareness_update(states)))

    def leave(self, conn: Connection) -> None:
        """Remove a connection and the awareness states it announced (others are told)."""
        self.connections.discard(conn)
        if conn.awareness_ids:
            ids = [cid for cid in conn.awareness_ids if cid in self.awareness.states]
            conn.awareness_ids.clear()
            self.awareness.remove_awareness_states(ids, origin=_from(conn))

    def local_awareness_ids(self) -> set[int]:
        """Awareness client ids announced through this instance's connections."""
        return set().union(*(c.awareness_ids for c in self.connections))

    # -- incoming frames -----------------------------------------------------------------

    def receive(self, conn: Connection, frame: bytes) -> None:
        """Handle one frame from ``conn``.

        Raises ``ProtocolError`` for a malformed frame and ``InvalidUpdate`` for an update the
        document cannot apply; the caller closes that connection, the room carries on.
        """
        self._metrics.bytes_in.inc(len(frame))
        message = wire.decode(frame)
        match message:
            case wire.SyncUpdate(update) | wire.SyncStep2(update):
                if conn.role == "viewer":
                    self._deny(conn, update)
                else:
                    self._apply(conn, update)
                return
        if self._pending:  # replies and notices keep their order after this turn's updates
            self.flush()
        match message:
            case wire.SyncStep1(state_vector):
                try:
                    diff = self.doc.get_update(state_vector)
                except ValueError as exc:
                    raise InvalidUpdate(f"invalid state vector in sync step 1: {exc}") from exc
                conn.send(wire.encode_sync_step2(diff))
            case wire.AwarenessUpdate(payload):
                self._apply_awareness(conn, payload)
            case wire.QueryAwareness():
                ids = list(self.awareness.states)
                conn.send(wire.encode_awareness(self.awareness.encode_awareness_update(ids)))
            case wire.Command(body):
                conn.send(wire.encode_command(self._command(conn, body)))
            case wire.Auth() | wire.Unknown():
                pass  # server-to-client only / unknown types are ignored, as the protocol says

    def _deny(self, conn: Connection, update: bytes) -> None:
        """A viewer's update is never applied (checked here, on the raw frame); the client is
        told with the y-websocket permission-denied message, at most once a second."""
        if update == wire.EMPTY_UPDATE:
            return
        self._metrics.updates_denied.inc()
        now = time.monotonic()
        if now - conn.denied_at >= 1.0:
            conn.denied_at = now
            conn.send(
                wire.encode_permission_denied(
                    f"read-only: {conn.principal.name!r} is a viewer of {self.doc_id!r}"
                )
            )

    def _apply(self, conn: Connection, update: bytes) -> None:
        if update == wire.EMPTY_UPDATE:
            return
        if self.size_estimate + len(update) > self._max_bytes:
            raise DocumentTooLarge(
                f"document {self.doc_id!r} is limited to {self._max_bytes} bytes; this update "
                f"of {len(update)} bytes would grow it past that (now about "
                f"{self.size_estimate}); it was not applied"
            )
        principal = conn.principal
        change = Change(principal.user_id, sender=conn, received_at=time.perf_counter())
        change.sent = update
        with self._changing(change):
            self.undo.track(principal.user_id)
            try:
                with self.doc.transaction(origin=change):
                    self.doc.apply_update(update)
            except (ValueError, RuntimeError) as exc:  # yrs refuses some updates with either
                self._describer.take()
                raise InvalidUpdate(
                    f"update of {len(update)} bytes cannot be applied: {exc}"
                ) from exc
            finally:
                self.undo.finish()
            self.undo.after_change(principal.user_id)
            self._record(principal, "edit")

    # -- commands: undo / redo / restore -------------------------------------------------

    def undo_for(self, principal: Principal) -> tuple[bool, UndoState]:
        """Undo ``principal``'s last change; the result is broadcast like any update."""
        with self._changing(Change(principal.user_id)):
            done = self.undo.undo(principal.user_id)
            self._record(principal, "undo")
        return done, self.undo.state(principal.user_id)

    def redo_for(self, principal: Principal) -> tuple[bool, UndoState]:
        with self._changing(Change(principal.user_id)):
            done = self.undo.redo(principal.user_id)
            self._record(principal, "redo")
        return done, self.undo.state(principal.user_id)

    def edit(self, principal: Principal, change: Callable[[Canvas], T]) -> T:
        """Apply a server-side change on behalf of ``principal`` (e.g. a REST layer upload):
        one transaction with the user as origin, so it is broadcast, logged, recorded in the
        history and undoable by that user like an edit they made themselves."""
        user = principal.user_id
        with self._changing(Change(user)) as origin:
            self.undo.track(user)
            try:
                with self.doc.transaction(origin=origin):
                    result = change(Canvas(self.doc))
            finally:
                self.undo.finish()
            self.undo.after_change(user)
            self._record(principal, "edit")
        return result

    def restore(self, principal: Principal, version: Canvas, label: str) -> UndoState:
        """Bring ``meta`` and ``layers`` back to ``version`` as one change of ``principal``'s,
        which that user can undo like any other."""
        user = principal.user_id
        with self._changing(Change(user)) as origin:
            self.undo.track(user)
            self.undo.cut(user)
            try:
                with self.doc.transaction(origin=origin):
                    Canvas(self.doc).replace_content(version)
            finally:
                self.undo.finish()
            self.undo.cut(user)
            self.undo.after_change(user)
            self._describer.take()
            self.history.record(user, principal.name, "restore", f"restore version {label}")
        return self.undo.state(user)

    def _record(self, principal: Principal, action: str) -> None:
        label = self._describer.take()
        if label is None:
            return
        if action != "edit":
            label = f"{action}: {label}"
        self.history.record(principal.user_id, principal.name, action, label)

    def _command(self, conn: Connection, body: dict[str, Any]) -> dict[str, Any]:
        principal = conn.principal
        op, ref = body.get("op"), body.get("id")
        if op in ("undo", "redo") and conn.role == "viewer":
            return {"id": ref, "ok": False, "error": f"read-only: viewers cannot {op}"}
        if op not in ("undo", "redo", "state"):
            return {
                "id": ref,
                "ok": False,
                "error": f"unknown op {op!r}; expected undo, redo or state",
            }
        done = False
        if op == "undo":
            done, state = self.undo_for(principal)
        elif op == "redo":
            done, state = self.redo_for(principal)
        else:
            state = self.undo.state(principal.user_id)
        self.flush()  # the change reaches the client before the reply that reports it
        return {
            "id": ref, "ok": True, "op": op, "done": done,
            "can_undo": state.can_undo, "can_redo": state.can_redo,
        }  # fmt: skip

    def _apply_awareness(self, conn: Connection, payload: bytes) -> None:
        origin = Change(conn.principal.user_id, sender=conn, received_at=time.perf_counter())
        try:
            self.awareness.apply_awareness_update(payload, origin=origin)
        except (ValueError, IndexError, RuntimeError, TypeError) as exc:
            raise ProtocolError(f"malformed awareness update: {exc}") from exc

    # -- changes from other instances ----------------------------------------------------

    def apply_remote(self, update: bytes, user: str | None) -> None:
        """Apply another instance's update: sent to this instance's connections, neither
        logged (its instance did) nor told to the observers. ``user`` is who made it, so
        per-user undo works whichever instance the user is on."""
        if update == wire.EMPTY_UPDATE:
            return
        change = Change(user, received_at=time.perf_counter(), remote=True)
        with self._changing(change):
            if user is not None:
                self.undo.track(user)
            with self.doc.transaction(origin=change):
                self.doc.apply_update(update)
            self._describer.take()  # the origin instance records the history entry
            if user is not None:
                self.undo.after_change(user)

    def apply_remote_awareness(self, payload: bytes) -> None:
        self.awareness.apply_awareness_update(payload, Change(None, remote=True))

    def remove_remote_awareness(self, client_ids: list[int]) -> None:
        self.awareness.remove_awareness_states(client_ids, Change(None, remote=True))

    # -- fan-out ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _changing(self, change: Change) -> Iterator[Change]:
        """Collect the updates of ``change``'s transactions; send them out when it closes."""
        if self._open is not None:
            raise RuntimeError(f"room {self.doc_id!r}: a change is already being applied")
        self._open = change
        try:
            yield change
        finally:
            self._open = None
            if change.updates:
                self._emit(change)

    def _on_transaction(self, event: TransactionEvent) -> None:
        update = event.update
        if update == wire.EMPTY_UPDATE:
            return
        change = self._open
        if change is None:  # a transaction opened outside the room (the AI job host)
            change = Change(None)
            change.updates.append(update)
            self._emit(change)
        else:
            change.updates.append(update)

    def _emit(self, change: Change) -> None:
        """One store append and one notice to the observers for the change, at once; its
        broadcast now, or with the others of this loop turn when the room batches."""
        updates = change.updates
        update = updates[0] if len(updates) == 1 else merge_updates(*updates)
        self._metrics.updates_applied.inc()
        self.size_estimate += len(update)
        self.unsaved_updates += 1
        if self.first_unsaved_at is None:
            self.first_unsaved_at = time.monotonic()
        if not change.remote:
            self._sink.append(self.doc_id, update)
            for observer in self._observers:
                observer.local_update(update, change.user)
        sender = change.sender
        # The sender has its own update; what the server added to it (the history entry) it
        # has not. Its transaction may also have integrated more than it sent (changes the
        # room held back for a missing dependency that this update supplied): then the
        # integrated update differs from the one sent (yrs re-encodes a Yjs or pycrdt update
        # byte for byte) and the sender gets all of it.
        rest = None
        if sender is not None:
            if updates[0] != change.sent:
                rest = update
            elif len(updates) > 1:
                rest = updates[1] if len(updates) == 2 else merge_updates(*updates[1:])
        out = _Outgoing(update, sender, rest, change.received_at or time.perf_counter())
        if self._loop is None:
            self._send_out([out])
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(out)

    def flush(self) -> None:
        """Send the updates of this loop turn (called at its end; anything that must reach a
        connection after them, a command's reply, calls it first)."""
        pending, self._pending = self._pending, []
        if pending and not self.closed:
            self._send_out(pending)

    def _send_out(self, pending: list[_Outgoing]) -> None:
        if len(pending) == 1:
            (out,) = pending
            self._broadcast(
                wire.encode_update(out.update), exclude=out.sender, received=out.received
            )
            if out.sender is not None and out.rest is not None:
                out.sender.send(wire.encode_update(out.rest), out.received)
            return
        # Several updates this turn: one merged frame for everyone who sent none of them,
        # and for each sender the others' updates (plus what the server added to its own).
        received = min(out.received for out in pending)
        merged = merge_updates(*(out.update for out in pending))
        senders = {out.sender for out in pending if out.sender is not None}
        shared = SharedFrame(wire.encode_update(merged))
        for conn in self.connections:
            if conn not in senders:
                conn.send(shared.payload, received, shared)
        for sender in senders:
            if sender not in self.connections:
                continue
            theirs = [
                update
                for out in pending
                if (update := out.update if out.sender is not sender else out.rest) is not None
            ]
            if theirs:
                update = theirs[0] if len(theirs) == 1 else merge_updates(*theirs)
                sender.send(wire.encode_update(update), received)

    def _on_awareness(self, topic: str, event: tuple[dict[str, Any], Any]) -> None:
        if topic != "update":
            return
        changes, origin = event
        sender = origin.sender if isinstance(origin, Change) else None
        if sender is not None:
            sender.awareness_ids.update(changes["added"])
            sender.awareness_ids.update(changes["updated"])
            sender.awareness_ids.difference_update(changes["removed"])
        changed = [*changes["added"], *changes["updated"], *changes["removed"]]
        payload = self.awareness.encode_awareness_update(changed)
        if sender is not None:
            for observer in self._observers:
                observer.local_awareness(payload, sender.principal.user_id)
        received = origin.received_at if isinstance(origin, Change) else None
        self._broadcast(
            wire.encode_awareness(payload),
            exclude=sender,
            received=received or time.perf_counter(),
        )

    def _broadcast(self, frame: bytes, *, exclude: Connection | None, received: float) -> None:
        shared = SharedFrame(frame)  # framed once by the transport: same bytes for everyone
        for conn in self.connections:
            if conn is not exclude:
                conn.send(frame, received, shared)

    # -- lifecycle ---------------------------------------------------------------------------

    def mark_saved(self) -> None:
        self.unsaved_updates = 0
        self.first_unsaved_at = None

    def close(self) -> None:
        """Disconnect everyone and drop subscriptions; the room is not used afterwards."""
        if self.closed:
            return
        self.closed = True
        for conn in list(self.connections):
            conn.abort(close_codes.GOING_AWAY, "room closed")
        self.connections.clear()
        self._observers.clear()
        if self._doc_subscription is not None:
            self.doc.unobserve(self._doc_subscription)
            self._doc_subscription = None
        self.awareness.unobserve(self._awareness_subscription)
        if self._layers_subscription is not None:
            unobserve_layers(self._layers_subscription)
            self._layers_subscription = None
        self._describer.close()
        self.undo.close()


def _from(conn: Connection) -> Change:
    """The origin of a change a connection makes without a frame of its own (leaving)."""
    return Change(conn.principal.user_id, sender=conn, received_at=time.perf_counter())
