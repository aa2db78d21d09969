"""Durable storage: documents, update logs and snapshots, blobs, AI tasks (memory, SQLite,
Postgres).

The interfaces are small and separate (:class:`DocumentLog`, :class:`BlobStore`,
:class:`TaskLog`); a backend implements all three as one :class:`Store`. ``PostgresStore``
lives in :mod:`persistence.postgres` and is not imported here, so that asyncpg loads only
when a Postgres URL is configured (``store_from_url`` picks it).
"""

from persistence.base import Store
from persistence.blob_gc import BlobCollection, collect_blobs
from persistence.blobs import BlobStore
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
from persistence.factory import is_postgres_url, store_from_url
from persistence.memory import MemoryStore
from persistence.records import (
    BlobInfo,
    BlobRecord,
    DocumentRecord,
    LoadedDocument,
    SnapshotInfo,
    TaskRecord,
)
from persistence.sqlite import SQLiteStore
from persistence.tasks import TaskLog
from persistence.writer import GroupCommitWriter

__all__ = [
    "AlreadyStarted",
    "BlobCollection",
    "BlobInfo",
    "BlobNotFound",
    "BlobRecord",
    "BlobStore",
    "DocumentExists",
    "DocumentLog",
    "DocumentNotFound",
    "DocumentRecord",
    "GroupCommitWriter",
    "LoadedDocument",
    "MemoryStore",
    "SQLiteStore",
    "SnapshotInfo",
    "SnapshotNotFound",
    "Store",
    "StoreError",
    "StoreNotStarted",
    "StoreUnavailable",
    "TaskLog",
    "TaskNotFound",
    "TaskRecord",
    "collect_blobs",
    "is_postgres_url",
    "store_from_url",
]
