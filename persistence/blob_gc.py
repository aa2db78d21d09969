"""Blob garbage collection: delete the blobs no stored state refers to."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from persistence.base import Store
from persistence.documents import DocumentLog
from persistence.errors import SnapshotNotFound

# Any 64-hex run in a stored state or update counts as a reference. Yjs encodes a string value
# verbatim (UTF-8 after its length), so every layer's ``blob`` field is found, in snapshots,
# versions and the log alike, and so is the field of a deleted layer whose content the state
# still holds (an undo can bring such a layer back). A stray 64-hex string elsewhere can only
# keep a blob alive, never get one deleted. Overlapping matches make this a strict superset.
_HASH_IN_BYTES = re.compile(rb"(?=([0-9a-f]{64}))")


def blob_references(data: bytes) -> set[str]:
    """The sha256-like strings found in ``data`` (a CRDT state or update)."""
    return {match.decode("ascii") for match in _HASH_IN_BYTES.findall(data)}


@dataclass(frozen=True)
class BlobCollection:
    """What :func:`collect_blobs` found and did."""

    documents: int  # documents scanned
    states: int  # snapshots and log updates scanned
    blobs: int  # blobs in the store when the collection started
    referenced: int  # blobs some stored state refers to
    recent: int  # unreferenced blobs kept because they were put within ``min_age``
    deleted: list[str]  # deleted blobs (in a dry run: the blobs that would be deleted)


async def collect_blobs(
    store: Store, *, min_age: float, dry_run: bool = False, now: float | None = None
) -> BlobCollection:
    """Delete the blobs that no snapshot, version or logged update of any document refers to.

    Blobs put less than ``min_age`` seconds ago are kept whatever the scan says: a client
    uploads a blob before the edit that references it reaches the store, and putting a blob
    again (which refreshes ``stored_at``) is how a client that reuses a known hash protects
    it. The deletion re-checks ``stored_at`` in the same statement, so a blob put while the
    scan runs is never deleted. Documents deleted during the scan are harmless; a listing
    shifted by such a deletion is repeated until it finds no document it had not scanned.
    """
    if min_age < 0:
        raise ValueError(f"min_age must be >= 0 seconds, got {min_age}")
    cutoff = (time.time() if now is None else now) - min_age
    every = await store.list_blob_hashes()
    old = set(await store.list_blob_hashes(stored_before=cutoff))
    referenced: set[str] = set()
    scanned: set[str] = set()
    states = 0
    while True:
        fresh = [doc_id for doc_id in await _all_document_ids(store) if doc_id not in scanned]
        if not fresh:
            break
        for doc_id in fresh:
            scanned.add(doc_id)
            states += await _scan_document(store, doc_id, referenced)
    known = set(every)
    unreferenced = known - referenced
    doomed = sorted(unreferenced & old)
    deleted = doomed if dry_run else await store.delete_blobs(doomed, stored_before=cutoff)
    return BlobCollection(
        documents=len(scanned),
        states=states,
        blobs=len(known),
        referenced=len(known & referenced),
        recent=len(unreferenced - old),
        deleted=sorted(deleted),
    )


async def _all_document_ids(store: DocumentLog, page: int = 200) -> list[str]:
    ids: list[str] = []
    while True:
        records = await store.list_documents(limit=page, offset=len(ids))
        ids.extend(record.id for record in records)
        if len(records) < page:
            return ids


async def _scan_document(store: DocumentLog, doc_id: str, found: set[str]) -> int:
    loaded = await store.load(doc_id)
    parts = ([loaded.snapshot] if loaded.snapshot is not None else []) + list(loaded.updates)
    for snapshot in await store.list_snapshots(doc_id):
        try:
            parts.append(await store.read_snapshot(doc_id, snapshot.id))
        except SnapshotNotFound:  # pruned meanwhile: a newer state covers it
            continue
    for part in parts:
        found |= blob_references(part)
    return len(parts)
