"""The document log interface: document rows, their update logs and snapshots.

Per document a store keeps one metadata row, an append-only update log (opaque CRDT updates
numbered by a per-document ``seq``) and snapshots (merged states covering the log up to some
``seq``). Loading a document means "latest snapshot + the log tail after it".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from persistence.records import DocumentRecord, LoadedDocument, SnapshotInfo


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
        (unlabelled) snapshots beyond the store's ``keep_auto_snapshots`` are pruned oldest
        first. Raises DocumentNotFound, or ValueError if ``up_to_seq`` is outside
        0..last_seq. Returns the new snapshot id.
        """

    @abstractmethod
    async def list_snapshots(self, doc_id: str) -> list[SnapshotInfo]:
        """Snapshots of a document, newest first (empty for an unknown document)."""

    @abstractmethod
    async def read_snapshot(self, doc_id: str, snapshot_id: int) -> bytes:
        """Raises SnapshotNotFound if the snapshot does not exist for this document."""
