"""The document log interface: document rows, their update logs and snapshots.

Per document a store keeps one metadata row, an append-only update log (opaque CRDT updates
numbered by a per-document ``seq``) and snapshots (merged states covering the log up to some
``seq``). Loading a document means "latest snapshot + the log tail after it".

Snapshot writers across instances are fenced: a write made under the snapshot lease carries
the lease's fencing token (increasing with every new holder), and the store refuses a write
whose token is older than the newest one it has seen for the document
(:class:`~persistence.errors.StaleFence`), in the same transaction as the write. A write
without a token (no lease configured: one instance) is never refused.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from persistence.records import DocumentRecord, LoadedDocument, SnapshotInfo

# A document's place in listing order: (created_at, id). Ids are unique, so keys are too.
DocumentKey = tuple[float, str]


def document_key(record: DocumentRecord) -> DocumentKey:
    """The key ``record`` sorts by in every document listing."""
    return (record.created_at, record.id)


class DocumentLog(ABC):
    """Documents, their update logs and snapshots (bytes in, bytes out).

    Implemented by every :class:`~persistence.base.Store`; its methods raise
    :class:`~persistence.errors.StoreNotStarted` outside the store's ``start()``..``stop()``.
    """

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
    async def list_documents_after(
        self, after: DocumentKey | None, *, limit: int = 100
    ) -> list[DocumentRecord]:
        """At most ``limit`` documents whose key ``(created_at, id)`` is greater than
        ``after`` (from the first when None), in key order.

        Keyset paging: a page starts after the last key of the previous one, so documents
        created or deleted meanwhile never shift the others (an offset would repeat or skip
        them). Raises ValueError for a negative ``limit``.
        """

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
        self,
        doc_id: str,
        state: bytes,
        up_to_seq: int,
        *,
        label: str | None = None,
        fence: int | None = None,
    ) -> int:
        """Store ``state`` as covering the log up to ``up_to_seq`` and compact the log.

        Log rows with seq <= up_to_seq are deleted in the same transaction; automatic
        (unlabelled) snapshots beyond the store's ``keep_auto_snapshots`` are pruned oldest
        first. ``fence`` is the writer's lease fencing token: the write is refused with
        StaleFence (and nothing changes) if the document has seen a newer one; otherwise
        it becomes the newest seen. ``None`` writes unfenced and leaves the newest as it is.
        Raises DocumentNotFound, or ValueError if ``up_to_seq`` is outside 0..last_seq or
        ``fence`` is not an int >= 0. Returns the new snapshot id.
        """

    @abstractmethod
    async def list_snapshots(self, doc_id: str) -> list[SnapshotInfo]:
        """Snapshots of a document, newest first (empty for an unknown document)."""

    @abstractmethod
    async def read_snapshot(self, doc_id: str, snapshot_id: int) -> bytes:
        """Raises SnapshotNotFound if the snapshot does not exist for this document."""


def check_fence(fence: int | None) -> None:
    """Raise ValueError unless ``fence`` is None or an int >= 0 (for the implementations)."""
    if fence is None:
        return
    if isinstance(fence, bool) or not isinstance(fence, int) or fence < 0:
        raise ValueError(f"fence must be an int >= 0 or None, got {fence!r}")
