"""A room: one live pycrdt document, its connections, their awareness states, every user's
undo stack and the shared history panel.

The room has no I/O of its own. Frames come in through ``receive``; everything it sends goes
through each connection's non-blocking ``send``; every document change is handed to the
update log (``UpdateSink.append``), which commits in groups. So a slow socket or a slow disk
never stalls the room.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from pycrdt import Awareness, Doc, Subscription, TransactionEvent

from collab import close_codes, protocol
from collab.canvas import Canvas
from collab.connection import Connection
from collab.exceptions import InvalidUpdate, ProtocolError
from collab.history import ChangeDescriber, HistoryLog
from collab.identity import Principal
from collab.metrics import Metrics
from collab.settings import Settings
from collab.undo import RoomUndo, UndoState

log = logging.getLogger(__name__)
T = TypeVar("T")


class UpdateSink(Protocol):
    def append(self, doc_id: str, update: bytes) -> None: ...


class Room:
    """The live state of one document on this instance."""

    def __init__(
        self,
        doc_id: str,
        doc: Doc[Any],
        sink: UpdateSink,
        metrics: Metrics,
        settings: Settings | None = None,
    ) -> None:
        settings = settings or Settings()
        self.doc_id = doc_id
        self.doc = doc
        self.connections: set[Connection] = set()
        self.unsaved_updates = 0
        self.loaded_seq = 0  # the store's log position this room was loaded at
        self.first_unsaved_at: float | None = None
        self._sink = sink
        self._metrics = metrics
        self._sender: Connection | None = None
        self._received_at = 0.0
        self.undo = RoomUndo(
            doc, max_depth=settings.undo_max_depth, capture_ms=settings.undo_capture_ms
        )
        self.history = HistoryLog(
            doc,
            max_entries=settings.history_max_entries,
            coalesce_s=settings.history_coalesce_seconds,
        )
        self._describer = ChangeDescriber(doc)
        self.awareness = Awareness(doc)
        self.awareness.set_local_state(None)  # the server itself has no presence
        self._doc_subscription: Subscription | None = doc.observe(self._on_transaction)
        self._awareness_subscription = self.awareness.observe(self._on_awareness)
        self.closed = False

    # -- connections ---------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        """Add a connection and start the sync handshake (server's step 1 + awareness)."""
        self.connections.add(conn)
        conn.send(protocol.encode_sync_step1(self.doc.get_state()))
        states = [cid for cid in self.awareness.states if cid != self.awareness.client_id]
        if states:
            conn.send(protocol.encode_awareness(self.awareness.encode_awareness_update(states)))

    def leave(self, conn: Connection) -> None:
        """Remove a connection and the awareness states it announced (others are told)."""
        self.connections.discard(conn)
        if conn.awareness_ids:
            ids = [cid for cid in conn.awareness_ids if cid in self.awareness.states]
            conn.awareness_ids.clear()
            self.awareness.remove_awareness_states(ids, origin=conn)

    # -- incoming frames -----------------------------------------------------------------

    def receive(self, conn: Connection, frame: bytes) -> None:
        """Handle one frame from ``conn``.

        Raises ``ProtocolError`` for a malformed frame and ``InvalidUpdate`` for an update the
        document cannot apply; the caller closes that connection, the room carries on.
        """
        self._metrics.bytes_in.inc(len(frame))
        message = protocol.decode(frame)
        match message:
            case protocol.SyncUpdate(update) | protocol.SyncStep2(update):
                self._apply(conn, update)
            case protocol.SyncStep1(state_vector):
                try:
                    diff = self.doc.get_update(state_vector)
                except ValueError as exc:
                    raise InvalidUpdate(f"invalid state vector in sync step 1: {exc}") from exc
                conn.send(protocol.encode_sync_step2(diff))
            case protocol.AwarenessUpdate(payload):
                self._apply_awareness(conn, payload)
            case protocol.QueryAwareness():
                ids = list(self.awareness.states)
                conn.send(protocol.encode_awareness(self.awareness.encode_awareness_update(ids)))
            case protocol.Command(body):
                conn.send(protocol.encode_command(self._command(conn.principal, body)))
            case protocol.Auth() | protocol.Unknown():
                pass  # server-to-client only / unknown types are ignored, as the protocol says

    def _apply(self, conn: Connection, update: bytes) -> None:
        if update == protocol.EMPTY_UPDATE:
            return
        user = conn.principal.user_id
        self.undo.track(user)
        self._sender = conn
        self._received_at = time.perf_counter()
        try:
            with self.doc.transaction(origin=user):
                self.doc.apply_update(update)
        except ValueError as exc:
            self._describer.take()
            raise InvalidUpdate(f"update of {len(update)} bytes cannot be applied: {exc}") from exc
        finally:
            self._sender = None
        self.undo.after_change(user)
        self._record(conn.principal, "edit")

    # -- commands: undo / redo / restore -------------------------------------------------

    def undo_for(self, principal: Principal) -> tuple[bool, UndoState]:
        """Undo ``principal``'s last change; the result is broadcast like any update."""
        done = self.undo.undo(principal.user_id)
        self._record(principal, "undo")
        return done, self.undo.state(principal.user_id)

    def redo_for(self, principal: Principal) -> tuple[bool, UndoState]:
        done = self.undo.redo(principal.user_id)
        self._record(principal, "redo")
        return done, self.undo.state(principal.user_id)

    def edit(self, principal: Principal, change: Callable[[Canvas], T]) -> T:
        """Apply a server-side change on behalf of ``principal`` (e.g. a REST layer upload):
        one transaction with the user as origin, so it is broadcast, logged, recorded in the
        history and undoable by that user like an edit they made themselves."""
        user = principal.user_id
        self.undo.track(user)
        with self.doc.transaction(origin=user):
            result = change(Canvas(self.doc))
        self.undo.after_change(user)
        self._record(principal, "edit")
        return result

    def restore(self, principal: Principal, version: Canvas, label: str) -> UndoState:
        """Bring ``meta`` and ``layers`` back to ``version`` as one change of ``principal``'s,
        which that user can undo like any other."""
        user = principal.user_id
        self.undo.track(user)
        self.undo.cut(user)
        with self.doc.transaction(origin=user):
            Canvas(self.doc).replace_content(version)
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

    def _command(self, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
        op, ref = body.get("op"), body.get("id")
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
        return {
            "id": ref, "ok": True, "op": op, "done": done,
            "can_undo": state.can_undo, "can_redo": state.can_redo,
        }  # fmt: skip

    def _apply_awareness(self, conn: Connection, payload: bytes) -> None:
        self._sender = conn
        self._received_at = time.perf_counter()
        try:
            self.awareness.apply_awareness_update(payload, origin=conn)
        except (ValueError, IndexError, RuntimeError, TypeError) as exc:
            raise ProtocolError(f"malformed awareness update: {exc}") from exc
        finally:
            self._sender = None

    # -- fan-out ---------------------------------------------------------------------------

    def _on_transaction(self, event: TransactionEvent) -> None:
        update = event.update
        if update == protocol.EMPTY_UPDATE:
            return
        self._metrics.updates_applied.inc()
        self.unsaved_updates += 1
        if self.first_unsaved_at is None:
            self.first_unsaved_at = time.monotonic()
        self._sink.append(self.doc_id, update)
        received = self._received_at if self._sender is not None else time.perf_counter()
        self._broadcast(protocol.encode_update(update), exclude=self._sender, received=received)

    def _on_awareness(self, topic: str, change: tuple[dict[str, Any], Any]) -> None:
        if topic != "update":
            return
        changes, origin = change
        if isinstance(origin, Connection):
            origin.awareness_ids.update(changes["added"])
            origin.awareness_ids.update(changes["updated"])
            origin.awareness_ids.difference_update(changes["removed"])
        changed = [*changes["added"], *changes["updated"], *changes["removed"]]
        frame = protocol.encode_awareness(self.awareness.encode_awareness_update(changed))
        sender = origin if isinstance(origin, Connection) else None
        received = self._received_at if self._sender is not None else time.perf_counter()
        self._broadcast(frame, exclude=sender, received=received)

    def _broadcast(self, frame: bytes, *, exclude: Connection | None, received: float) -> None:
        for conn in self.connections:
            if conn is not exclude:
                conn.send(frame, received)

    # -- lifecycle ---------------------------------------------------------------------------

    def mark_saved(self) -> None:
        self.unsaved_updates = 0
        self.loaded_seq = 0  # the store's log position this room was loaded at
        self.first_unsaved_at = None

    def close(self) -> None:
        """Disconnect everyone and drop subscriptions; the room is not used afterwards."""
        if self.closed:
            return
        self.closed = True
        for conn in list(self.connections):
            conn.abort(close_codes.GOING_AWAY, "room closed")
        self.connections.clear()
        if self._doc_subscription is not None:
            self.doc.unobserve(self._doc_subscription)
            self._doc_subscription = None
        self.awareness.unobserve(self._awareness_subscription)
        self._describer.close()
