"""The byte-oriented document store interface shared by every backend.

A store keeps, per document: one metadata row, an append-only update log (opaque CRDT
updates numbered by a per-document ``seq``) and snapshots (merged states covering the log up
to some ``seq``). Loading a document means "latest snapshot + the log tail after it".

Next to the documents it keeps blobs: immutable byte strings (layer images) addressed by the
sha256 of their content, stored once however often they are put. :func:`collect_blobs`
deletes the blobs no stored state refers to. And the ``ai_tasks`` log: one row per AI job
(type, status, model, prompt, sizes, latency), kept after the document is gone.

Exception tree::

    StoreError
     ├── DocumentNotFound
     ├── DocumentExists
     ├── SnapshotNotFound
     ├── BlobNotFound
     ├── StoreNotStarted
     ├── AlreadyStarted
     └── StoreUnavailable
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

logger = logging.getLogger(__name__)

DEFAULT_KEEP_AUTO_SNAPSHOTS = 20
DEFAULT_WIDTH = 1024
DEFAULT_HEIGHT = 1024
DEFAULT_DPI = 72
DEFAULT_COLOR_PROFILE = "sRGB"


class StoreError(Exception):
    """Base class of every persistence error."""


class DocumentNotFound(StoreError):
    def __init__(self, doc_id: str) -> None:
        super().__init__(f"document {doc_id!r} not found")
        self.doc_id = doc_id


class DocumentExists(StoreError):
    def __init__(self, doc_id: str) -> None:
        super().__init__(f"document {doc_id!r} already exists")
        self.doc_id = doc_id


class SnapshotNotFound(StoreError):
    def __init__(self, doc_id: str, snapshot_id: int) -> None:
        super().__init__(f"snapshot {snapshot_id} of document {doc_id!r} not found")
        self.doc_id = doc_id
        self.snapshot_id = snapshot_id


class BlobNotFound(StoreError):
    def __init__(self, sha256: str) -> None:
        super().__init__(f"blob {sha256!r} not found")
        self.sha256 = sha256


class TaskNotFound(StoreError):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"AI task {task_id!r} not found")
        self.task_id = task_id


class StoreNotStarted(StoreError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not started; use 'async with' or await start() first")


class AlreadyStarted(StoreError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is already started")


class StoreUnavailable(StoreError):
    """The backend cannot be reached: connection refused, dropped, or the server shutting down.

    Transient by nature; the operation may be retried once the backend is back.
    """

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target} is unavailable: {reason}")
        self.target = target
        self.reason = reason


@dataclass(frozen=True)
class DocumentRecord:
    """Metadata row of a document (the live values also sit in the CRDT ``meta`` map)."""

    id: str
    owner: str | None = None
    name: str = ""
    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    dpi: int = DEFAULT_DPI
    color_profile: str = DEFAULT_COLOR_PROFILE
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @classmethod
    def default(cls, doc_id: str, now: float | None = None) -> DocumentRecord:
        """The row ``ensure_document``/``append_updates`` create for an unknown id."""
        ts = time.time() if now is None else now
        return cls(id=doc_id, name=doc_id, created_at=ts, updated_at=ts)


@dataclass(frozen=True)
class LoadedDocument:
    """What a room needs to rebuild its document: latest snapshot plus the log tail."""

    snapshot: bytes | None
    snapshot_seq: int
    updates: list[bytes]
    last_seq: int


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    doc_id: str
    seq: int
    created_at: float
    label: str | None
    size: int


@dataclass(frozen=True)
class BlobInfo:
    """What is known about a blob besides its bytes.

    ``stored_at`` is when the blob was last put (its first upload or a repeated one): garbage
    collection spares blobs put recently, so putting a blob again protects it until the
    document that is about to reference it has been written.
    """

    sha256: str
    size: int
    media_type: str
    width: int | None
    height: int | None
    stored_at: float


@dataclass(frozen=True)
class BlobRecord(BlobInfo):
    data: bytes = field(repr=False, default=b"")


# A task in one of these states is finished: recording it again with another state is ignored.
TASK_FINAL_STATUSES = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class TaskRecord:
    """One AI job's row in ``ai_tasks``: what was asked, by whom, how it went.

    Times are Unix seconds; ``latency_ms`` is from submission to the end; ``params`` holds
    the job's JSON parameters (steps, seed, the result's backend, ...).
    """

    id: str
    doc_id: str
    type: str
    status: str
    user_id: str | None = None
    model: str | None = None
    prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    input_bytes: int | None = None
    output_bytes: int | None = None
    error: str | None = None
    attempts: int = 0
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    latency_ms: float | None = None


class Store(ABC):
    """Durable storage of documents, their update logs and snapshots.

    Subclasses implement ``_open``/``_close`` and the data methods; this class owns the
    lifecycle checks. Every data method raises :class:`StoreNotStarted` outside
    ``start()``..``stop()``.
    """

    kind: str

    def __init__(self, *, keep_auto_snapshots: int = DEFAULT_KEEP_AUTO_SNAPSHOTS) -> None:
        if keep_auto_snapshots < 1:
            # The newest snapshot is what the compacted log relies on; it must survive pruning.
            raise ValueError(f"keep_auto_snapshots must be >= 1, got {keep_auto_snapshots}")
        self.keep_auto_snapshots = keep_auto_snapshots
        self._started = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def started(self) -> bool:
        return self._started

    async def start(self) -> None:
        """Open the backend (connections, schema). Raises AlreadyStarted if running."""
        if self._started:
            raise AlreadyStarted(repr(self))
        try:
            await self._open()
        except BaseException:
            try:
                await self._close()
            except Exception:
                logger.exception("cleanup after failed start of %r failed", self)
            raise
        self._started = True

    async def stop(self) -> None:
        """Release the backend. Idempotent; a stopped store may be started again."""
        if not self._started:
            return
        self._started = False
        await self._close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _check_started(self) -> None:
        if not self._started:
            raise StoreNotStarted(repr(self))

    @abstractmethod
    async def _open(self) -> None: ...

    @abstractmethod
    async def _close(self) -> None:
        """Release whatever ``_open`` acquired; must cope with a partially opened state."""

    # -- documents -------------------------------------------------------------------------

    @abstractmethod
    async def ensure_document(self, doc_id: str) -> None:
        """Create a document row with default metadata if ``doc_id`` is unknown."""

    @abstractmethod
    async def create_document(self, record: DocumentRecord) -> None:
        """Insert a document row; raises DocumentExists if the id is taken."""

    @abstractmethod
    async def get_document(self, doc_id: str) -> DocumentRecord:
        """Raises DocumentNotFound."""

    @abstractmethod
    async def list_documents(self, *, limit: int = 100, offset: int = 0) -> list[DocumentRecord]:
        """Documents ordered by (created_at, id)."""

    @abstractmethod
    async def rename_document(self, doc_id: str, name: str) -> DocumentRecord:
        """Set the row's name (and ``updated_at``); returns the new row. Raises
        DocumentNotFound."""

    @abstractmethod
    async def delete_document(self, doc_id: str) -> None:
        """Remove the document, its log and its snapshots; raises DocumentNotFound."""

    # -- update log and snapshots ------------------------------------------------------------

    @abstractmethod
    async def append_updates(self, items: Sequence[tuple[str, bytes]]) -> dict[str, int]:
        """Append ``(doc_id, update)`` pairs in one transaction (group commit).

        Each document's updates get consecutive, increasing seqs in the given order; missing
        document rows are created with defaults. Returns the last seq assigned per doc id.
        """

    @abstractmethod
    async def load(self, doc_id: str) -> LoadedDocument:
        """Latest snapshot + log tail after it; an unknown document loads empty."""

    @abstractmethod
    async def write_snapshot(
        self, doc_id: str, state: bytes, up_to_seq: int, *, label: str | None = None
    ) -> int:
        """Store ``state`` as covering the log up to ``up_to_seq`` and compact the log.

        Log rows with seq <= up_to_seq are deleted in the same transaction; automatic
        (unlabelled) snapshots beyond ``keep_auto_snapshots`` are pruned oldest first.
        Raises DocumentNotFound, or ValueError if ``up_to_seq`` is outside 0..last_seq.
        Returns the new snapshot id.
        """

    @abstractmethod
    async def list_snapshots(self, doc_id: str) -> list[SnapshotInfo]:
        """Snapshots of a document, newest first (empty for an unknown document)."""

    @abstractmethod
    async def read_snapshot(self, doc_id: str, snapshot_id: int) -> bytes:
        """Raises SnapshotNotFound if the snapshot does not exist for this document."""

    # -- blobs -----------------------------------------------------------------------------------

    @abstractmethod
    async def put_blob(
        self,
        sha256: str,
        data: bytes,
        *,
        media_type: str,
        width: int | None = None,
        height: int | None = None,
    ) -> bool:
        """Store ``data`` under its sha256 in one transaction; True if it was new.

        Putting a blob that exists changes nothing but its ``stored_at`` (and returns False).
        Raises ValueError if ``sha256`` is not the lowercase hex digest of ``data``: a store
        never holds bytes under another content's name.
        """

    @abstractmethod
    async def get_blob(self, sha256: str) -> BlobRecord:
        """The blob and its bytes; raises BlobNotFound."""

    @abstractmethod
    async def blob_info(self, sha256: str) -> BlobInfo:
        """The blob's metadata without its bytes; raises BlobNotFound."""

    async def has_blob(self, sha256: str) -> bool:
        try:
            await self.blob_info(sha256)
        except BlobNotFound:
            return False
        return True

    @abstractmethod
    async def list_blob_hashes(self, *, stored_before: float | None = None) -> list[str]:
        """Every blob's sha256 (only those last put before ``stored_before``, if given)."""

    @abstractmethod
    async def delete_blobs(
        self, hashes: Iterable[str], *, stored_before: float | None = None
    ) -> list[str]:
        """Delete these blobs (those last put before ``stored_before``, if given) in one
        transaction; returns the hashes actually deleted. Unknown hashes are ignored."""

    # -- AI tasks (ai_tasks) -----------------------------------------------------------------

    @abstractmethod
    async def record_task(self, record: TaskRecord) -> None:
        """Insert the task's row or replace it (jobs are retried: recording is idempotent).

        A row whose status is final (``TASK_FINAL_STATUSES``) is only replaced by another
        final one, so a late "running" record never brings a finished task back.
        """

    @abstractmethod
    async def get_task(self, task_id: str) -> TaskRecord:
        """Raises TaskNotFound."""

    @abstractmethod
    async def list_tasks(
        self, *, doc_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[TaskRecord]:
        """Tasks (of one document, if given), newest first (by created_at, then id)."""


_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_sha256(value: object) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        shown = value[:80] if isinstance(value, str) else value
        raise ValueError(f"blob hash must be 64 lowercase hex characters (sha256), got {shown!r}")
    return value


def check_blob(sha256: str, data: bytes) -> None:
    """Raise ValueError unless ``sha256`` names ``data``."""
    check_sha256(sha256)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ValueError(
            f"blob bytes hash to {actual}, not to the name they were put under {sha256}"
        )


def check_page(limit: int, offset: int) -> None:
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")


def check_up_to_seq(doc_id: str, up_to_seq: int, last_seq: int) -> None:
    if not 0 <= up_to_seq <= last_seq:
        raise ValueError(
            f"up_to_seq must be within 0..{last_seq} (last seq of document {doc_id!r}), "
            f"got {up_to_seq}"
        )


# -- blob garbage collection -------------------------------------------------------------------

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


async def _all_document_ids(store: Store, page: int = 200) -> list[str]:
    ids: list[str] = []
    while True:
        records = await store.list_documents(limit=page, offset=len(ids))
        ids.extend(record.id for record in records)
        if len(records) < page:
            return ids


async def _scan_document(store: Store, doc_id: str, found: set[str]) -> int:
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
