"""The persistence exception tree.

::

    StoreError
     ├── DocumentNotFound
     ├── DocumentExists
     ├── SnapshotNotFound
     ├── StaleFence        a snapshot write under a lease another writer has since taken over
     ├── BlobNotFound
     ├── TaskNotFound
     ├── StoreNotStarted
     ├── AlreadyStarted
     └── StoreUnavailable

The access store adds its own (:mod:`persistence.access.base`), under :class:`StoreError` too.
"""

from __future__ import annotations


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


class StaleFence(StoreError):
    """A snapshot write carried a fencing token older than the newest one the store has seen
    for the document: its writer lost the snapshot lease (paused past the TTL) and another
    holder has written since. Nothing is lost: the update log still holds every update, and
    the newer holder's snapshot covers them."""

    def __init__(self, doc_id: str, fence: int, newest: int) -> None:
        super().__init__(
            f"snapshot of document {doc_id!r} refused: fencing token {fence} older than {newest}"
        )
        self.doc_id = doc_id
        self.fence = fence
        self.newest = newest


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
