"""The store: one backend object behind the three narrow storage interfaces.

- :class:`~persistence.documents.DocumentLog`: document rows, update logs and snapshots;
- :class:`~persistence.blobs.BlobStore`: content-addressed blobs (layer images);
- :class:`~persistence.tasks.TaskLog`: the ``ai_tasks`` log.

Each backend (:mod:`~persistence.memory`, :mod:`~persistence.sqlite`,
:mod:`~persistence.postgres`) implements all three in one database and one lifecycle, so
:func:`~persistence.factory.store_from_url` returns a single :class:`Store`. Code that needs
one concern only takes the narrow interface.

The records and errors live in :mod:`persistence.records` and :mod:`persistence.errors`; they
are re-exported here for the modules that import them from the store interface.
"""

from __future__ import annotations

from foundation.lifecycle import Lifecycle
from persistence.blobs import BlobStore, check_sha256
from persistence.documents import DocumentLog
from persistence.errors import (
    AlreadyStarted,
    BlobNotFound,
    DocumentExists,
    DocumentNotFound,
    SnapshotNotFound,
    StoreError,
    StoreNotStarted,
    StoreUnavailable,
    TaskNotFound,
)
from persistence.records import (
    DEFAULT_KEEP_AUTO_SNAPSHOTS,
    BlobInfo,
    BlobRecord,
    DocumentRecord,
    LoadedDocument,
    SnapshotInfo,
    TaskRecord,
)
from persistence.tasks import TaskLog

__all__ = [
    "AlreadyStarted",
    "BlobInfo",
    "BlobNotFound",
    "BlobRecord",
    "BlobStore",
    "DocumentExists",
    "DocumentLog",
    "DocumentNotFound",
    "DocumentRecord",
    "LoadedDocument",
    "SnapshotInfo",
    "SnapshotNotFound",
    "Store",
    "StoreError",
    "StoreNotStarted",
    "StoreUnavailable",
    "TaskLog",
    "TaskNotFound",
    "TaskRecord",
    "check_sha256",
]


class Store(Lifecycle, DocumentLog, BlobStore, TaskLog):
    """Durable storage of documents (log and snapshots), blobs and AI tasks.

    Subclasses implement ``_open``/``_close`` and the data methods; :class:`Lifecycle` owns
    the lifecycle: starting twice raises :class:`AlreadyStarted`, ``stop`` is idempotent and
    a stopped store may be started again. Every data method raises :class:`StoreNotStarted`
    outside ``start()``..``stop()``.
    """

    already_started = AlreadyStarted
    not_started = StoreNotStarted

    kind: str

    def __init__(self, *, keep_auto_snapshots: int = DEFAULT_KEEP_AUTO_SNAPSHOTS) -> None:
        if keep_auto_snapshots < 1:
            # The newest snapshot is what the compacted log relies on; it must survive pruning.
            raise ValueError(f"keep_auto_snapshots must be >= 1, got {keep_auto_snapshots}")
        super().__init__()
        self.keep_auto_snapshots = keep_auto_snapshots

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
