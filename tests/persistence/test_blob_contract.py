"""Blob storage and blob garbage collection: one suite, run on every Store (conftest.KINDS)."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pycrdt
import pytest

from canvasdoc.canvas import Canvas
from persistence.base import Store
from persistence.blob_gc import blob_references, collect_blobs
from persistence.errors import BlobNotFound, StoreNotStarted
from persistence.records import BlobInfo, BlobRecord
from tests.persistence.conftest import StoreFactory


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_put_then_get_returns_bytes_and_metadata(store: Store) -> None:
    data = b"\x89PNG pretend"
    before = time.time()
    assert await store.put_blob(sha(data), data, media_type="image/png", width=3, height=2)
    record = await store.get_blob(sha(data))
    assert isinstance(record, BlobRecord)
    assert (record.sha256, record.size, record.media_type, record.width, record.height) == (
        sha(data),
        len(data),
        "image/png",
        3,
        2,
    )
    assert record.data == data
    assert before - 1 <= record.stored_at <= time.time() + 1
    info = await store.blob_info(sha(data))
    assert info == BlobInfo(sha(data), len(data), "image/png", 3, 2, record.stored_at)
    assert await store.has_blob(sha(data))
    assert "data" not in repr(record)  # megabytes of pixels never end up in a log line


async def test_putting_the_same_bytes_twice_stores_one_blob(store: Store) -> None:
    data = b"same image"
    assert await store.put_blob(sha(data), data, media_type="image/png") is True
    assert await store.put_blob(sha(data), data, media_type="image/png") is False
    assert await store.list_blob_hashes() == [sha(data)]
    assert (await store.get_blob(sha(data))).data == data


async def test_concurrent_puts_of_one_blob_store_it_once(store: Store) -> None:
    data = b"raced" * 1000
    results = await asyncio.gather(
        *(store.put_blob(sha(data), data, media_type="image/webp") for _ in range(8))
    )
    assert sorted(results) == [False] * 7 + [True]
    assert await store.list_blob_hashes() == [sha(data)]


async def test_a_hash_that_does_not_name_the_bytes_is_refused(store: Store) -> None:
    wrong = sha(b"other")
    with pytest.raises(ValueError, match=f"hash to {sha(b'real')}, not to .*{wrong}"):
        await store.put_blob(wrong, b"real", media_type="image/png")
    assert await store.list_blob_hashes() == []
    with pytest.raises(ValueError, match="64 lowercase hex"):
        await store.put_blob("ABC", b"real", media_type="image/png")


async def test_missing_blob_is_blob_not_found(store: Store) -> None:
    missing = sha(b"missing")
    with pytest.raises(BlobNotFound, match=missing):
        await store.get_blob(missing)
    with pytest.raises(BlobNotFound):
        await store.blob_info(missing)
    assert not await store.has_blob(missing)


async def test_empty_and_large_blobs_round_trip(store: Store) -> None:
    big = bytes(range(256)) * 20_000  # 5 MB
    for data in (b"", big):
        await store.put_blob(sha(data), data, media_type="application/octet-stream")
        assert (await store.get_blob(sha(data))).data == data
        assert (await store.blob_info(sha(data))).width is None


async def test_blobs_survive_a_restart(make_store: StoreFactory) -> None:
    if (store := make_store()).kind == "memory":
        pytest.skip("the memory store keeps data per object only")
    data = b"durable"
    async with store:
        await store.put_blob(sha(data), data, media_type="image/jpeg", width=1, height=1)
    async with make_store() as again:
        assert (await again.get_blob(sha(data))).data == data


async def test_delete_blobs_returns_what_it_deleted(store: Store) -> None:
    a, b = b"a", b"b"
    for data in (a, b):
        await store.put_blob(sha(data), data, media_type="image/png")
    deleted = await store.delete_blobs([sha(a), sha(b"never stored"), sha(a)])
    assert deleted == [sha(a)]
    assert await store.list_blob_hashes() == [sha(b)]
    assert await store.delete_blobs([]) == []


async def test_stored_before_spares_recently_put_blobs(store: Store) -> None:
    old, new = b"old", b"new"
    await store.put_blob(sha(old), old, media_type="image/png")
    await asyncio.sleep(0.05)
    cutoff = time.time()
    await asyncio.sleep(0.05)
    await store.put_blob(sha(new), new, media_type="image/png")
    assert await store.list_blob_hashes(stored_before=cutoff) == [sha(old)]
    assert sorted(await store.list_blob_hashes()) == sorted([sha(old), sha(new)])
    # Putting the old blob again refreshes it: it is no longer "stored before".
    await store.put_blob(sha(old), old, media_type="image/png")
    assert await store.list_blob_hashes(stored_before=cutoff) == []
    assert await store.delete_blobs([sha(old), sha(new)], stored_before=cutoff) == []
    assert len(await store.list_blob_hashes()) == 2


async def test_blob_methods_need_a_started_store(make_store: StoreFactory) -> None:
    store = make_store()
    with pytest.raises(StoreNotStarted):
        await store.put_blob(sha(b"x"), b"x", media_type="image/png")
    with pytest.raises(StoreNotStarted):
        await store.get_blob(sha(b"x"))
    with pytest.raises(StoreNotStarted):
        await store.list_blob_hashes()


# -- garbage collection ----------------------------------------------------------------------------


def _update_adding_layer(doc: pycrdt.Doc, name: str, blob: str) -> bytes:
    before = doc.get_state()
    Canvas(doc).add_layer(name, blob=blob, layer_id=name)
    return doc.get_update(before)


async def test_collect_blobs_keeps_every_referenced_blob(store: Store) -> None:
    """Blobs referenced by the log tail, by the latest snapshot, by an old named version
    only, or by a layer deleted since (an undo can bring it back) survive; the rest go."""
    blobs = {name: f"{name} pixels".encode() for name in ("log", "snap", "version", "gone", "free")}
    for data in blobs.values():
        await store.put_blob(sha(data), data, media_type="image/png")
    doc: pycrdt.Doc = pycrdt.Doc()
    await store.append_updates(
        [("d1", _update_adding_layer(doc, "version", sha(blobs["version"])))]
    )
    await store.write_snapshot("d1", doc.get_update(), 1, label="v1")
    Canvas(doc).remove_layer("version")
    await store.append_updates([("d1", _update_adding_layer(doc, "snap", sha(blobs["snap"])))])
    await store.write_snapshot("d1", doc.get_update(), 2)
    # A live room's undo manager keeps a deleted layer's content in the state it snapshots.
    other: pycrdt.Doc = pycrdt.Doc()
    undo = pycrdt.UndoManager(scopes=[Canvas(other).layers_array], capture_timeout_millis=0)
    await store.append_updates([("d2", _update_adding_layer(other, "gone", sha(blobs["gone"])))])
    Canvas(other).remove_layer("gone")
    await store.write_snapshot("d2", other.get_update(), 1)
    await store.append_updates([("d2", _update_adding_layer(other, "log", sha(blobs["log"])))])
    assert undo.can_undo()

    dry = await collect_blobs(store, min_age=0, dry_run=True, now=time.time() + 1)
    assert dry.deleted == [sha(blobs["free"])]
    assert len(await store.list_blob_hashes()) == 5

    result = await collect_blobs(store, min_age=0, now=time.time() + 1)
    assert result.deleted == [sha(blobs["free"])]
    assert (result.documents, result.blobs, result.referenced, result.recent) == (2, 5, 4, 0)
    assert result.states >= 4
    assert sorted(await store.list_blob_hashes()) == sorted(
        sha(blobs[name]) for name in ("log", "snap", "version", "gone")
    )


async def test_collect_blobs_spares_blobs_put_within_min_age(store: Store) -> None:
    data = b"just uploaded, its layer not yet written"
    await store.put_blob(sha(data), data, media_type="image/png")
    result = await collect_blobs(store, min_age=3600)
    assert (result.deleted, result.recent) == ([], 1)
    assert await store.has_blob(sha(data))
    with pytest.raises(ValueError, match="min_age"):
        await collect_blobs(store, min_age=-1)


async def test_collect_blobs_on_an_empty_store(store: Store) -> None:
    result = await collect_blobs(store, min_age=0)
    assert (result.documents, result.blobs, result.deleted) == (0, 0, [])


def test_blob_references_finds_hashes_in_raw_crdt_bytes() -> None:
    doc: pycrdt.Doc = pycrdt.Doc()
    digest = sha(b"pixels")
    Canvas(doc).add_layer("Sky", blob=digest)
    assert digest in blob_references(doc.get_update())
    assert blob_references(b"\x40" + b"a" * 65) == {"a" * 64}
    assert blob_references(b"no hashes here") == set()
