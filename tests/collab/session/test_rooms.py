"""Room lifecycle: shared first load, idle unload with flush + snapshot, failure cleanup."""

from __future__ import annotations

import asyncio
from pathlib import Path

from canvasdoc.canvas import Canvas
from client import CanvasClient
from persistence.base import LoadedDocument
from persistence.memory import MemoryStore
from tests.support.servers import serve, settings_for
from tests.support.waiting import eventually


class SlowLoadStore(MemoryStore):
    """Loads slowly (widening the race window) and counts loads; can be told to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.fail_loads = 0

    async def load(self, doc_id: str) -> LoadedDocument:
        self.loads += 1
        await asyncio.sleep(0.2)
        if self.fail_loads > 0:
            self.fail_loads -= 1
            raise OSError("disk on fire")
        return await super().load(doc_id)


async def test_twenty_simultaneous_first_connections_are_all_served(tmp_path: Path) -> None:
    store = SlowLoadStore()
    async with serve(settings_for(tmp_path), store=store) as srv:
        clients = [CanvasClient(srv.url, "rush", user=f"u{i}") for i in range(20)]
        await asyncio.gather(*(c.start() for c in clients))
        try:
            await asyncio.gather(*(c.wait_synced(timeout=15) for c in clients))
            assert store.loads == 1
            for i, c in enumerate(clients):
                c.canvas.add_layer(f"layer {i}", layer_id=f"l{i}")
            expected = {f"l{i}" for i in range(20)}
            for c in clients:
                await c.wait_for(lambda c=c: set(c.canvas.layer_ids()) == expected, timeout=15)
            await eventually(
                lambda: all(c.canvas.to_dict() == clients[0].canvas.to_dict() for c in clients)
            )
        finally:
            await asyncio.gather(*(c.stop() for c in clients))


async def test_idle_room_unloads_after_flush_and_snapshot(tmp_path: Path) -> None:
    store = MemoryStore()
    settings = settings_for(tmp_path, room_idle_seconds=0.2)
    async with serve(settings, store=store) as srv:
        async with CanvasClient(srv.url, "idle", user="a") as a:
            await a.wait_synced()
            layer = a.canvas.add_layer("kept")
            room = srv.server.rooms.rooms["idle"]
            await eventually(lambda: layer in Canvas(room.doc).layer_ids())
        await eventually(lambda: "idle" not in srv.server.rooms.rooms)
        snapshots = await store.list_snapshots("idle")
        assert len(snapshots) == 1
        loaded = await store.load("idle")
        assert loaded.snapshot is not None and loaded.updates == []  # log compacted
        # Reloading gives the same document.
        async with CanvasClient(srv.url, "idle", user="b") as b:
            await b.wait_for(lambda: layer in b.canvas.layer_ids())


async def test_failed_load_is_reported_and_retried(tmp_path: Path) -> None:
    store = SlowLoadStore()
    store.fail_loads = 1
    async with serve(settings_for(tmp_path), store=store) as srv:
        first = CanvasClient(srv.url, "flaky", user="a", reconnect=False)
        await first.start()
        await first.wait_for(lambda: first.last_close is not None, timeout=10)
        assert first.last_close is not None and first.last_close[0] == 1011
        await first.stop()
        assert "flaky" not in srv.server.rooms.rooms
        assert srv.server.metrics.room_load_failures._value.get() == 1
        # Nothing was left behind: the next connection loads the room afresh.
        async with CanvasClient(srv.url, "flaky", user="b") as b:
            await b.wait_synced()
        assert store.loads == 2


async def test_room_reloads_while_unloading(tmp_path: Path) -> None:
    store = MemoryStore()
    settings = settings_for(tmp_path, room_idle_seconds=0.0)
    async with serve(settings, store=store) as srv:
        for round_ in range(5):
            async with CanvasClient(srv.url, "churn", user="a") as a:
                await a.wait_synced()
                a.canvas.add_layer(f"r{round_}", layer_id=f"r{round_}")
                want = round_ + 1
                await a.wait_for(lambda want=want: len(a.canvas.layer_ids()) == want)
                await eventually(
                    lambda want=want: (
                        len(Canvas(srv.server.rooms.rooms["churn"].doc).layer_ids()) == want
                    )
                )
        await eventually(lambda: "churn" not in srv.server.rooms.rooms)
        async with CanvasClient(srv.url, "churn", user="z") as z:
            await z.wait_for(lambda: len(z.canvas.layer_ids()) == 5)


class FailingSnapshotStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.snapshot_attempts = 0

    async def write_snapshot(
        self,
        doc_id: str,
        state: bytes,
        up_to_seq: int,
        *,
        label: str | None = None,
        fence: int | None = None,
    ) -> int:
        self.snapshot_attempts += 1
        raise OSError("snapshot volume full")


async def test_unload_releases_the_room_even_when_the_snapshot_fails(tmp_path: Path) -> None:
    store = FailingSnapshotStore()
    settings = settings_for(tmp_path, room_idle_seconds=0.1)
    async with serve(settings, store=store) as srv:
        async with CanvasClient(srv.url, "nosnap", user="a") as a:
            await a.wait_synced()
            layer = a.canvas.add_layer("logged")
            await eventually(
                lambda: layer in Canvas(srv.server.rooms.rooms["nosnap"].doc).layer_ids()
            )
        await eventually(lambda: "nosnap" not in srv.server.rooms.rooms)
        assert store.snapshot_attempts == 1
        assert srv.server.metrics.rooms._value.get() == 0
        # The update log still has the edit: the room reloads with it.
        async with CanvasClient(srv.url, "nosnap", user="b") as b:
            await b.wait_for(lambda: layer in b.canvas.layer_ids())
