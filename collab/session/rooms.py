"""Room lifecycle: load on first connection, snapshot periodically, unload when idle.

Across instances: a loaded room subscribes to its document's broker channel and asks its
peers for what it lacks; after a broker outage every room asks again. Snapshots (which compact
the shared log) are written only by the holder of the document's snapshot lease.

Concurrent first connections to one document share a single load (one task, awaited by
all), so twenty clients arriving at once are all served. Unloading flushes the update log
and writes a snapshot, and releases the room even when a store step fails: the group-commit
writer keeps and retries whatever it could not write.

Loading a room stores nothing: a document exists once it is created over REST or first
edited (the writer's first append creates its row). A room that was opened and left without
an edit is unloaded at once and leaves no row behind (token mode's ownership claim included).
The row's name follows the document's ``meta`` name on every save, so the document list
agrees with the live document.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, merge_updates

from canvasdoc.canvas import Canvas
from collab.exceptions import RoomLoadError
from collab.observability.metrics import Metrics
from collab.replication.access import AccessChange, close_matching
from collab.replication.broker.base import Broker, Envelope, EnvelopeKind
from collab.replication.lease.base import Lease
from collab.replication.metrics import ReplicationStats
from collab.replication.relay import EnvelopeRelay, RoomReplica
from collab.session.room import Room
from collab.settings import Settings
from persistence.documents import DocumentLog
from persistence.errors import DocumentNotFound, StaleFence, StoreUnavailable
from persistence.writer import GroupCommitWriter

log = logging.getLogger(__name__)

_EMPTY_STATE = b"\x00"  # the state vector of a document no update ever reached
# The longest one snapshot-lease call (acquire, renew) or the renewer's stop may take.
_LEASE_CALL_SECONDS = 5.0

# Whether an unedited document's row must stay (it has members or share links).
KeepUnedited = Callable[[str], Awaitable[bool]]


@dataclass
class _Entry:
    load: asyncio.Task[Room]
    refs: int = 0
    idle_timer: asyncio.TimerHandle | None = None
    unloading: asyncio.Task[None] | None = None
    saving: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0  # acquirers waiting for the unload to finish


@dataclass(frozen=True)
class _Hold:
    """Whether this instance holds a document's snapshot lease, and the lease's fencing
    token, which every snapshot written under it carries (None without a lease: one instance
    writes unfenced). False as a bool when not held."""

    held: bool
    fence: int | None = None

    def __bool__(self) -> bool:
        return self.held


class RoomManager:
    """Owns every room of this instance."""

    def __init__(
        self,
        store: DocumentLog,
        writer: GroupCommitWriter,
        settings: Settings,
        metrics: Metrics,
        *,
        broker: Broker | None = None,
        relay: EnvelopeRelay | None = None,
        lease: Lease | None = None,
        keep_unedited: KeepUnedited | None = None,
    ) -> None:
        self._store = store
        self._keep_unedited = keep_unedited
        self._writer = writer
        self._settings = settings
        self._metrics = metrics
        self._broker = broker
        self._relay = relay
        self._lease = lease
        self._remove_reconnect_hook: Callable[[], None] | None = None
        self._replication_stats: ReplicationStats | None = None
        self.lease_conflicts = 0  # saves skipped because another instance holds the lease
        self._entries: dict[str, _Entry] = {}
        self._replicas: dict[str, RoomReplica] = {}
        self._snapshotter: asyncio.Task[None] | None = None
        self._first_commits: set[asyncio.Task[None]] = set()  # referenced until done
        self._started = False

    @property
    def rooms(self) -> dict[str, Room]:
        """Rooms that are loaded now."""
        loaded = {doc_id: _loaded(e) for doc_id, e in self._entries.items()}
        return {doc_id: room for doc_id, room in loaded.items() if room is not None}

    async def start(self) -> None:
        if self._started:
            raise RuntimeError("RoomManager already started")
        self._started = True
        self._snapshotter = asyncio.create_task(self._snapshot_loop(), name="snapshotter")
        if self._broker is not None:
            self._remove_reconnect_hook = self._broker.on_reconnect(self._after_reconnect)
            # The broker's counters on /metrics (echoes skipped, traffic handled, drops).
            self._replication_stats = ReplicationStats(self._broker, self._relay)
            self._metrics.registry.register(self._replication_stats)

    async def stop(self) -> None:
        """Unload every room (flush + snapshot), then stop."""
        if self._snapshotter is not None:
            self._snapshotter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._snapshotter
            self._snapshotter = None
        if self._remove_reconnect_hook is not None:
            self._remove_reconnect_hook()
            self._remove_reconnect_hook = None
        if self._replication_stats is not None:
            self._metrics.registry.unregister(self._replication_stats)
            self._replication_stats = None
        for doc_id in list(self._entries):
            await self._unload(doc_id)
        self._started = False

    async def revoke(self, change: AccessChange) -> int:
        """Apply an access change on every instance: close this instance's matching
        connections (returns how many) and publish it to the instances holding the document,
        which close theirs (``RoomReplica``). Publishing does not wait for the network."""
        room = self.rooms.get(change.doc_id)
        closed = close_matching(room, change) if room is not None else 0
        if self._broker is not None:
            envelope = Envelope(
                change.doc_id, self._broker.instance_id, None, EnvelopeKind.ACCESS, change.encode()
            )
            try:
                await self._broker.publish(envelope)
            except Exception:
                log.exception("publishing an access change failed", extra={"doc_id": change.doc_id})
        return closed

    def _after_reconnect(self) -> None:
        replicas = list(self._replicas.values())
        log.info("broker reconnected: resyncing rooms", extra={"rooms": len(replicas)})
        for replica in replicas:
            replica.request_sync()

    async def __aenter__(self) -> RoomManager:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- acquire / release ---------------------------------------------------------------

    async def acquire(self, doc_id: str) -> Room:
        """Get the room of ``doc_id``, loading it if needed; pair with ``release``."""
        while True:
            entry = self._entries.get(doc_id)
            if entry is not None and entry.unloading is not None:
                entry.waiting += 1
                try:
                    await asyncio.shield(entry.unloading)
                finally:
                    entry.waiting -= 1
                continue
            if entry is None:
                task = asyncio.create_task(self._load(doc_id), name=f"load:{doc_id}")
                entry = _Entry(load=task)
                self._entries[doc_id] = entry
            break
        entry.refs += 1
        if entry.idle_timer is not None:
            entry.idle_timer.cancel()
            entry.idle_timer = None
        try:
            return await asyncio.shield(entry.load)
        except BaseException:
            entry.refs -= 1
            if entry.load.done() and self._entries.get(doc_id) is entry:
                # A failed load leaves nothing behind; the next connection retries.
                del self._entries[doc_id]
            raise

    def release(self, doc_id: str) -> None:
        entry = self._entries.get(doc_id)
        if entry is None:
            return
        entry.refs -= 1
        if entry.refs <= 0 and entry.unloading is None:
            room = _loaded(entry)
            if room is not None and _unedited(room):
                # Nothing worth keeping warm, and a mistyped id must not linger.
                self._start_unload(doc_id)
                return
            loop = asyncio.get_running_loop()
            entry.idle_timer = loop.call_later(
                self._settings.room_idle_seconds, self._start_unload, doc_id
            )

    def _start_unload(self, doc_id: str) -> None:
        entry = self._entries.get(doc_id)
        if entry is None or entry.refs > 0 or entry.unloading is not None:
            return
        entry.unloading = asyncio.create_task(self._unload(doc_id), name=f"unload:{doc_id}")

    # -- load / save / unload ------------------------------------------------------------

    async def _load(self, doc_id: str) -> Room:
        started = time.perf_counter()
        try:
            loaded = await self._store.load(doc_id)
            doc: Doc[Any] = Doc()
            parts = ([loaded.snapshot] if loaded.snapshot else []) + list(loaded.updates)
            if parts:
                doc.apply_update(merge_updates(*parts) if len(parts) > 1 else parts[0])
        except Exception as exc:
            self._metrics.room_load_failures.inc()
            log.exception("room load failed", extra={"doc_id": doc_id})
            raise RoomLoadError(f"document {doc_id!r} could not be loaded: {exc}") from exc
        room = Room(doc_id, doc, self._writer, self._metrics, self._settings, batch=True)
        if not parts:
            _FirstEdit(room, self._writer, self._first_commits)
        if self._broker is not None and self._relay is not None:
            replica = self._replicas[doc_id] = RoomReplica(room, self._relay)
            try:
                await self._broker.subscribe(doc_id, replica.receive)
            except Exception as exc:  # the broker resubscribes and resyncs when it is back
                log.warning("broker subscribe failed", extra={"doc_id": doc_id, "error": str(exc)})
            replica.request_sync()
        self._metrics.rooms.inc()
        log.info(
            "room loaded",
            extra={
                "doc_id": doc_id,
                "log_tail": len(loaded.updates),
                "from_snapshot": loaded.snapshot is not None,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return room

    async def flush(self, doc_id: str) -> None:
        """Commit every update of ``doc_id`` appended so far to the store's update log (no
        snapshot: that is ``save``)."""
        await self._writer.flush(doc_id)

    async def save(self, doc_id: str) -> None:
        """Flush the room's updates and write a snapshot that compacts the log (only on the
        instance holding the document's snapshot lease)."""
        entry = self._entries.get(doc_id)
        room = _loaded(entry) if entry is not None else None
        if entry is None or room is None:
            return
        async with entry.saving:
            if room.unsaved_updates == 0:
                return
            pending = room.unsaved_updates
            await self._writer.flush(doc_id)
            await self._sync_name(doc_id, room)
            async with self._leased(doc_id) as hold:
                if not hold:
                    return
                try:
                    up_to, size = await self._write_snapshot(
                        doc_id, room, label=None, fence=hold.fence
                    )
                except StaleFence as exc:
                    # This instance lost the lease (paused past its TTL) and another wrote
                    # since: the log keeps every update and the newer snapshot covers them.
                    log.warning(
                        "snapshot refused: fencing token %d older than %d",
                        exc.fence,
                        exc.newest,
                        extra={"doc_id": doc_id},
                    )
                    return
            room.unsaved_updates = max(0, room.unsaved_updates - pending)
            if room.unsaved_updates == 0:
                room.mark_saved()
            log.info(
                "snapshot written", extra={"doc_id": doc_id, "up_to_seq": up_to, "bytes": size}
            )

    async def _sync_name(self, doc_id: str, room: Room) -> None:
        """Give the document's row the ``meta`` name (the one source of a document's name:
        undo, restore and Yjs clients change it there)."""
        name = Canvas(room.doc).read_meta().name
        with contextlib.suppress(DocumentNotFound):  # deleted: never re-create it
            if (await self._store.get_document(doc_id)).name != name:
                await self._store.rename_document(doc_id, name)

    async def _forget_unedited(self, doc_id: str, room: Room) -> None:
        """Remove the row of a document that was opened but never edited (token mode claims
        one for its first opener), unless it has members or share links. Only when this is
        the one instance: then the room loaded all the store had and every edit since went
        through it, so an empty room means nothing is stored; elsewhere a peer's room may
        still be about to edit it."""
        if not _unedited(room) or (self._broker is not None and not self._broker.alone):
            return
        if self._keep_unedited is not None and await self._keep_unedited(doc_id):
            return
        with contextlib.suppress(DocumentNotFound):
            await self._store.delete_document(doc_id)
            log.info("unedited document forgotten", extra={"doc_id": doc_id})

    async def _write_snapshot(
        self, doc_id: str, room: Room, *, label: str | None, fence: int | None
    ) -> tuple[int, int]:
        # With other instances, the snapshot merges the live state with the stored log tail, so
        # it covers every logged row up to ``last_seq`` even if another instance logged rows
        # this replica has not received yet; only then may those rows be compacted away.
        loaded = await self._store.load(doc_id)
        state = room.doc.get_update()
        if self._broker is None or not self._broker.alone:
            # When the broker is alone (the embedded mode), every logged row and the stored
            # snapshot came through this room and are in its live state: merging them again
            # only blocked the event loop (pycrdt holds the GIL: ~70 ms for a 1.5 MB document
            # and 2000 rows), so it is done only when other instances may exist.
            parts = [state, *([loaded.snapshot] if loaded.snapshot else []), *loaded.updates]
            state = merge_updates(*parts)
        snapshot_id = await self._store.write_snapshot(
            doc_id, state, loaded.last_seq, label=label, fence=fence
        )
        self._metrics.snapshots.inc()
        return (snapshot_id if label else loaded.last_seq), len(state)

    @contextlib.asynccontextmanager
    async def _leased(self, doc_id: str, *, wait: float = 0.0) -> AsyncIterator[_Hold]:
        """Hold the snapshot lease of ``doc_id`` (renewed meanwhile) with its fencing token,
        or yield a hold that is not held."""
        if self._lease is None:
            yield _Hold(held=True)
            return
        name = f"snapshot:{doc_id}"
        ttl = self._settings.snapshot_lease_ttl
        deadline = time.monotonic() + wait
        while True:
            try:
                # Bounded: a lease call stuck on a restarting Redis must not hold the room's
                # save lock (and with it unload and every later snapshot) indefinitely.
                async with asyncio.timeout(_LEASE_CALL_SECONDS):
                    fence = await self._lease.acquire_fenced(name, ttl)
            except Exception as exc:
                log.warning(
                    "snapshot lease unavailable", extra={"doc_id": doc_id, "error": str(exc)}
                )
                fence = None
            if fence is not None or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.1)
        if fence is None:
            self.lease_conflicts += 1
            yield _Hold(held=False)
            return
        renewer = asyncio.create_task(self._renew(name, ttl))
        try:
            yield _Hold(held=True, fence=fence)
        finally:
            renewer.cancel()
            # Never wait long for the renewer: one stuck in a Redis call that does not end
            # at once on cancellation would otherwise hold the save lock (found by the chaos
            # soak after a Redis restart: a room that never unloaded or saved again).
            done, _ = await asyncio.wait({renewer}, timeout=_LEASE_CALL_SECONDS)
            if not done:
                log.warning(
                    "snapshot lease renewer did not stop; left behind",
                    extra={"doc_id": doc_id},
                )

    async def _renew(self, name: str, ttl: float) -> None:
        assert self._lease is not None
        while True:
            await asyncio.sleep(ttl / 3)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_LEASE_CALL_SECONDS):
                    await self._lease.renew(name, ttl)

    async def create_version(self, doc_id: str, label: str) -> int:
        """Snapshot the room's current state as a named version (the room must be loaded)."""
        entry = self._entries.get(doc_id)
        room = _loaded(entry) if entry is not None else None
        if entry is None or room is None:
            raise RuntimeError(f"room {doc_id!r} is not loaded")
        async with entry.saving:
            pending = room.unsaved_updates
            await self._writer.flush(doc_id)
            async with self._leased(doc_id, wait=self._settings.snapshot_lease_ttl) as held:
                if not held:
                    raise RoomLoadError(
                        f"another instance is writing a snapshot of {doc_id!r}; try again"
                    )
                version_id, _ = await self._write_snapshot(
                    doc_id, room, label=label, fence=held.fence
                )
            room.unsaved_updates = max(0, room.unsaved_updates - pending)
            if room.unsaved_updates == 0:
                room.mark_saved()
        log.info("version created", extra={"doc_id": doc_id, "label": label, "id": version_id})
        return version_id

    async def _unload(self, doc_id: str) -> None:
        entry = self._entries.get(doc_id)
        if entry is None:
            return
        if entry.idle_timer is not None:
            entry.idle_timer.cancel()
        try:
            if not entry.load.done():
                entry.load.cancel()
            await self.save(doc_id)
            room = _loaded(entry)
            if room is not None and _unedited(room):
                if entry.waiting == 0 and entry.refs <= 0:
                    await self._forget_unedited(doc_id, room)
            elif room is not None:
                await self._sync_name(doc_id, room)
        except Exception:
            log.exception("saving room on unload failed", extra={"doc_id": doc_id})
        finally:
            if self._entries.get(doc_id) is entry:
                del self._entries[doc_id]
            room = _loaded(entry)
            replica = self._replicas.pop(doc_id, None) if room is not None else None
            if self._broker is not None and replica is not None:
                replica.close()
                with contextlib.suppress(Exception):
                    await self._broker.unsubscribe(doc_id)
            if room is not None:
                room.close()
                self._metrics.rooms.dec()
                log.info("room unloaded", extra={"doc_id": doc_id})

    async def _snapshot_loop(self) -> None:
        interval = min(self._settings.snapshot_interval, 5.0)
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for doc_id, room in self.rooms.items():
                replica = self._replicas.get(doc_id)
                if replica is not None:
                    replica.expire_remote_awareness()
                due = room.unsaved_updates >= self._settings.snapshot_every_updates or (
                    room.first_unsaved_at is not None
                    and now - room.first_unsaved_at >= self._settings.snapshot_interval
                )
                if due:
                    try:
                        await self.save(doc_id)
                    except StoreUnavailable as exc:  # an outage: retried at the next turn
                        log.warning(
                            "periodic snapshot failed: store unavailable",
                            extra={"doc_id": doc_id, "error": str(exc)},
                        )
                    except Exception:
                        log.exception("periodic snapshot failed", extra={"doc_id": doc_id})


class _FirstEdit:
    """Commits a new document's first edit at once instead of after the group-commit window:
    that commit creates the document's row, and REST answers 404 until it exists."""

    def __init__(
        self, room: Room, writer: GroupCommitWriter, tasks: set[asyncio.Task[None]]
    ) -> None:
        self._room = room
        self._writer = writer
        self._tasks = tasks
        self._stop = room.observe(self)
        self._done = False

    def local_update(self, update: bytes, user: str | None) -> None:
        if self._done:
            return
        self._done = True
        loop = asyncio.get_running_loop()
        loop.call_soon(self._stop)  # not now: the room is iterating over its observers
        task = loop.create_task(self._writer.flush(self._room.doc_id))
        self._tasks.add(task)
        task.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The writer keeps the update and retries; the room's save reports what lasts.
            log.warning("first commit of a new document failed", exc_info=task.exception())

    def local_awareness(self, payload: bytes, user: str) -> None:
        pass


def _unedited(room: Room) -> bool:
    return room.doc.get_state() == _EMPTY_STATE


def _loaded(entry: _Entry) -> Room | None:
    task = entry.load
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()
