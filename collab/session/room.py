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

from canvasdoc import close_codes, wire
from canvasdoc.canvas import Canvas
from collab.asgi.uvicorn_ws import frame_binary
from collab.auth.identity import Principal
from collab.exceptions import DocumentTooLarge, InvalidUpdate, ProtocolError
from collab.observability.metrics import Metrics
from collab.replication.broker.base import Envelope, EnvelopeKind
from collab.session.connection import Connection
from collab.session.history import ChangeDescriber, HistoryLog
from collab.session.undo import RoomUndo, UndoState
from collab.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class UpdateSink(Protocol):
    def append(self, doc_id: str, update: bytes) -> None: ...


class EnvelopeSink(Protocol):
    """Where a room publishes its own changes for the other instances (``EnvelopeRelay``)."""

    @property
    def instance_id(self) -> str: ...

    def send(self, envelope: Envelope) -> None: ...


REMOTE_ORIGIN = "nexus:remote"  # transaction / awareness origin of changes from other instances
_REMOTE_AWARENESS_MAX_AGE_MS = 35_000  # Yjs peers renew every 15 s and drop after 30 s


class Room:
    """The live state of one document on this instance."""

    def __init__(
        self,
        doc_id: str,
        doc: Doc[Any],
        sink: UpdateSink,
        metrics: Metrics,
        settings: Settings | None = None,
        relay: EnvelopeSink | None = None,
    ) -> None:
        settings = settings or Settings()
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
        self._sender: Connection | None = None
        self._received_at = 0.0
        self._relay = relay
        self._origin_user: str | None = None  # the user a local transaction is applied for
        self._remote = False  # applying another instance's change: don't log or republish
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
            self.awareness.remove_awareness_states(ids, origin=conn)

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
                    f"read-only: {conn.principal.user_id!r} is a viewer of {self.doc_id!r}"
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
        user = conn.principal.user_id
        self.undo.track(user)
        self._sender = conn
        self._origin_user = user
        self._received_at = time.perf_counter()
        try:
            with self.doc.transaction(origin=user):
                self.doc.apply_update(update)
        except ValueError as exc:
            self._describer.take()
            raise InvalidUpdate(f"update of {len(update)} bytes cannot be applied: {exc}") from exc
        finally:
            self._sender = None
            self._origin_user = None
            self.undo.finish()
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
        self._origin_user = user
        try:
            with self.doc.transaction(origin=user):
                result = change(Canvas(self.doc))
        finally:
            self._origin_user = None
            self.undo.finish()
        self.undo.after_change(user)
        self._record(principal, "edit")
        return result

    def restore(self, principal: Principal, version: Canvas, label: str) -> UndoState:
        """Bring ``meta`` and ``layers`` back to ``version`` as one change of ``principal``'s,
        which that user can undo like any other."""
        user = principal.user_id
        self.undo.track(user)
        self.undo.cut(user)
        self._origin_user = user
        try:
            with self.doc.transaction(origin=user):
                Canvas(self.doc).replace_content(version)
        finally:
            self._origin_user = None
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
        if update == wire.EMPTY_UPDATE:
            return
        self._metrics.updates_applied.inc()
        self.size_estimate += len(update)
        self.unsaved_updates += 1
        if self.first_unsaved_at is None:
            self.first_unsaved_at = time.monotonic()
        if not self._remote:  # another instance's change is logged and published by it
            self._sink.append(self.doc_id, update)
            self._publish(EnvelopeKind.UPDATE, update, user=self._origin_user)
        received = self._received_at if self._sender is not None else time.perf_counter()
        self._broadcast(wire.encode_update(update), exclude=self._sender, received=received)

    def _on_awareness(self, topic: str, change: tuple[dict[str, Any], Any]) -> None:
        if topic != "update":
            return
        changes, origin = change
        if isinstance(origin, Connection):
            origin.awareness_ids.update(changes["added"])
            origin.awareness_ids.update(changes["updated"])
            origin.awareness_ids.difference_update(changes["removed"])
        changed = [*changes["added"], *changes["updated"], *changes["removed"]]
        payload = self.awareness.encode_awareness_update(changed)
        frame = wire.encode_awareness(payload)
        if isinstance(origin, Connection):
            self._publish(EnvelopeKind.AWARENESS, payload, user=origin.principal.user_id)
        sender = origin if isinstance(origin, Connection) else None
        received = self._received_at if self._sender is not None else time.perf_counter()
        self._broadcast(frame, exclude=sender, received=received)

    # -- other instances ---------------------------------------------------------------------

    def _publish(
        self, kind: EnvelopeKind, payload: bytes, *, user: str | None, target: str | None = None
    ) -> None:
        if self._relay is not None:
            self._relay.send(
                Envelope(self.doc_id, self._relay.instance_id, user, kind, payload, target)
            )

    def request_sync(self) -> None:
        """Ask the other instances for what this replica lacks (after loading the room or a
        broker outage: pub/sub is at-most-once); they answer and ask back."""
        self._publish(EnvelopeKind.SYNC_REQUEST, self.doc.get_state(), user=None)

    def receive_envelope(self, envelope: Envelope) -> None:
        """Apply traffic from another instance; a bad envelope is logged, never raised."""
        try:
            match envelope.kind:
                case EnvelopeKind.UPDATE | EnvelopeKind.SYNC_REPLY:
                    user = envelope.origin_user if envelope.kind is EnvelopeKind.UPDATE else None
                    self._apply_remote(envelope.payload, user)
                case EnvelopeKind.AWARENESS:
                    self._remote = True
                    try:
                        self.awareness.apply_awareness_update(envelope.payload, REMOTE_ORIGIN)
                    finally:
                        self._remote = False
                case EnvelopeKind.SYNC_REQUEST:
                    self._answer_sync(envelope)
        except Exception as exc:
            log.warning(
                "ignoring a bad envelope from another instance",
                extra={
                    "doc_id": self.doc_id,
                    "from": envelope.origin_instance,
                    "kind": str(envelope.kind),
                    "error": repr(exc),
                },
            )

    def _apply_remote(self, update: bytes, user: str | None) -> None:
        if update == wire.EMPTY_UPDATE:
            return
        if user is not None:
            self.undo.track(user)  # per-user undo works whichever instance the user is on
        self._remote = True
        self._received_at = time.perf_counter()
        try:
            with self.doc.transaction(origin=user or REMOTE_ORIGIN):
                self.doc.apply_update(update)
        finally:
            self._remote = False
        self._describer.take()  # the origin instance records the history entry
        if user is not None:
            self.undo.after_change(user)

    def _answer_sync(self, request: Envelope) -> None:
        peer = request.origin_instance
        diff = self.doc.get_update(request.payload)
        if diff != wire.EMPTY_UPDATE:
            self._publish(EnvelopeKind.SYNC_REPLY, diff, user=None, target=peer)
        local = sorted(set().union(*(c.awareness_ids for c in self.connections)))
        if local:
            payload = self.awareness.encode_awareness_update(local)
            self._publish(EnvelopeKind.AWARENESS, payload, user=None, target=peer)
        if request.target_instance is None:  # ask back once; a targeted request is not asked
            self._publish(EnvelopeKind.SYNC_REQUEST, self.doc.get_state(), user=None, target=peer)

    def expire_remote_awareness(self, now_ms: int | None = None) -> None:
        """Drop presence of other instances' clients not renewed in time (their instance may
        have died without telling us)."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        local = set().union(*(c.awareness_ids for c in self.connections))
        stale = [
            cid
            for cid in self.awareness.states
            if cid not in local
            and now - self.awareness.meta.get(cid, {}).get("lastUpdated", now)
            > _REMOTE_AWARENESS_MAX_AGE_MS
        ]
        if stale:
            self.awareness.remove_awareness_states(stale, REMOTE_ORIGIN)

    def _broadcast(self, frame: bytes, *, exclude: Connection | None, received: float) -> None:
        wire = frame_binary(frame)  # framed once: the same bytes for every receiver
        for conn in self.connections:
            if conn is not exclude:
                conn.send(frame, received, wire)

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
        if self._doc_subscription is not None:
            self.doc.unobserve(self._doc_subscription)
            self._doc_subscription = None
        self.awareness.unobserve(self._awareness_subscription)
        self._describer.close()
        self.undo.close()
