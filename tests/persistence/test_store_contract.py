"""One contract suite, run against every Store implementation (see conftest.KINDS)."""

from __future__ import annotations

import asyncio
from typing import Any

import pycrdt
import pytest

from persistence import (
    AlreadyStarted,
    DocumentExists,
    DocumentNotFound,
    DocumentRecord,
    LoadedDocument,
    SnapshotNotFound,
    Store,
    StoreNotStarted,
)
from tests.persistence.conftest import StoreFactory

EMPTY = LoadedDocument(snapshot=None, snapshot_seq=0, updates=[], last_seq=0)


async def test_kind_names_the_backend(store: Store) -> None:
    assert store.kind in ("memory", "sqlite", "postgres")


# -- update log ------------------------------------------------------------------------------


async def test_append_then_load_keeps_order(store: Store) -> None:
    assert await store.append_updates([("a", b"1"), ("a", b"2"), ("a", b"3")]) == {"a": 3}
    loaded = await store.load("a")
    assert loaded == LoadedDocument(
        snapshot=None, snapshot_seq=0, updates=[b"1", b"2", b"3"], last_seq=3
    )


async def test_seq_is_monotonic_per_document(store: Store) -> None:
    assert await store.append_updates([("a", b"a1")]) == {"a": 1}
    assert await store.append_updates([("b", b"b1")]) == {"b": 1}
    assert await store.append_updates([("a", b"a2"), ("a", b"a3")]) == {"a": 3}
    assert await store.append_updates([("b", b"b2")]) == {"b": 2}
    assert (await store.load("a")).updates == [b"a1", b"a2", b"a3"]
    assert (await store.load("b")).last_seq == 2


async def test_one_batch_spans_several_documents(store: Store) -> None:
    items = [("a", b"a1"), ("b", b"b1"), ("a", b"a2"), ("c", b"c1"), ("b", b"b2"), ("a", b"a3")]
    assert await store.append_updates(items) == {"a": 3, "b": 2, "c": 1}
    assert (await store.load("a")).updates == [b"a1", b"a2", b"a3"]
    assert (await store.load("b")).updates == [b"b1", b"b2"]
    assert (await store.load("c")).updates == [b"c1"]


async def test_concurrent_batches_get_distinct_seqs(store: Store) -> None:
    results = await asyncio.gather(
        *(store.append_updates([("a", bytes([i])), ("a", bytes([i]))]) for i in range(20))
    )
    assert sorted(r["a"] for r in results) == list(range(2, 41, 2))
    loaded = await store.load("a")
    assert loaded.last_seq == 40
    assert len(loaded.updates) == 40


async def test_empty_batch_is_a_no_op(store: Store) -> None:
    assert await store.append_updates([]) == {}
    assert await store.list_documents() == []


async def test_unknown_document_loads_empty(store: Store) -> None:
    assert await store.load("nope") == EMPTY


async def test_append_creates_the_document_row(store: Store) -> None:
    await store.append_updates([("fresh", b"x")])
    record = await store.get_document("fresh")
    assert record.id == "fresh"
    assert record.name == "fresh"
    assert record.owner is None


async def test_append_bumps_updated_at(store: Store) -> None:
    await store.create_document(DocumentRecord(id="a", created_at=1.0, updated_at=1.0))
    await store.append_updates([("a", b"x")])
    record = await store.get_document("a")
    assert record.created_at == 1.0
    assert record.updated_at > 1.0


# -- snapshots and compaction ------------------------------------------------------------------


async def test_snapshot_compacts_the_log_and_keeps_the_tail(store: Store) -> None:
    await store.append_updates([("a", b"%d" % i) for i in range(1, 6)])
    await store.write_snapshot("a", b"state@3", up_to_seq=3)
    await store.append_updates([("a", b"6")])
    assert await store.load("a") == LoadedDocument(
        snapshot=b"state@3", snapshot_seq=3, updates=[b"4", b"5", b"6"], last_seq=6
    )


async def test_seq_continues_after_full_compaction(store: Store) -> None:
    await store.append_updates([("a", b"1"), ("a", b"2")])
    await store.write_snapshot("a", b"state@2", up_to_seq=2)
    assert await store.load("a") == LoadedDocument(
        snapshot=b"state@2", snapshot_seq=2, updates=[], last_seq=2
    )
    assert await store.append_updates([("a", b"3")]) == {"a": 3}
    loaded = await store.load("a")
    assert (loaded.snapshot_seq, loaded.updates, loaded.last_seq) == (2, [b"3"], 3)


async def test_latest_snapshot_wins(store: Store) -> None:
    await store.append_updates([("a", b"%d" % i) for i in range(1, 5)])
    await store.write_snapshot("a", b"s1", up_to_seq=1)
    await store.write_snapshot("a", b"s3", up_to_seq=3, label="v1")
    loaded = await store.load("a")
    assert (loaded.snapshot, loaded.snapshot_seq, loaded.updates) == (b"s3", 3, [b"4"])


async def test_snapshot_of_an_empty_document(store: Store) -> None:
    await store.ensure_document("a")
    await store.write_snapshot("a", b"empty", up_to_seq=0)
    assert await store.load("a") == LoadedDocument(
        snapshot=b"empty", snapshot_seq=0, updates=[], last_seq=0
    )


async def test_snapshot_rejects_bad_arguments(store: Store) -> None:
    with pytest.raises(DocumentNotFound, match="'ghost'"):
        await store.write_snapshot("ghost", b"s", up_to_seq=0)
    await store.append_updates([("a", b"1")])
    with pytest.raises(ValueError, match=r"up_to_seq must be within 0\.\.1 .*got 2"):
        await store.write_snapshot("a", b"s", up_to_seq=2)
    assert (await store.load("a")).updates == [b"1"]
    assert await store.list_snapshots("a") == []


async def test_auto_snapshots_are_pruned_and_labelled_ones_kept(store: Store) -> None:
    # The fixture's store keeps 3 automatic snapshots.
    ids: dict[str, int] = {}
    for i in range(1, 7):
        await store.append_updates([("a", b"u%d" % i)])
        name = f"auto{i}"
        ids[name] = await store.write_snapshot("a", name.encode(), up_to_seq=i)
        if i in (1, 4):
            ids[f"v{i}"] = await store.write_snapshot("a", b"v", up_to_seq=i, label=f"v{i}")
    infos = await store.list_snapshots("a")
    assert [s.id for s in infos] == [
        ids["auto6"],
        ids["auto5"],
        ids["v4"],
        ids["auto4"],
        ids["v1"],
    ]
    assert [s.label for s in infos] == [None, None, "v4", None, "v1"]
    assert [s.seq for s in infos] == [6, 5, 4, 4, 1]
    assert all(s.doc_id == "a" for s in infos)
    assert infos[0].size == len(b"auto6")
    assert await store.read_snapshot("a", ids["v1"]) == b"v"
    assert await store.read_snapshot("a", ids["auto6"]) == b"auto6"
    with pytest.raises(SnapshotNotFound):
        await store.read_snapshot("a", ids["auto1"])


async def test_snapshot_ids_are_not_reused(store: Store) -> None:
    await store.ensure_document("a")
    seen = {await store.write_snapshot("a", b"s", up_to_seq=0) for _ in range(6)}
    assert len(seen) == 6


async def test_read_snapshot_not_found_names_ids(store: Store) -> None:
    await store.append_updates([("a", b"1")])
    snapshot_id = await store.write_snapshot("a", b"s", up_to_seq=1)
    with pytest.raises(SnapshotNotFound, match=f"snapshot {snapshot_id} of document 'b'"):
        await store.read_snapshot("b", snapshot_id)
    with pytest.raises(SnapshotNotFound, match="snapshot 999 of document 'a' not found"):
        await store.read_snapshot("a", 999)


async def test_list_snapshots_of_unknown_document_is_empty(store: Store) -> None:
    assert await store.list_snapshots("nope") == []


# -- documents ------------------------------------------------------------------------------------


async def test_create_get_list_documents(store: Store) -> None:
    first = DocumentRecord(
        id="d1",
        owner="alice",
        name="Poster",
        width=800,
        height=600,
        dpi=300,
        color_profile="Display P3",
        created_at=100.5,
        updated_at=100.5,
    )
    second = DocumentRecord(id="d2", name="Sketch", created_at=200.0, updated_at=250.0)
    await store.create_document(second)
    await store.create_document(first)
    assert await store.get_document("d1") == first
    assert await store.list_documents() == [first, second]
    assert await store.list_documents(limit=1) == [first]
    assert await store.list_documents(limit=1, offset=1) == [second]
    assert await store.list_documents(offset=2) == []
    with pytest.raises(ValueError, match="limit must be >= 0, got -1"):
        await store.list_documents(limit=-1)


async def test_create_existing_document_fails(store: Store) -> None:
    await store.ensure_document("d1")
    with pytest.raises(DocumentExists, match="'d1'"):
        await store.create_document(DocumentRecord(id="d1", name="other"))
    assert (await store.get_document("d1")).name == "d1"


async def test_ensure_document_is_idempotent_and_keeps_metadata(store: Store) -> None:
    record = DocumentRecord(id="d1", name="Mine", owner="bob", created_at=5.0, updated_at=5.0)
    await store.create_document(record)
    await store.ensure_document("d1")
    assert await store.get_document("d1") == record
    await store.ensure_document("d2")
    await store.ensure_document("d2")
    assert [r.id for r in await store.list_documents()] == ["d1", "d2"]
    assert await store.load("d2") == EMPTY


async def test_get_missing_document_names_it(store: Store) -> None:
    with pytest.raises(DocumentNotFound, match="document 'missing' not found"):
        await store.get_document("missing")


async def test_rename_document_changes_name_and_updated_at_only(store: Store) -> None:
    record = DocumentRecord(
        id="r", owner="alice", name="Old", width=64, height=32, created_at=5.0, updated_at=5.0
    )
    await store.create_document(record)
    renamed = await store.rename_document("r", "New name")
    assert renamed.name == "New name"
    assert renamed.updated_at > 5.0
    assert (renamed.owner, renamed.width, renamed.height) == ("alice", 64, 32)
    assert renamed.created_at == pytest.approx(5.0)
    assert await store.get_document("r") == renamed
    with pytest.raises(DocumentNotFound, match="document 'missing' not found"):
        await store.rename_document("missing", "x")


async def test_delete_document_removes_log_and_snapshots(store: Store) -> None:
    await store.append_updates([("a", b"1"), ("a", b"2"), ("b", b"1")])
    snapshot_id = await store.write_snapshot("a", b"s", up_to_seq=1, label="keep")
    await store.delete_document("a")
    with pytest.raises(DocumentNotFound):
        await store.get_document("a")
    assert await store.load("a") == EMPTY
    assert await store.list_snapshots("a") == []
    with pytest.raises(SnapshotNotFound):
        await store.read_snapshot("a", snapshot_id)
    with pytest.raises(DocumentNotFound, match="document 'a' not found"):
        await store.delete_document("a")
    assert (await store.load("b")).updates == [b"1"]
    # A re-created document starts a fresh log.
    assert await store.append_updates([("a", b"new")]) == {"a": 1}


# -- lifecycle --------------------------------------------------------------------------------


async def test_use_before_start_fails(make_store: StoreFactory) -> None:
    store = make_store()
    with pytest.raises(StoreNotStarted, match="not started"):
        await store.load("a")
    with pytest.raises(StoreNotStarted):
        await store.append_updates([("a", b"1")])


async def test_start_twice_fails(make_store: StoreFactory) -> None:
    async with make_store() as store:
        with pytest.raises(AlreadyStarted, match="already started"):
            await store.start()


async def test_stop_is_idempotent_and_ends_use(make_store: StoreFactory) -> None:
    store = make_store()
    await store.start()
    await store.append_updates([("a", b"1")])
    await store.stop()
    await store.stop()
    with pytest.raises(StoreNotStarted):
        await store.get_document("a")


async def test_restart_keeps_data(make_store: StoreFactory) -> None:
    store = make_store()
    async with store:
        await store.append_updates([("a", b"1")])
    async with store:
        assert (await store.load("a")).updates == [b"1"]


async def test_keep_auto_snapshots_must_be_positive(make_store: StoreFactory) -> None:
    with pytest.raises(ValueError, match="keep_auto_snapshots must be >= 1, got 0"):
        make_store(keep_auto_snapshots=0)


# -- real CRDT updates ---------------------------------------------------------------------------


async def test_pycrdt_updates_round_trip(store: Store) -> None:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    meta = doc.get("meta", type=pycrdt.Map)
    layers = doc.get("layers", type=pycrdt.Array)
    captured: list[bytes] = []
    subscription = doc.observe(lambda event: captured.append(event.update))

    with doc.transaction():
        meta["name"] = "Poster"
        meta["width"] = 800
    layers.append(pycrdt.Map({"id": "l1", "name": "Background", "opacity": 100}))
    await store.append_updates([("doc", u) for u in captured])
    state_after_two = doc.get_update()
    await store.write_snapshot("doc", state_after_two, up_to_seq=len(captured))

    layers.append(pycrdt.Map({"id": "l2", "name": "Paint", "opacity": 40}))
    layers[0]["visible"] = False
    meta["name"] = "Poster v2"
    tail = captured[2:]
    await store.append_updates([("doc", u) for u in tail])
    doc.unobserve(subscription)

    loaded = await store.load("doc")
    assert loaded.snapshot == state_after_two
    assert loaded.updates == tail
    assert loaded.last_seq == len(captured)

    replica: pycrdt.Doc[Any] = pycrdt.Doc()
    assert loaded.snapshot is not None
    replica.apply_update(loaded.snapshot)
    for update in loaded.updates:
        replica.apply_update(update)
    assert replica.get("meta", type=pycrdt.Map).to_py() == meta.to_py()
    assert replica.get("layers", type=pycrdt.Array).to_py() == layers.to_py()
    assert layers.to_py() == [
        {"id": "l1", "name": "Background", "opacity": 100.0, "visible": False},
        {"id": "l2", "name": "Paint", "opacity": 40.0},
    ]
