"""Two instances editing one document never write its snapshot at the same time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from client import CanvasClient
from collab.replication.broker.memory import MemoryBroker, MemoryHub
from collab.replication.lease.memory import LeaseRegistry, MemoryLease
from persistence.sqlite import SQLiteStore
from tests.support.servers import serve, settings_for
from tests.support.waiting import eventually


class Overlap:
    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.writes = 0


class OverlapCheckingStore(SQLiteStore):
    """Each instance's store on one shared SQLite file, recording overlapping snapshot
    writes across both."""

    def __init__(self, path: Path, overlap: Overlap) -> None:
        super().__init__(path)
        self.overlap = overlap

    async def write_snapshot(
        self, doc_id: str, state: bytes, up_to_seq: int, *, label: str | None = None
    ) -> int:
        o = self.overlap
        o.in_flight += 1
        o.max_in_flight = max(o.max_in_flight, o.in_flight)
        try:
            await asyncio.sleep(0.05)  # a slow write widens any overlap
            o.writes += 1
            return await super().write_snapshot(doc_id, state, up_to_seq, label=label)
        finally:
            o.in_flight -= 1


async def test_only_the_lease_holder_snapshots(tmp_path: Path) -> None:
    overlap = Overlap()
    db = tmp_path / "shared.db"
    hub, registry = MemoryHub(), LeaseRegistry()
    settings = settings_for(
        tmp_path, snapshot_interval=0.1, snapshot_every_updates=1, snapshot_lease_ttl=1
    )
    async with (
        serve(
            settings,
            store=OverlapCheckingStore(db, overlap),
            broker=MemoryBroker(hub, instance_id="a"),
            lease=MemoryLease(registry, owner="a"),
        ) as a,
        serve(
            settings,
            store=OverlapCheckingStore(db, overlap),
            broker=MemoryBroker(hub, instance_id="b"),
            lease=MemoryLease(registry, owner="b"),
        ) as b,
        CanvasClient(a.url, "doc", user="ann") as ann,
        CanvasClient(b.url, "doc", user="ben") as ben,
    ):
        await ann.wait_synced()
        await ben.wait_synced()
        for i in range(40):
            ann.canvas.add_layer(f"a{i}")
            ben.canvas.add_layer(f"b{i}")
            await asyncio.sleep(0.03)
        await eventually(lambda: len(ann.canvas.layer_ids()) == len(ben.canvas.layer_ids()) == 80)
        await eventually(lambda: overlap.writes >= 5)
        conflicts = a.server.rooms.lease_conflicts + b.server.rooms.lease_conflicts
        assert conflicts > 0, "both instances should have tried"
    assert overlap.max_in_flight == 1
