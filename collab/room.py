"""A room: one live pycrdt document, its connections and their awareness states.

The room has no I/O of its own. Frames come in through ``receive``; everything it sends goes
through each connection's non-blocking ``send``; every document change is handed to the
update log (``UpdateSink.append``), which commits in groups. So a slow socket or a slow disk
never stalls the room.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from pycrdt import Awareness, Doc, Subscription, TransactionEvent

from collab import close_codes, protocol
from collab.connection import Connection
from collab.exceptions import InvalidUpdate, ProtocolError
from collab.metrics import Metrics

log = logging.getLogger(__name__)


class UpdateSink(Protocol):
    def append(self, doc_id: str, update: bytes) -> None: ...


class Room:
    """The live state of one document on this instance."""

    def __init__(self, doc_id: str, doc: Doc[Any], sink: UpdateSink, metrics: Metrics) -> None:
        self.doc_id = doc_id
        self.doc = doc
        self.connections: set[Connection] = set()
        self.unsaved_updates = 0
        self.first_unsaved_at: float | None = None
        self._sink = sink
        self._metrics = metrics
        self._sender: Connection | None = None
        self._received_at = 0.0
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
            case protocol.Auth() | protocol.Unknown():
                pass  # server-to-client only / unknown types are ignored, as the protocol says

    def _apply(self, conn: Connection, update: bytes) -> None:
        if update == protocol.EMPTY_UPDATE:
            return
        self._sender = conn
        self._received_at = time.perf_counter()
        try:
            with self.doc.transaction(origin=conn.principal.user_id):
                self.doc.apply_update(update)
        except ValueError as exc:
            raise InvalidUpdate(f"update of {len(update)} bytes cannot be applied: {exc}") from exc
        finally:
            self._sender = None

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
