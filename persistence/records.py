"""The rows the store interfaces take and return: documents, snapshots, blobs, AI tasks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_KEEP_AUTO_SNAPSHOTS = 20
DEFAULT_WIDTH = 1024
DEFAULT_HEIGHT = 1024
DEFAULT_DPI = 72
DEFAULT_COLOR_PROFILE = "sRGB"


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
