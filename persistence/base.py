"""The byte-oriented document store interface shared by every backend.

A store keeps, per document: one metadata row, an append-only update log (opaque CRDT
updates numbered by a per-document ``seq``) and snapshots (merged states covering the log up
to some ``seq``). Loading a document means "latest snapshot + the log tail after it".

Exception tree::

    StoreError
     ├── DocumentNotFound
     ├── DocumentExists
     ├── SnapshotNotFound
     ├── StoreNotStarted
     ├── AlreadyStarted
     └── StoreUnavailable
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

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
