"""Room lifecycle: load on first connection, snapshot periodically, unload when idle.

Concurrent first connections to one document share a single load (one task, awaited by
all), so twenty clients arriving at once are all served. Unloading flushes the update log
and writes a snapshot, and releases the room even when a store step fails: the group-commit
writer keeps and retries whatever it could not write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, merge_updates

from collab.exceptions import RoomLoadError
from collab.metrics import Metrics
from collab.room import Room
from collab.settings import Settings
from persistence.base import Store
from persistence.writer import GroupCommitWriter

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    load: asyncio.Task[Room]
    refs: int = 0
    idle_timer: asyncio.TimerHandle | None = None
    unloading: asyncio.Task[None] | None = None
    saving: asyncio.Lock = field(default_factory=asyncio.Lock)


class RoomManager:
    """Owns every room of this instance."""

    def __init__(
        self, store: Store, writer: GroupCommitWriter, settings: Settings, metrics: Metrics
    ) -> None:
        self._store = store
        self._writer = writer
        self._settings = settings
        self._metrics = metrics
        self._entries: dict[str, _Entry] = {}
        self._snapshotter: asyncio.Task[None] | None = None
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

    async def stop(self) -> None:
        """Unload every room (flush + snapshot), then stop."""
        if self._snapshotter is not None:
            self._snapshotter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._snapshotter
            self._snapshotter = None
        for doc_id in list(self._entries):
            await self._unload(doc_id)
        self._started = False

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
                await asyncio.shield(entry.unloading)
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
            await self._store.ensure_document(doc_id)
            loaded = await self._store.load(doc_id)
            doc: Doc[Any] = Doc()
            parts = ([loaded.snapshot] if loaded.snapshot else []) + list(loaded.updates)
            if parts:
                doc.apply_update(merge_updates(*parts) if len(parts) > 1 else parts[0])
        except Exception as exc:
            self._metrics.room_load_failures.inc()
            log.exception("room load failed", extra={"doc_id": doc_id})
            raise RoomLoadError(f"document {doc_id!r} could not be loaded: {exc}") from exc
        room = Room(doc_id, doc, self._writer, self._metrics, self._settings)
        room.loaded_seq = loaded.last_seq
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

    async def save(self, doc_id: str) -> None:
        """Flush the room's updates and write a snapshot that compacts its log."""
        entry = self._entries.get(doc_id)
        room = _loaded(entry) if entry is not None else None
        if entry is None or room is None:
            return
        async with entry.saving:
            if room.unsaved_updates == 0:
                return
            pending = room.unsaved_updates
            await self._writer.flush(doc_id)
            up_to = max(self._writer.last_seq(doc_id), room.loaded_seq)
            state = room.doc.get_update()
            await self._store.write_snapshot(doc_id, state, up_to)
            room.unsaved_updates = max(0, room.unsaved_updates - pending)
            if room.unsaved_updates == 0:
                room.mark_saved()
            self._metrics.snapshots.inc()
            log.info(
                "snapshot written",
                extra={"doc_id": doc_id, "up_to_seq": up_to, "bytes": len(state)},
            )

    async def create_version(self, doc_id: str, label: str) -> int:
        """Snapshot the room's current state as a named version (the room must be loaded)."""
        entry = self._entries.get(doc_id)
        room = _loaded(entry) if entry is not None else None
        if entry is None or room is None:
            raise RuntimeError(f"room {doc_id!r} is not loaded")
        async with entry.saving:
            pending = room.unsaved_updates
            await self._writer.flush(doc_id)
            up_to = max(self._writer.last_seq(doc_id), room.loaded_seq)
            version_id = await self._store.write_snapshot(
                doc_id, room.doc.get_update(), up_to, label=label
            )
            room.unsaved_updates = max(0, room.unsaved_updates - pending)
            if room.unsaved_updates == 0:
                room.mark_saved()
        self._metrics.snapshots.inc()
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
        except Exception:
            log.exception("saving room on unload failed", extra={"doc_id": doc_id})
        finally:
            if self._entries.get(doc_id) is entry:
                del self._entries[doc_id]
            room = _loaded(entry)
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
                due = room.unsaved_updates >= self._settings.snapshot_every_updates or (
                    room.first_unsaved_at is not None
                    and now - room.first_unsaved_at >= self._settings.snapshot_interval
                )
                if due:
                    try:
                        await self.save(doc_id)
                    except Exception:
                        log.exception("periodic snapshot failed", extra={"doc_id": doc_id})


def _loaded(entry: _Entry) -> Room | None:
    task = entry.load
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()
