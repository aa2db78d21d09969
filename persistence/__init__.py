"""Durable storage: documents, update logs and snapshots (memory, SQLite, Postgres).

``PostgresStore`` lives in :mod:`persistence.postgres` and is not imported here, so that
asyncpg loads only when a Postgres URL is configured (``store_from_url`` picks it).
"""

from foundation.urls import redact_url
from persistence.base import (
    AlreadyStarted,
    BlobInfo,
    BlobNotFound,
    BlobRecord,
    DocumentExists,
    DocumentNotFound,
    DocumentRecord,
    LoadedDocument,
    SnapshotInfo,
    SnapshotNotFound,
    Store,
    StoreError,
    StoreNotStarted,
    StoreUnavailable,
    collect_blobs,
)
from persistence.factory import is_postgres_url, store_from_url
from persistence.memory import MemoryStore
from persistence.sqlite import SQLiteStore
from persistence.writer import GroupCommitWriter

__all__ = [
    "AlreadyStarted",
    "BlobInfo",
    "BlobNotFound",
    "BlobRecord",
    "DocumentExists",
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
    "collect_blobs",
    "is_postgres_url",
    "redact_url",
    "store_from_url",
]
