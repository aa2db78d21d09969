"""In-process store for tests and throwaway servers; data lives as long as the object."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from persistence._checks import check_page, check_up_to_seq
from persistence.base import Store
from persistence.blobs import check_blob, check_sha256
from persistence.documents import DocumentKey, check_fence, document_key
from persistence.errors import (
    BlobNotFound,
    DocumentExists,
    DocumentNotFound,
    SnapshotNotFound,
    StaleFence,
    TaskNotFound,
)
from persistence.records import (
    DEFAULT_KEEP_AUTO_SNAPSHOTS,
    TASK_FINAL_STATUSES,
    BlobInfo,
    BlobRecord,
    DocumentRecord,
    LoadedDocument,
    SnapshotInfo,
    TaskRecord,
)


@dataclass
class _Snapshot:
    id: int
    seq: int
    state: bytes
    label: str | None
    created_at: float


@dataclass
class _Doc:
    record: DocumentRecord
    last_seq: int = 0
    log: list[tuple[int, bytes]] = field(default_factory=list)  # (seq, update), seq ascending
    snapshots: list[_Snapshot] = field(default_factory=list)  # creation order
    fence: int = 0  # newest fencing token a snapshot write carried


class MemoryStore(Store):
    """Dict-based :class:`Store`. Data survives ``stop()``/``start()`` of the same object."""

    kind = "memory"

    def __init__(self, *, keep_auto_snapshots: int = DEFAULT_KEEP_AUTO_SNAPSHOTS) -> None:
        super().__init__(keep_auto_snapshots=keep_auto_snapshots)
        self._docs: dict[str, _Doc] = {}
        self._next_snapshot_id = 1
        self._blobs: dict[str, BlobRecord] = {}
        self._tasks: dict[str, TaskRecord] = {}

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass

    def _doc(self, doc_id: str) -> _Doc:
        try:
            return self._docs[doc_id]
        except KeyError:
            raise DocumentNotFound(doc_id) from None

    def _ensure(self, doc_id: str, now: float) -> _Doc:
        doc = self._docs.get(doc_id)
        if doc is None:
            doc = self._docs[doc_id] = _Doc(DocumentRecord.default(doc_id, now))
        return doc

    async def ensure_document(self, doc_id: str) -> None:
        self._check_started()
        self._ensure(doc_id, time.time())

    async def create_document(self, record: DocumentRecord) -> None:
        self._check_started()
        if record.id in self._docs:
            raise DocumentExists(record.id)
        self._docs[record.id] = _Doc(record)

    async def get_document(self, doc_id: str) -> DocumentRecord:
        self._check_started()
        return self._doc(doc_id).record

    async def list_documents(self, *, limit: int = 100, offset: int = 0) -> list[DocumentRecord]:
        self._check_started()
        check_page(limit, offset)
        records = sorted(
            (d.record for d in self._docs.values()), key=lambda r: (r.created_at, r.id)
        )
        return records[offset : offset + limit]

    async def list_documents_after(
        self, after: DocumentKey | None, *, limit: int = 100
    ) -> list[DocumentRecord]:
        self._check_started()
        check_page(limit, 0)
        records = sorted(
            (
                d.record
                for d in self._docs.values()
                if after is None or document_key(d.record) > after
            ),
            key=document_key,
        )
        return records[:limit]

    async def rename_document(self, doc_id: str, name: str) -> DocumentRecord:
        self._check_started()
        doc = self._doc(doc_id)
        doc.record = replace(doc.record, name=name, updated_at=time.time())
        return doc.record

    async def delete_document(self, doc_id: str) -> None:
        self._check_started()
        self._doc(doc_id)
        del self._docs[doc_id]

    async def append_updates(self, items: Sequence[tuple[str, bytes]]) -> dict[str, int]:
        self._check_started()
        now = time.time()
        result: dict[str, int] = {}
        for doc_id, update in items:
            doc = self._ensure(doc_id, now)
            doc.last_seq += 1
            doc.log.append((doc.last_seq, bytes(update)))
            result[doc_id] = doc.last_seq
        for doc_id in result:
            doc = self._docs[doc_id]
            doc.record = replace(doc.record, updated_at=now)
        return result

    async def load(self, doc_id: str) -> LoadedDocument:
        self._check_started()
        doc = self._docs.get(doc_id)
        if doc is None:
            return LoadedDocument(snapshot=None, snapshot_seq=0, updates=[], last_seq=0)
        latest = max(doc.snapshots, key=lambda s: (s.seq, s.id), default=None)
        snapshot_seq = 0 if latest is None else latest.seq
        return LoadedDocument(
            snapshot=None if latest is None else latest.state,
            snapshot_seq=snapshot_seq,
            updates=[u for seq, u in doc.log if seq > snapshot_seq],
            last_seq=doc.last_seq,
        )

    async def write_snapshot(
        self,
        doc_id: str,
        state: bytes,
        up_to_seq: int,
        *,
        label: str | None = None,
        fence: int | None = None,
    ) -> int:
        self._check_started()
        check_fence(fence)
        doc = self._doc(doc_id)
        check_up_to_seq(doc_id, up_to_seq, doc.last_seq)
        if fence is not None:
            if fence < doc.fence:
                raise StaleFence(doc_id, fence, doc.fence)
            doc.fence = fence
        snapshot = _Snapshot(self._next_snapshot_id, up_to_seq, bytes(state), label, time.time())
        self._next_snapshot_id += 1
        doc.snapshots.append(snapshot)
        doc.log = [(seq, u) for seq, u in doc.log if seq > up_to_seq]
        autos = sorted(
            (s for s in doc.snapshots if s.label is None), key=lambda s: (s.seq, s.id), reverse=True
        )
        pruned = {s.id for s in autos[self.keep_auto_snapshots :]}
        doc.snapshots = [s for s in doc.snapshots if s.id not in pruned]
        return snapshot.id

    async def list_snapshots(self, doc_id: str) -> list[SnapshotInfo]:
        self._check_started()
        doc = self._docs.get(doc_id)
        if doc is None:
            return []
        return [
            SnapshotInfo(s.id, doc_id, s.seq, s.created_at, s.label, len(s.state))
            for s in reversed(doc.snapshots)
        ]

    async def read_snapshot(self, doc_id: str, snapshot_id: int) -> bytes:
        self._check_started()
        doc = self._docs.get(doc_id)
        for s in doc.snapshots if doc is not None else []:
            if s.id == snapshot_id:
                return s.state
        raise SnapshotNotFound(doc_id, snapshot_id)

    # -- blobs -----------------------------------------------------------------------------------

    async def put_blob(
        self,
        sha256: str,
        data: bytes,
        *,
        media_type: str,
        width: int | None = None,
        height: int | None = None,
    ) -> bool:
        self._check_started()
        data = bytes(data)
        check_blob(sha256, data)
        existing = self._blobs.get(sha256)
        if existing is not None:
            self._blobs[sha256] = replace(existing, stored_at=time.time())
            return False
        self._blobs[sha256] = BlobRecord(
            sha256, len(data), media_type, width, height, time.time(), data
        )
        return True

    async def get_blob(self, sha256: str) -> BlobRecord:
        self._check_started()
        try:
            return self._blobs[sha256]
        except KeyError:
            raise BlobNotFound(sha256) from None

    async def blob_info(self, sha256: str) -> BlobInfo:
        record = await self.get_blob(sha256)
        return BlobInfo(
            record.sha256,
            record.size,
            record.media_type,
            record.width,
            record.height,
            record.stored_at,
        )

    async def list_blob_hashes(self, *, stored_before: float | None = None) -> list[str]:
        self._check_started()
        return sorted(
            sha256
            for sha256, blob in self._blobs.items()
            if stored_before is None or blob.stored_at < stored_before
        )

    async def delete_blobs(
        self, hashes: Iterable[str], *, stored_before: float | None = None
    ) -> list[str]:
        self._check_started()
        deleted = []
        for sha256 in dict.fromkeys(check_sha256(h) for h in hashes):
            blob = self._blobs.get(sha256)
            if blob is not None and (stored_before is None or blob.stored_at < stored_before):
                del self._blobs[sha256]
                deleted.append(sha256)
        return deleted

    # -- AI tasks ----------------------------------------------------------------------------

    async def record_task(self, record: TaskRecord) -> None:
        self._check_started()
        known = self._tasks.get(record.id)
        if (
            known is not None
            and known.status in TASK_FINAL_STATUSES
            and record.status not in TASK_FINAL_STATUSES
        ):
            return
        self._tasks[record.id] = replace(record, params=dict(record.params))

    async def get_task(self, task_id: str) -> TaskRecord:
        self._check_started()
        try:
            return self._tasks[task_id]
        except KeyError:
            raise TaskNotFound(task_id) from None

    async def list_tasks(
        self, *, doc_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[TaskRecord]:
        self._check_started()
        check_page(limit, offset)
        chosen = [t for t in self._tasks.values() if doc_id is None or t.doc_id == doc_id]
        chosen.sort(key=lambda t: (t.created_at, t.id), reverse=True)
        return chosen[offset : offset + limit]
