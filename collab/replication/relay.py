"""Replication across instances, hung on each room as an observer.

``RoomReplica`` follows one room (as Hocuspocus's Redis extension hooks a document): it
publishes the room's local updates and awareness changes as envelopes, applies the other
instances' envelopes to the room (closing the connections an access change names, see
``collab.replication.access``), answers and sends sync requests (after loading the room or a
broker outage: pub/sub is at most once), and drops the presence of other instances' clients
that stopped renewing it.

``EnvelopeRelay`` hands envelopes from the rooms' synchronous code to the broker without
waiting: straight into the broker's one bounded send buffer (``Broker.offer``, or
``Broker.offer_many`` for a replica's batch of one loop turn: one message), in order. When
that buffer is full (Redis slower than the rooms for longer than the buffer covers), the
envelope is not taken; the relay counts it, and once the buffer has drained the replica asks
its peers to sync, which they answer and ask back, so what was not sent still reaches them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence

from pycrdt import merge_updates

from canvasdoc import wire
from collab.replication.access import AccessChange, close_matching
from collab.replication.broker.base import Broker, Envelope, EnvelopeKind
from collab.session.room import Room

log = logging.getLogger(__name__)

_BATCHED = frozenset((EnvelopeKind.UPDATE, EnvelopeKind.AWARENESS))

_REMOTE_AWARENESS_MAX_AGE_MS = 35_000  # Yjs peers renew every 15 s and drop after 30 s
_OVERFLOW_LOG_INTERVAL = 10.0


class EnvelopeRelay:
    """The rooms' way to the broker; an async context manager (its task resyncs after an
    overflow of the broker's send buffer)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.overflows = 0
        """Envelopes the broker's full send buffer did not take (healed by a resync)."""
        self._resync: dict[str, RoomReplica] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._logged_at = -_OVERFLOW_LOG_INTERVAL

    @property
    def instance_id(self) -> str:
        return self.broker.instance_id

    def send(self, envelope: Envelope, replica: RoomReplica) -> None:
        self.send_many((envelope,), replica)

    def send_many(self, envelopes: Sequence[Envelope], replica: RoomReplica) -> None:
        """Hand one replica's envelopes over as one message (one envelope: as itself)."""
        if self.broker.alone:
            return  # no other instance has ever been there to receive it
        envelope = envelopes[0]
        try:
            if len(envelopes) == 1:
                taken = self.broker.offer(envelope)
            else:
                taken = self.broker.offer_many(envelopes)
        except Exception:
            log.exception("publishing an envelope failed", extra={"doc_id": envelope.doc_id})
            return
        if not taken:
            self.overflows += len(envelopes)
            self._resync[envelope.doc_id] = replica
            self._wakeup.set()
            now = time.monotonic()
            if now - self._logged_at >= _OVERFLOW_LOG_INTERVAL:
                self._logged_at = now
                log.warning(
                    "broker send buffer full: resyncing once it drains",
                    extra={"doc_id": envelope.doc_id, "overflows": self.overflows},
                )

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("relay already started")
        self._task = asyncio.create_task(self._run(), name="broker-relay")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def __aenter__(self) -> EnvelopeRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            try:
                await self.broker.drained()
            except Exception:
                log.exception("waiting for the broker's send buffer failed")
                await asyncio.sleep(1.0)
            pending, self._resync = self._resync, {}
            for replica in pending.values():
                replica.request_sync()


class RoomReplica:
    """One room's replication to the other instances (a ``RoomObserver`` of the room).

    A replica of a room that batches its broadcasts (``Room(batch=True)``, the server's
    rooms) batches what it publishes the same way: the updates and awareness changes of one
    event-loop turn go out at its end (``loop.call_soon``, never a timer) as one broker
    message, one user's consecutive updates merged into one; an idle room adds no latency.
    Sync traffic and targeted envelopes go out at once, after what is pending.
    """

    def __init__(self, room: Room, relay: EnvelopeRelay) -> None:
        self.room = room
        self._relay = relay
        self._loop = room.batch_loop  # None: the room does not batch, send at once
        self._pending: list[Envelope] = []
        self._stop_observing: Callable[[], None] | None = room.observe(self)

    # -- this instance's changes ---------------------------------------------------------

    def local_update(self, update: bytes, user: str | None) -> None:
        self._publish(EnvelopeKind.UPDATE, update, user=user)

    def local_awareness(self, payload: bytes, user: str) -> None:
        self._publish(EnvelopeKind.AWARENESS, payload, user=user)

    def request_sync(self) -> None:
        """Ask the other instances for what this replica lacks (after loading the room or a
        broker outage: pub/sub is at-most-once); they answer and ask back."""
        self._publish(EnvelopeKind.SYNC_REQUEST, self.room.doc.get_state(), user=None)

    def _publish(
        self, kind: EnvelopeKind, payload: bytes, *, user: str | None, target: str | None = None
    ) -> None:
        if self._relay.broker.alone:
            return  # nobody to send it to (the embedded mode): not even worth collecting
        envelope = Envelope(self.room.doc_id, self._relay.instance_id, user, kind, payload, target)
        if self._loop is not None and target is None and kind in _BATCHED:
            if not self._pending:
                self._loop.call_soon(self.flush)
            self._pending.append(envelope)
            return
        self.flush()  # keep the order
        self._relay.send(envelope, self)

    def flush(self) -> None:
        """Publish this turn's envelopes (called at its end) as one broker message."""
        pending = self._pending
        if not pending:
            return
        self._pending = []
        if len(pending) == 1:
            self._relay.send(pending[0], self)
        else:
            self._relay.send_many(_merge_updates(pending), self)

    # -- the other instances' changes ----------------------------------------------------

    def receive(self, envelope: Envelope) -> None:
        """Apply traffic from another instance; a bad envelope is logged, never raised."""
        room = self.room
        try:
            match envelope.kind:
                case EnvelopeKind.UPDATE | EnvelopeKind.SYNC_REPLY:
                    user = envelope.origin_user if envelope.kind is EnvelopeKind.UPDATE else None
                    room.apply_remote(envelope.payload, user)
                case EnvelopeKind.AWARENESS:
                    room.apply_remote_awareness(envelope.payload)
                case EnvelopeKind.SYNC_REQUEST:
                    self._answer_sync(envelope)
                case EnvelopeKind.ACCESS:
                    self._apply_access(envelope)
        except Exception as exc:
            log.warning(
                "ignoring a bad envelope from another instance",
                extra={
                    "doc_id": room.doc_id,
                    "from": envelope.origin_instance,
                    "kind": str(envelope.kind),
                    "error": repr(exc),
                },
            )

    def _apply_access(self, envelope: Envelope) -> None:
        change = AccessChange.decode(self.room.doc_id, envelope.payload)
        closed = close_matching(self.room, change)
        log.info(
            "access change from another instance",
            extra={
                "doc_id": self.room.doc_id,
                "from": envelope.origin_instance,
                "reason": change.reason,
                "closed": closed,
            },
        )

    def _answer_sync(self, request: Envelope) -> None:
        peer = request.origin_instance
        doc = self.room.doc
        diff = doc.get_update(request.payload)
        if diff != wire.EMPTY_UPDATE:
            self._publish(EnvelopeKind.SYNC_REPLY, diff, user=None, target=peer)
        local = sorted(self.room.local_awareness_ids())
        if local:
            payload = self.room.awareness.encode_awareness_update(local)
            self._publish(EnvelopeKind.AWARENESS, payload, user=None, target=peer)
        if request.target_instance is None:  # ask back once; a targeted request is not asked
            self._publish(EnvelopeKind.SYNC_REQUEST, doc.get_state(), user=None, target=peer)

    def expire_remote_awareness(self, now_ms: int | None = None) -> None:
        """Drop presence of other instances' clients not renewed in time (their instance may
        have died without telling us)."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        awareness = self.room.awareness
        local = self.room.local_awareness_ids()
        stale = [
            cid
            for cid in awareness.states
            if cid not in local
            and now - awareness.meta.get(cid, {}).get("lastUpdated", now)
            > _REMOTE_AWARENESS_MAX_AGE_MS
        ]
        if stale:
            self.room.remove_remote_awareness(stale)

    def close(self) -> None:
        self.flush()
        if self._stop_observing is not None:
            self._stop_observing()
            self._stop_observing = None


def _merge_updates(envelopes: list[Envelope]) -> list[Envelope]:
    """One envelope for each run of one user's consecutive updates (the receiving room
    applies it in one transaction; the user stays known for their undo stack)."""
    out: list[Envelope] = []
    run: list[Envelope] = []

    def close_run() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            first = run[0]
            merged = merge_updates(*(e.payload for e in run))
            out.append(
                Envelope(first.doc_id, first.origin_instance, first.origin_user, first.kind, merged)
            )
        run.clear()

    for envelope in envelopes:
        if envelope.kind is not EnvelopeKind.UPDATE:
            close_run()
            out.append(envelope)
        elif run and run[0].origin_user != envelope.origin_user:
            close_run()
            run.append(envelope)
        else:
            run.append(envelope)
    close_run()
    return out
