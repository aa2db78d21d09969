"""Durable storage: documents, update logs and snapshots (memory, SQLite; Postgres later)."""

from persistence.base import (
    AlreadyStarted,
    DocumentExists,
    DocumentNotFound,
    DocumentRecord,
    LoadedDocument,
    SnapshotInfo,
    SnapshotNotFound,
    Store,
    StoreError,
    StoreNotStarted,
)
from persistence.factory import store_from_url
from persistence.memory import MemoryStore
from persistence.sqlite import SQLiteStore
from persistence.writer import GroupCommitWriter

__all__ = [
    "AlreadyStarted",
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
    "store_from_url",
]
