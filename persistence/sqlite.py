"""Embedded SQLite store: one file, one connection, one dedicated worker thread.

sqlite3 calls block, so every call runs on a single-thread executor owned by the store; the
connection is created, used and closed on that thread only, which also serializes writers
without any lock.

Durability: WAL journal with ``synchronous=NORMAL``. A committed transaction is in the WAL
file (written through the OS page cache) before ``append_updates`` returns, so it survives the
process being killed (SIGKILL, OOM, crash) — the failure this server cares about, since the
OS flushes the page cache on its own. A power loss or kernel crash may lose the last few
commits (they were not fsynced) but never corrupts the database. ``synchronous=FULL`` would
add an fsync per commit; group commit keeps that cheap should it ever be needed.

The SQL avoids SQLite-only syntax where a portable form exists (upsert, RETURNING, window
functions) so the Postgres store can mirror it statement for statement.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from persistence._checks import check_page, check_up_to_seq
from persistence.base import Store
from persistence.blobs import check_blob, check_sha256
from persistence.documents import DocumentKey, check_fence
from persistence.errors import (
    BlobNotFound,
    DocumentExists,
    DocumentNotFound,
    SnapshotNotFound,
    StaleFence,
    StoreError,
    TaskNotFound,
)
from persistence.records import (
    DEFAULT_COLOR_PROFILE,
    DEFAULT_DPI,
    DEFAULT_HEIGHT,
    DEFAULT_KEEP_AUTO_SNAPSHOTS,
    DEFAULT_WIDTH,
    TASK_FINAL_STATUSES,
    BlobInfo,
    BlobRecord,
    DocumentRecord,
    LoadedDocument,
    SnapshotInfo,
    TaskRecord,
)

P = ParamSpec("P")
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    owner TEXT,
    name TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    dpi INTEGER NOT NULL,
    color_profile TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS documents_created ON documents (created_at, id);
CREATE TABLE IF NOT EXISTS updates (
    doc_id TEXT NOT NULL REFERENCES documents (id),
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (doc_id, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents (id),
    seq INTEGER NOT NULL,
    state BLOB NOT NULL,
    label TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_doc_seq ON snapshots (doc_id, seq, id);
-- The newest fencing token a snapshot write carried, per document (see DocumentLog).
CREATE TABLE IF NOT EXISTS snapshot_fences (
    doc_id TEXT PRIMARY KEY REFERENCES documents (id),
    fence INTEGER NOT NULL
);
-- Content-addressed images; created_at is when the blob was last put (see BlobInfo).
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    data BLOB NOT NULL,
    created_at REAL NOT NULL
);
-- AI jobs and their accounting (no foreign key: a task's row outlives its document).
CREATE TABLE IF NOT EXISTS ai_tasks (
    id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    user_id TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    model TEXT,
    prompt TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    input_bytes INTEGER,
    output_bytes INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    latency_ms REAL
);
CREATE INDEX IF NOT EXISTS ai_tasks_doc ON ai_tasks (doc_id, created_at);
CREATE INDEX IF NOT EXISTS ai_tasks_status ON ai_tasks (status, created_at);
"""

_DOC_COLUMNS = "id, owner, name, width, height, dpi, color_profile, created_at, updated_at"

# Creates the row with defaults, or bumps last_seq by the batch size; returns the new last_seq.
_RESERVE_SEQS = f"""
INSERT INTO documents ({_DOC_COLUMNS}, last_seq) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE
SET last_seq = documents.last_seq + excluded.last_seq, updated_at = excluded.updated_at
RETURNING last_seq
"""

_PRUNE_AUTO_SNAPSHOTS = """
DELETE FROM snapshots WHERE id IN (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (ORDER BY seq DESC, id DESC) AS rn
        FROM snapshots WHERE doc_id = ? AND label IS NULL
    ) AS ranked WHERE rn > ?
)
"""


@contextmanager
def _transaction(conn: sqlite3.Connection, mode: str = "IMMEDIATE") -> Iterator[None]:
    # The connection is in autocommit mode (isolation_level=None); transactions are explicit.
    conn.execute(f"BEGIN {mode}")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # some errors (and a failed COMMIT) leave it open, some don't
            conn.execute("ROLLBACK")
        raise


class SQLiteStore(Store):
    """:class:`Store` in a single SQLite file (``":memory:"`` works too, for tests)."""

    kind = "sqlite"

    def __init__(
        self, path: str | Path, *, keep_auto_snapshots: int = DEFAULT_KEEP_AUTO_SNAPSHOTS
    ) -> None:
        super().__init__(keep_auto_snapshots=keep_auto_snapshots)
        self.path = path if str(path) == ":memory:" else Path(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # touched on the worker thread only

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def _open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        await self._submit(self._connect)

    async def _close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._disconnect)
        finally:
            executor.shutdown(wait=True)

    def _connect(self) -> None:
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def _submit(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise StoreError(f"{self!r} has no worker thread")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        except sqlite3.Error as exc:
            raise StoreError(f"{self!r}: {type(exc).__name__}: {exc}") from exc

    async def run(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``fn(connection, *args, **kwargs)`` on the store's worker thread; its result.

        The way for code that shares the store's database (the access store) to work on it:
        ``fn`` runs serialized with the store's own calls, on its one connection, which is in
        autocommit mode (``fn`` opens a transaction if it needs one). ``fn`` blocks that
        thread, so keep it to SQL. sqlite3 errors raise :class:`StoreError`; outside
        ``start()``..``stop()`` this raises :class:`~persistence.errors.StoreNotStarted`.
        """
        self._check_started()
        return await self._submit(functools.partial(self._with_conn, fn, *args, **kwargs))

    def _with_conn(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        if self._conn is None:
            raise StoreError(f"{self!r} has no open connection")
        return fn(self._conn, *args, **kwargs)

    # -- documents ---------------------------------------------------------------------------

    async def ensure_document(self, doc_id: str) -> None:
        await self.run(_insert_document, DocumentRecord.default(doc_id), must_be_new=False)

    async def create_document(self, record: DocumentRecord) -> None:
        await self.run(_insert_document, record, must_be_new=True)

    async def get_document(self, doc_id: str) -> DocumentRecord:
        return await self.run(_get_document, doc_id)

    async def list_documents(self, *, limit: int = 100, offset: int = 0) -> list[DocumentRecord]:
        check_page(limit, offset)
        return await self.run(_list_documents, limit, offset)

    async def list_documents_after(
        self, after: DocumentKey | None, *, limit: int = 100
    ) -> list[DocumentRecord]:
        check_page(limit, 0)
        return await self.run(_list_documents_after, after, limit)

    async def rename_document(self, doc_id: str, name: str) -> DocumentRecord:
        return await self.run(_rename_document, doc_id, name, time.time())

    async def delete_document(self, doc_id: str) -> None:
        await self.run(_delete_document, doc_id)

    # -- update log and snapshots ------------------------------------------------------------

    async def append_updates(self, items: Sequence[tuple[str, bytes]]) -> dict[str, int]:
        if not items:
            self._check_started()
            return {}
        return await self.run(_append_updates, list(items), time.time())

    async def load(self, doc_id: str) -> LoadedDocument:
        return await self.run(_load, doc_id)

    async def write_snapshot(
        self,
        doc_id: str,
        state: bytes,
        up_to_seq: int,
        *,
        label: str | None = None,
        fence: int | None = None,
    ) -> int:
        check_fence(fence)
        return await self.run(
            _write_snapshot,
            doc_id,
            bytes(state),
            up_to_seq,
            label,
            fence,
            self.keep_auto_snapshots,
            time.time(),
        )

    async def list_snapshots(self, doc_id: str) -> list[SnapshotInfo]:
        return await self.run(_list_snapshots, doc_id)

    async def read_snapshot(self, doc_id: str, snapshot_id: int) -> bytes:
        return await self.run(_read_snapshot, doc_id, snapshot_id)

    # -- blobs -------------------------------------------------------------------------------

    async def put_blob(
        self,
        sha256: str,
        data: bytes,
        *,
        media_type: str,
        width: int | None = None,
        height: int | None = None,
    ) -> bool:
        return await self.run(
            _put_blob, sha256, bytes(data), media_type, width, height, time.time()
        )

    async def get_blob(self, sha256: str) -> BlobRecord:
        return await self.run(_get_blob, sha256)

    async def blob_info(self, sha256: str) -> BlobInfo:
        return await self.run(_blob_info, sha256)

    async def list_blob_hashes(self, *, stored_before: float | None = None) -> list[str]:
        return await self.run(_list_blob_hashes, stored_before)

    async def delete_blobs(
        self, hashes: Iterable[str], *, stored_before: float | None = None
    ) -> list[str]:
        wanted = list(dict.fromkeys(check_sha256(h) for h in hashes))
        if not wanted:
            self._check_started()
            return []
        return await self.run(_delete_blobs, wanted, stored_before)

    # -- AI tasks ----------------------------------------------------------------------------

    async def record_task(self, record: TaskRecord) -> None:
        await self.run(_record_task, record)

    async def get_task(self, task_id: str) -> TaskRecord:
        return await self.run(_get_task, task_id)

    async def list_tasks(
        self, *, doc_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[TaskRecord]:
        check_page(limit, offset)
        return await self.run(_list_tasks, doc_id, limit, offset)


# -- the blocking halves, run on the store's worker thread ---------------------------------


def _insert_document(conn: sqlite3.Connection, record: DocumentRecord, must_be_new: bool) -> None:
    cur = conn.execute(
        f"INSERT INTO documents ({_DOC_COLUMNS}, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
        " ON CONFLICT (id) DO NOTHING",
        (
            record.id,
            record.owner,
            record.name,
            record.width,
            record.height,
            record.dpi,
            record.color_profile,
            record.created_at,
            record.updated_at,
        ),
    )
    if must_be_new and cur.rowcount == 0:
        raise DocumentExists(record.id)


def _get_document(conn: sqlite3.Connection, doc_id: str) -> DocumentRecord:
    row = conn.execute(f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ?", (doc_id,)).fetchone()
    if row is None:
        raise DocumentNotFound(doc_id)
    return DocumentRecord(*row)


def _list_documents(conn: sqlite3.Connection, limit: int, offset: int) -> list[DocumentRecord]:
    rows = conn.execute(
        f"SELECT {_DOC_COLUMNS} FROM documents ORDER BY created_at, id LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
    return [DocumentRecord(*row) for row in rows]


def _list_documents_after(
    conn: sqlite3.Connection, after: DocumentKey | None, limit: int
) -> list[DocumentRecord]:
    where, params = ("", ()) if after is None else ("WHERE (created_at, id) > (?, ?)", after)
    rows = conn.execute(
        f"SELECT {_DOC_COLUMNS} FROM documents {where} ORDER BY created_at, id LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [DocumentRecord(*row) for row in rows]


def _rename_document(
    conn: sqlite3.Connection, doc_id: str, name: str, now: float
) -> DocumentRecord:
    with _transaction(conn):
        row = conn.execute(
            f"UPDATE documents SET name = ?, updated_at = ? WHERE id = ? RETURNING {_DOC_COLUMNS}",
            (name, now, doc_id),
        ).fetchone()
    if row is None:
        raise DocumentNotFound(doc_id)
    return DocumentRecord(*row)


def _delete_document(conn: sqlite3.Connection, doc_id: str) -> None:
    with _transaction(conn):
        conn.execute("DELETE FROM updates WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM snapshots WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM snapshot_fences WHERE doc_id = ?", (doc_id,))
        if conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount == 0:
            raise DocumentNotFound(doc_id)


def _append_updates(
    conn: sqlite3.Connection, items: list[tuple[str, bytes]], now: float
) -> dict[str, int]:
    by_doc: dict[str, list[bytes]] = {}
    for doc_id, data in items:
        by_doc.setdefault(doc_id, []).append(bytes(data))
    result: dict[str, int] = {}
    rows: list[tuple[str, int, bytes, float]] = []
    with _transaction(conn):
        for doc_id, datas in by_doc.items():
            (last_seq,) = conn.execute(
                _RESERVE_SEQS,
                (
                    doc_id,
                    doc_id,
                    DEFAULT_WIDTH,
                    DEFAULT_HEIGHT,
                    DEFAULT_DPI,
                    DEFAULT_COLOR_PROFILE,
                    now,
                    now,
                    len(datas),
                ),
            ).fetchall()[0]
            first = last_seq - len(datas) + 1
            rows.extend((doc_id, first + i, data, now) for i, data in enumerate(datas))
            result[doc_id] = last_seq
        conn.executemany(
            "INSERT INTO updates (doc_id, seq, data, created_at) VALUES (?, ?, ?, ?)", rows
        )
    return result


def _load(conn: sqlite3.Connection, doc_id: str) -> LoadedDocument:
    with _transaction(conn, "DEFERRED"):  # one read snapshot for the three queries
        row = conn.execute("SELECT last_seq FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return LoadedDocument(snapshot=None, snapshot_seq=0, updates=[], last_seq=0)
        snap = conn.execute(
            "SELECT seq, state FROM snapshots WHERE doc_id = ? ORDER BY seq DESC, id DESC LIMIT 1",
            (doc_id,),
        ).fetchone()
        snapshot_seq, snapshot = (0, None) if snap is None else (snap[0], bytes(snap[1]))
        updates = conn.execute(
            "SELECT data FROM updates WHERE doc_id = ? AND seq > ? ORDER BY seq",
            (doc_id, snapshot_seq),
        ).fetchall()
    return LoadedDocument(
        snapshot=snapshot,
        snapshot_seq=snapshot_seq,
        updates=[bytes(u) for (u,) in updates],
        last_seq=row[0],
    )


# Records ``fence`` as the document's newest unless a newer one was seen: a row back means
# the write may go ahead (the transaction holds SQLite's write lock, as Postgres's row lock).
_ADVANCE_FENCE = """
INSERT INTO snapshot_fences (doc_id, fence) VALUES (?, ?)
ON CONFLICT (doc_id) DO UPDATE SET fence = excluded.fence
WHERE snapshot_fences.fence <= excluded.fence
RETURNING fence
"""


def _write_snapshot(
    conn: sqlite3.Connection,
    doc_id: str,
    state: bytes,
    up_to_seq: int,
    label: str | None,
    fence: int | None,
    keep_auto: int,
    now: float,
) -> int:
    with _transaction(conn):
        row = conn.execute("SELECT last_seq FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise DocumentNotFound(doc_id)
        check_up_to_seq(doc_id, up_to_seq, row[0])
        if fence is not None and not conn.execute(_ADVANCE_FENCE, (doc_id, fence)).fetchall():
            ((newest,),) = conn.execute(
                "SELECT fence FROM snapshot_fences WHERE doc_id = ?", (doc_id,)
            ).fetchall()
            raise StaleFence(doc_id, fence, int(newest))
        ((snapshot_id,),) = conn.execute(
            "INSERT INTO snapshots (doc_id, seq, state, label, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (doc_id, up_to_seq, state, label, now),
        ).fetchall()
        conn.execute("DELETE FROM updates WHERE doc_id = ? AND seq <= ?", (doc_id, up_to_seq))
        conn.execute(_PRUNE_AUTO_SNAPSHOTS, (doc_id, keep_auto))
    return int(snapshot_id)


def _list_snapshots(conn: sqlite3.Connection, doc_id: str) -> list[SnapshotInfo]:
    rows = conn.execute(
        "SELECT id, doc_id, seq, created_at, label, length(state) FROM snapshots"
        " WHERE doc_id = ? ORDER BY id DESC",
        (doc_id,),
    ).fetchall()
    return [SnapshotInfo(*row) for row in rows]


def _read_snapshot(conn: sqlite3.Connection, doc_id: str, snapshot_id: int) -> bytes:
    row = conn.execute(
        "SELECT state FROM snapshots WHERE doc_id = ? AND id = ?", (doc_id, snapshot_id)
    ).fetchone()
    if row is None:
        raise SnapshotNotFound(doc_id, snapshot_id)
    return bytes(row[0])


_BLOB_INFO_COLUMNS = "sha256, size, media_type, width, height, created_at"


def _put_blob(
    conn: sqlite3.Connection,
    sha256: str,
    data: bytes,
    media_type: str,
    width: int | None,
    height: int | None,
    now: float,
) -> bool:
    check_blob(sha256, data)  # here, on the store's thread, not on the event loop
    with _transaction(conn):
        inserted = conn.execute(
            f"INSERT INTO blobs ({_BLOB_INFO_COLUMNS}, data) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256) DO NOTHING",
            (sha256, len(data), media_type, width, height, now, data),
        ).rowcount
        if not inserted:
            conn.execute("UPDATE blobs SET created_at = ? WHERE sha256 = ?", (now, sha256))
    return bool(inserted)


def _get_blob(conn: sqlite3.Connection, sha256: str) -> BlobRecord:
    row = conn.execute(
        f"SELECT {_BLOB_INFO_COLUMNS}, data FROM blobs WHERE sha256 = ?", (sha256,)
    ).fetchone()
    if row is None:
        raise BlobNotFound(sha256)
    sha, size, media_type, width, height, stored_at, data = row
    return BlobRecord(sha, size, media_type, width, height, stored_at, bytes(data))


def _blob_info(conn: sqlite3.Connection, sha256: str) -> BlobInfo:
    row = conn.execute(
        f"SELECT {_BLOB_INFO_COLUMNS} FROM blobs WHERE sha256 = ?", (sha256,)
    ).fetchone()
    if row is None:
        raise BlobNotFound(sha256)
    return BlobInfo(*row)


def _list_blob_hashes(conn: sqlite3.Connection, stored_before: float | None) -> list[str]:
    if stored_before is None:
        rows = conn.execute("SELECT sha256 FROM blobs ORDER BY sha256").fetchall()
    else:
        rows = conn.execute(
            "SELECT sha256 FROM blobs WHERE created_at < ? ORDER BY sha256", (stored_before,)
        ).fetchall()
    return [sha256 for (sha256,) in rows]


def _delete_blobs(
    conn: sqlite3.Connection, hashes: list[str], stored_before: float | None
) -> list[str]:
    deleted: list[str] = []
    with _transaction(conn):
        for sha256 in hashes:
            if stored_before is None:
                cur = conn.execute("DELETE FROM blobs WHERE sha256 = ?", (sha256,))
            else:
                cur = conn.execute(
                    "DELETE FROM blobs WHERE sha256 = ? AND created_at < ?",
                    (sha256, stored_before),
                )
            if cur.rowcount:
                deleted.append(sha256)
    return deleted


_TASK_COLUMNS = (
    "id, doc_id, type, status, user_id, model, prompt, params, input_bytes, output_bytes,"
    " error, attempts, created_at, started_at, finished_at, latency_ms"
)
_FINAL = ", ".join(f"'{status}'" for status in TASK_FINAL_STATUSES)

# Upsert; a final status is only replaced by a final one (see Store.record_task).
_RECORD_TASK = f"""
INSERT INTO ai_tasks ({_TASK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    doc_id = excluded.doc_id, type = excluded.type, status = excluded.status,
    user_id = excluded.user_id, model = excluded.model, prompt = excluded.prompt,
    params = excluded.params, input_bytes = excluded.input_bytes,
    output_bytes = excluded.output_bytes, error = excluded.error, attempts = excluded.attempts,
    created_at = excluded.created_at, started_at = excluded.started_at,
    finished_at = excluded.finished_at, latency_ms = excluded.latency_ms
WHERE ai_tasks.status NOT IN ({_FINAL}) OR excluded.status IN ({_FINAL})
"""


def _task_row(record: TaskRecord) -> tuple[object, ...]:
    return (
        record.id, record.doc_id, record.type, record.status, record.user_id, record.model,
        record.prompt, json.dumps(record.params), record.input_bytes, record.output_bytes,
        record.error, record.attempts, record.created_at, record.started_at,
        record.finished_at, record.latency_ms,
    )  # fmt: skip


def _task_of(row: tuple[object, ...]) -> TaskRecord:
    values = list(row)
    values[7] = json.loads(str(values[7]))
    return TaskRecord(*values)  # type: ignore[arg-type]


def _record_task(conn: sqlite3.Connection, record: TaskRecord) -> None:
    with _transaction(conn):
        conn.execute(_RECORD_TASK, _task_row(record))


def _get_task(conn: sqlite3.Connection, task_id: str) -> TaskRecord:
    row = conn.execute(f"SELECT {_TASK_COLUMNS} FROM ai_tasks WHERE id = ?", (task_id,)).fetchone()
    if row is None:
        raise TaskNotFound(task_id)
    return _task_of(row)


def _list_tasks(
    conn: sqlite3.Connection, doc_id: str | None, limit: int, offset: int
) -> list[TaskRecord]:
    rows = conn.execute(
        f"SELECT {_TASK_COLUMNS} FROM ai_tasks WHERE ? IS NULL OR doc_id = ?"
        " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        (doc_id, doc_id, limit, offset),
    ).fetchall()
    return [_task_of(row) for row in rows]
