"""Postgres store on an asyncpg pool: the shared store of a scaled-out deployment.

Same semantics as :class:`~persistence.sqlite.SQLiteStore`, statement for statement where the
dialects allow. What differs:

- ``append_updates`` is one statement, so one round trip whatever the batch size: the batch
  travels as two arrays, an upsert reserves each document's seqs (locking the rows in id
  order, so concurrent batches cannot deadlock) and an ``INSERT … SELECT`` numbers the
  rows. ``load`` is one statement too (one read snapshot, like SQLite's read transaction).
- Timestamps are ``timestamptz`` (microsecond precision) converted to and from Unix seconds;
  rows the store creates itself are stamped with the database clock (``now()``), which every
  server instance shares.
- Connection failures (refused, dropped, server shutting down, too many clients, unknown
  database, bad credentials) raise :class:`~persistence.errors.StoreUnavailable`; other
  database errors raise :class:`~persistence.errors.StoreError`.

The schema comes from :mod:`persistence.migrate`, applied at start unless ``migrate=False``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg  # type: ignore[import-untyped]

from foundation.urls import redact_url
from persistence._checks import check_page, check_up_to_seq
from persistence.base import Store
from persistence.blobs import check_sha256
from persistence.documents import DocumentKey, check_fence
from persistence.errors import (
    BlobNotFound,
    DocumentExists,
    DocumentNotFound,
    SnapshotNotFound,
    StaleFence,
    StoreError,
    StoreUnavailable,
    TaskNotFound,
)
from persistence.migrate import migrate as apply_migrations
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

logger = logging.getLogger(__name__)

DEFAULT_APPLICATION_NAME = "nexus-canvas"
CLOSE_TIMEOUT = 10.0  # seconds stop() waits for borrowed connections before cutting them

# Failures of the connection or the server rather than of the statement: worth a retry.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,  # class 08, and "connection closed mid-operation"
    asyncpg.exceptions.AdminShutdownError,  # 57P01: pg_terminate_backend, fast shutdown
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up, recovering
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.exceptions.InvalidCatalogNameError,  # 3D000: no such database
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,  # class 28: bad role/password
)

# to_timestamp()'s range in Unix seconds (4713 BC .. 294276 AD); beyond it, it raises.
_EPOCH_RANGE = (-210_866_803_200.0, 9_224_318_016_000.0)


def _listing_key(after: tuple[float, str]) -> tuple[float, str]:
    """A listing key as ``(to_timestamp($n), $m)`` takes it. to_timestamp() of a listed
    created_at gives back the stored microseconds exactly (a float8 resolves a present-day
    epoch to well under half a microsecond); a time outside timestamptz's range becomes
    -Infinity or Infinity, before or after every document."""
    at, doc_id = after
    if not _EPOCH_RANGE[0] <= at < _EPOCH_RANGE[1]:
        at = math.copysign(math.inf, at)
    return (at, doc_id)


_DOC_COLUMNS = (
    "id, owner, name, width, height, dpi, color_profile,"
    " extract(epoch FROM created_at)::float8, extract(epoch FROM updated_at)::float8"
)

_INSERT_DOCUMENT = """
INSERT INTO documents
    (id, owner, name, width, height, dpi, color_profile, created_at, updated_at, last_seq)
VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), to_timestamp($9), 0)
ON CONFLICT (id) DO NOTHING
RETURNING true
"""

_ENSURE_DOCUMENT = """
INSERT INTO documents
    (id, owner, name, width, height, dpi, color_profile, created_at, updated_at, last_seq)
VALUES ($1, NULL, $1, $2, $3, $4, $5, now(), now(), 0)
ON CONFLICT (id) DO NOTHING
"""

# $1 doc ids and $2 updates, parallel arrays in batch order; $3..$6 the default metadata of
# documents the batch creates. Each document's seqs are reserved by bumping last_seq by its
# count (creating the row if needed), then its rows are numbered last_seq - n + 1 .. last_seq
# in batch order. The upsert locks documents in id order, so two batches touching the same
# documents wait for each other instead of deadlocking. The updates rows' foreign key checks
# run at the end of the statement and see the documents rows it created.
_APPEND_UPDATES = """
WITH batch AS (
    SELECT doc_id, data, ord
    FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS b (doc_id, data, ord)
),
per_doc AS (
    SELECT doc_id, count(*) AS n, min(ord) AS first_ord FROM batch GROUP BY doc_id
),
reserved AS (
    INSERT INTO documents AS d
        (id, owner, name, width, height, dpi, color_profile, created_at, updated_at, last_seq)
    SELECT doc_id, NULL, doc_id, $3, $4, $5, $6, now(), now(), n
    FROM per_doc
    ORDER BY doc_id
    ON CONFLICT (id) DO UPDATE
    SET last_seq = d.last_seq + excluded.last_seq, updated_at = excluded.updated_at
    RETURNING d.id, d.last_seq
),
logged AS (
    INSERT INTO updates (doc_id, seq, data, created_at)
    SELECT b.doc_id,
           r.last_seq - p.n + row_number() OVER (PARTITION BY b.doc_id ORDER BY b.ord),
           b.data,
           now()
    FROM batch AS b
    JOIN reserved AS r ON r.id = b.doc_id
    JOIN per_doc AS p ON p.doc_id = b.doc_id
)
SELECT r.id, r.last_seq FROM reserved AS r JOIN per_doc AS p ON p.doc_id = r.id
ORDER BY p.first_ord
"""

_LOAD = """
SELECT d.last_seq,
       s.seq AS snapshot_seq,
       s.state,
       ARRAY(
           SELECT u.data FROM updates AS u
           WHERE u.doc_id = d.id AND u.seq > coalesce(s.seq, 0)
           ORDER BY u.seq
       ) AS tail
FROM documents AS d
LEFT JOIN LATERAL (
    SELECT seq, state FROM snapshots WHERE doc_id = d.id ORDER BY seq DESC, id DESC LIMIT 1
) AS s ON true
WHERE d.id = $1
"""

# FOR KEY SHARE: a concurrent delete_document waits for the snapshot; appends (which do not
# touch the key) go on.
_LOCK_FOR_SNAPSHOT = "SELECT last_seq FROM documents WHERE id = $1 FOR KEY SHARE"

# One statement, so no read-then-write race: records $2 as the document's newest fencing
# token unless a newer one is there; no row back means the write is stale. The upsert's row
# lock is held until commit, so a concurrent writer waits and then compares with this token.
_ADVANCE_FENCE = """
INSERT INTO snapshot_fences AS f (doc_id, fence) VALUES ($1, $2)
ON CONFLICT (doc_id) DO UPDATE SET fence = excluded.fence WHERE f.fence <= excluded.fence
RETURNING fence
"""

_INSERT_SNAPSHOT_AND_COMPACT = """
WITH compacted AS (DELETE FROM updates WHERE doc_id = $1 AND seq <= $2)
INSERT INTO snapshots (doc_id, seq, state, label, created_at)
VALUES ($1, $2, $3, $4, now())
RETURNING id
"""

_PRUNE_AUTO_SNAPSHOTS = """
DELETE FROM snapshots WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (ORDER BY seq DESC, id DESC) AS rn
        FROM snapshots WHERE doc_id = $1 AND label IS NULL
    ) AS ranked WHERE rn > $2
)
"""


# Blobs. The database checks the name against the content (sha256() is built in), so the bytes
# are hashed once, off the event loop. created_at is when the blob was last put (BlobInfo):
# putting an existing blob only refreshes it. (xmax = 0) tells a fresh row from an updated one.
_PUT_BLOB = """
INSERT INTO blobs AS b (sha256, size, media_type, width, height, data, created_at)
SELECT $1, octet_length($2::bytea), $3, $4, $5, $2::bytea, now()
WHERE encode(sha256($2::bytea), 'hex') = $1
ON CONFLICT (sha256) DO UPDATE SET created_at = now()
RETURNING (b.xmax = 0) AS inserted
"""

_BLOB_INFO_COLUMNS = (
    "sha256, size, media_type, width, height, extract(epoch FROM created_at)::float8"
)

_DELETE_BLOBS = """
DELETE FROM blobs
WHERE sha256 = ANY($1::text[]) AND ($2::float8 IS NULL OR created_at < to_timestamp($2))
RETURNING sha256
"""


# AI tasks: an upsert in which a final status is only replaced by a final one (see
# Store.record_task). params travels as JSON text and is stored as jsonb.
_FINAL_TASK_STATUSES = list(TASK_FINAL_STATUSES)

_RECORD_TASK = """
INSERT INTO ai_tasks AS t
    (id, doc_id, type, status, user_id, model, prompt, params, input_bytes, output_bytes,
     error, attempts, created_at, started_at, finished_at, latency_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12,
        to_timestamp($13), to_timestamp($14), to_timestamp($15), $16)
ON CONFLICT (id) DO UPDATE SET
    doc_id = excluded.doc_id, type = excluded.type, status = excluded.status,
    user_id = excluded.user_id, model = excluded.model, prompt = excluded.prompt,
    params = excluded.params, input_bytes = excluded.input_bytes,
    output_bytes = excluded.output_bytes, error = excluded.error, attempts = excluded.attempts,
    created_at = excluded.created_at, started_at = excluded.started_at,
    finished_at = excluded.finished_at, latency_ms = excluded.latency_ms
WHERE t.status <> ALL($17::text[]) OR excluded.status = ANY($17::text[])
"""

_TASK_COLUMNS = (
    "id, doc_id, type, status, user_id, model, prompt, params::text, input_bytes, output_bytes,"
    " error, attempts, extract(epoch FROM created_at)::float8,"
    " extract(epoch FROM started_at)::float8, extract(epoch FROM finished_at)::float8,"
    " latency_ms"
)


def _task_of(row: Any) -> TaskRecord:
    values = list(row)
    values[7] = json.loads(values[7])
    return TaskRecord(*values)


async def _keep_session(conn: Any) -> None:
    """Pool reset hook: the store leaves no session state behind (no SET, LISTEN, cursors;
    migrate() releases its advisory lock), so skip asyncpg's default ``RESET ALL``… query,
    which would cost a round trip per release. Open transactions are still rolled back."""


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class PostgresStore(Store):
    """:class:`Store` in Postgres, through an asyncpg pool.

    Pass a ``url`` (the store creates, owns and closes its pool) or a ready ``pool`` (used as
    is and left open by :meth:`stop`). ``schema`` puts every connection of the store's own
    pool on that schema's ``search_path`` (the schema must exist); ``server_settings`` adds
    other session settings, e.g. ``{"application_name": "canvas-eu-1"}`` (the default
    application name is ``nexus-canvas`` unless the URL sets one). Unknown URL query
    parameters are session settings too (asyncpg), so ``?search_path=tenant1`` works as well.
    With ``migrate=True`` pending migrations are applied at start.
    """

    kind = "postgres"

    def __init__(
        self,
        url: str | None = None,
        *,
        pool: asyncpg.Pool | None = None,
        keep_auto_snapshots: int = DEFAULT_KEEP_AUTO_SNAPSHOTS,
        min_size: int = 1,
        max_size: int = 10,
        migrate: bool = True,
        schema: str | None = None,
        server_settings: Mapping[str, str] | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(keep_auto_snapshots=keep_auto_snapshots)
        if (url is None) == (pool is None):
            raise ValueError("PostgresStore needs exactly one of url or pool")
        if pool is not None and (schema is not None or server_settings):
            raise ValueError(
                "schema and server_settings configure the pool the store creates; "
                "set them on the injected pool instead"
            )
        if min_size < 0:
            raise ValueError(f"min_size must be >= 0, got {min_size}")
        if max_size < max(1, min_size):
            raise ValueError(f"max_size must be >= max(1, min_size={min_size}), got {max_size}")
        if schema == "":
            raise ValueError("schema must be a non-empty name or None")
        self.url = url
        self.schema = schema
        self.min_size = min_size
        self.max_size = max_size
        self.auto_migrate = migrate
        self.connect_timeout = connect_timeout
        self._server_settings = self._session_settings(url, schema, server_settings)
        self._injected_pool = pool
        self._pool: asyncpg.Pool | None = None
        self._target = f"Postgres at {redact_url(url)}" if url is not None else "Postgres pool"

    def __repr__(self) -> str:
        where = repr(redact_url(self.url)) if self.url is not None else "pool=<injected>"
        schema = f", schema={self.schema!r}" if self.schema is not None else ""
        return f"PostgresStore({where}{schema})"

    @staticmethod
    def _session_settings(
        url: str | None, schema: str | None, extra: Mapping[str, str] | None
    ) -> dict[str, str]:
        settings: dict[str, str] = {}
        if url is not None and "application_name" not in parse_qs(urlsplit(url).query):
            settings["application_name"] = DEFAULT_APPLICATION_NAME
        settings.update(extra or {})
        if schema is not None:
            settings["search_path"] = _quote_ident(schema)
        return settings

    @property
    def session_settings(self) -> dict[str, str]:
        """The session settings of every connection of the store's own pool: the default
        application name, ``server_settings``, ``search_path`` for ``schema`` (empty for an
        injected pool)."""
        return dict(self._server_settings)

    @property
    def pool(self) -> asyncpg.Pool | None:
        """The asyncpg pool in use (None while stopped)."""
        return self._pool

    # -- lifecycle ---------------------------------------------------------------------------

    async def _open(self) -> None:
        if self._injected_pool is not None:
            self._pool = self._injected_pool
        else:
            # Kept before it is awaited, so a failing or cancelled start still closes it.
            self._pool = asyncpg.create_pool(
                self.url,
                min_size=self.min_size,
                max_size=self.max_size,
                timeout=self.connect_timeout,
                server_settings=self._server_settings,
                reset=_keep_session,
            )
            with self._translate_errors():
                await self._pool
        if self.auto_migrate:
            applied = await self.run_migrations()
            if applied:
                logger.info("applied migrations %s", applied, extra={"migrations": applied})

    async def _close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None or pool is self._injected_pool:
            return
        try:
            await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            logger.warning("%r: connections still busy after %ss; terminating", self, CLOSE_TIMEOUT)
            pool.terminate()
        except BaseException:
            pool.terminate()
            raise

    async def run_migrations(self) -> list[str]:
        """Apply pending migrations through the store's pool; returns the versions applied."""
        if self._pool is None:
            raise StoreError(f"{self!r} has no pool; start it first")
        with self._translate_errors():
            return await apply_migrations(self._pool)

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(self._target, _describe(exc)) from exc
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"{self!r}: {_describe(exc)}") from exc

    def _started_pool(self) -> Any:
        self._check_started()
        if self._pool is None:
            raise StoreError(f"{self!r} has no pool")
        return self._pool

    # -- documents ---------------------------------------------------------------------------

    async def ensure_document(self, doc_id: str) -> None:
        pool = self._started_pool()
        with self._translate_errors():
            await pool.execute(
                _ENSURE_DOCUMENT,
                doc_id,
                DEFAULT_WIDTH,
                DEFAULT_HEIGHT,
                DEFAULT_DPI,
                DEFAULT_COLOR_PROFILE,
            )

    async def create_document(self, record: DocumentRecord) -> None:
        pool = self._started_pool()
        with self._translate_errors():
            inserted = await pool.fetchval(
                _INSERT_DOCUMENT,
                record.id,
                record.owner,
                record.name,
                record.width,
                record.height,
                record.dpi,
                record.color_profile,
                float(record.created_at),
                float(record.updated_at),
            )
        if inserted is None:
            raise DocumentExists(record.id)

    async def get_document(self, doc_id: str) -> DocumentRecord:
        pool = self._started_pool()
        with self._translate_errors():
            row = await pool.fetchrow(f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = $1", doc_id)
        if row is None:
            raise DocumentNotFound(doc_id)
        return DocumentRecord(*row)

    async def list_documents(self, *, limit: int = 100, offset: int = 0) -> list[DocumentRecord]:
        pool = self._started_pool()
        check_page(limit, offset)
        with self._translate_errors():
            rows = await pool.fetch(
                f"SELECT {_DOC_COLUMNS} FROM documents ORDER BY created_at, id LIMIT $1 OFFSET $2",
                limit,
                offset,
            )
        return [DocumentRecord(*row) for row in rows]

    async def list_documents_after(
        self, after: DocumentKey | None, *, limit: int = 100
    ) -> list[DocumentRecord]:
        pool = self._started_pool()
        check_page(limit, 0)
        where, params = (
            ("", ())
            if after is None
            else ("WHERE (created_at, id) > (to_timestamp($2), $3)", _listing_key(after))
        )
        with self._translate_errors():
            rows = await pool.fetch(
                f"SELECT {_DOC_COLUMNS} FROM documents {where} ORDER BY created_at, id LIMIT $1",
                limit,
                *params,
            )
        return [DocumentRecord(*row) for row in rows]

    async def rename_document(self, doc_id: str, name: str) -> DocumentRecord:
        pool = self._started_pool()
        with self._translate_errors():
            row = await pool.fetchrow(
                "UPDATE documents SET name = $2, updated_at = now() WHERE id = $1"
                f" RETURNING {_DOC_COLUMNS}",
                doc_id,
                name,
            )
        if row is None:
            raise DocumentNotFound(doc_id)
        return DocumentRecord(*row)

    async def delete_document(self, doc_id: str) -> None:
        pool = self._started_pool()
        with self._translate_errors():  # the log and snapshots go by ON DELETE CASCADE
            deleted = await pool.fetchval(
                "DELETE FROM documents WHERE id = $1 RETURNING true", doc_id
            )
        if deleted is None:
            raise DocumentNotFound(doc_id)

    # -- update log and snapshots ------------------------------------------------------------

    async def append_updates(self, items: Sequence[tuple[str, bytes]]) -> dict[str, int]:
        pool = self._started_pool()
        if not items:
            return {}
        doc_ids = [doc_id for doc_id, _ in items]
        updates = [bytes(update) for _, update in items]
        with self._translate_errors():
            rows = await pool.fetch(
                _APPEND_UPDATES,
                doc_ids,
                updates,
                DEFAULT_WIDTH,
                DEFAULT_HEIGHT,
                DEFAULT_DPI,
                DEFAULT_COLOR_PROFILE,
            )
        return {row["id"]: int(row["last_seq"]) for row in rows}

    async def load(self, doc_id: str) -> LoadedDocument:
        pool = self._started_pool()
        with self._translate_errors():
            row = await pool.fetchrow(_LOAD, doc_id)
        if row is None:
            return LoadedDocument(snapshot=None, snapshot_seq=0, updates=[], last_seq=0)
        snapshot_seq = row["snapshot_seq"]
        return LoadedDocument(
            snapshot=None if snapshot_seq is None else bytes(row["state"]),
            snapshot_seq=0 if snapshot_seq is None else int(snapshot_seq),
            updates=[bytes(update) for update in row["tail"]],
            last_seq=int(row["last_seq"]),
        )

    async def write_snapshot(
        self,
        doc_id: str,
        state: bytes,
        up_to_seq: int,
        *,
        label: str | None = None,
        fence: int | None = None,
    ) -> int:
        pool = self._started_pool()
        check_fence(fence)
        with self._translate_errors():
            async with pool.acquire() as conn, conn.transaction():
                last_seq = await conn.fetchval(_LOCK_FOR_SNAPSHOT, doc_id)
                if last_seq is None:
                    raise DocumentNotFound(doc_id)
                check_up_to_seq(doc_id, up_to_seq, int(last_seq))
                if fence is not None and await conn.fetchval(_ADVANCE_FENCE, doc_id, fence) is None:
                    newest = await conn.fetchval(
                        "SELECT fence FROM snapshot_fences WHERE doc_id = $1", doc_id
                    )
                    raise StaleFence(doc_id, fence, int(newest))
                snapshot_id = await conn.fetchval(
                    _INSERT_SNAPSHOT_AND_COMPACT, doc_id, up_to_seq, bytes(state), label
                )
                await conn.execute(_PRUNE_AUTO_SNAPSHOTS, doc_id, self.keep_auto_snapshots)
        return int(snapshot_id)

    async def list_snapshots(self, doc_id: str) -> list[SnapshotInfo]:
        pool = self._started_pool()
        with self._translate_errors():
            rows = await pool.fetch(
                "SELECT id, doc_id, seq, extract(epoch FROM created_at)::float8, label,"
                " octet_length(state) FROM snapshots WHERE doc_id = $1 ORDER BY id DESC",
                doc_id,
            )
        return [SnapshotInfo(*row) for row in rows]

    async def read_snapshot(self, doc_id: str, snapshot_id: int) -> bytes:
        pool = self._started_pool()
        with self._translate_errors():
            state = await pool.fetchval(
                "SELECT state FROM snapshots WHERE doc_id = $1 AND id = $2", doc_id, snapshot_id
            )
        if state is None:
            raise SnapshotNotFound(doc_id, snapshot_id)
        return bytes(state)

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
        pool = self._started_pool()
        check_sha256(sha256)
        with self._translate_errors():
            row = await pool.fetchrow(_PUT_BLOB, sha256, bytes(data), media_type, width, height)
        if row is None:
            # The WHERE refused it: say what the bytes really hash to (off the event loop).
            actual = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
            raise ValueError(
                f"blob bytes hash to {actual}, not to the name they were put under {sha256}"
            )
        return bool(row["inserted"])

    async def get_blob(self, sha256: str) -> BlobRecord:
        pool = self._started_pool()
        with self._translate_errors():
            row = await pool.fetchrow(
                f"SELECT {_BLOB_INFO_COLUMNS}, data FROM blobs WHERE sha256 = $1", sha256
            )
        if row is None:
            raise BlobNotFound(sha256)
        sha, size, media_type, width, height, stored_at, data = row
        return BlobRecord(sha, size, media_type, width, height, stored_at, bytes(data))

    async def blob_info(self, sha256: str) -> BlobInfo:
        pool = self._started_pool()
        with self._translate_errors():
            row = await pool.fetchrow(
                f"SELECT {_BLOB_INFO_COLUMNS} FROM blobs WHERE sha256 = $1", sha256
            )
        if row is None:
            raise BlobNotFound(sha256)
        return BlobInfo(*row)

    async def list_blob_hashes(self, *, stored_before: float | None = None) -> list[str]:
        pool = self._started_pool()
        with self._translate_errors():
            rows = await pool.fetch(
                "SELECT sha256 FROM blobs"
                " WHERE $1::float8 IS NULL OR created_at < to_timestamp($1)"
                ' ORDER BY sha256 COLLATE "C"',
                stored_before,
            )
        return [row["sha256"] for row in rows]

    async def delete_blobs(
        self, hashes: Iterable[str], *, stored_before: float | None = None
    ) -> list[str]:
        pool = self._started_pool()
        wanted = list(dict.fromkeys(check_sha256(h) for h in hashes))
        if not wanted:
            return []
        with self._translate_errors():
            rows = await pool.fetch(_DELETE_BLOBS, wanted, stored_before)
        return [row["sha256"] for row in rows]

    # -- AI tasks ----------------------------------------------------------------------------

    async def record_task(self, record: TaskRecord) -> None:
        pool = self._started_pool()
        with self._translate_errors():
            await pool.execute(
                _RECORD_TASK,
                record.id,
                record.doc_id,
                record.type,
                record.status,
                record.user_id,
                record.model,
                record.prompt,
                json.dumps(record.params),
                record.input_bytes,
                record.output_bytes,
                record.error,
                record.attempts,
                float(record.created_at),
                record.started_at,
                record.finished_at,
                record.latency_ms,
                _FINAL_TASK_STATUSES,
            )

    async def get_task(self, task_id: str) -> TaskRecord:
        pool = self._started_pool()
        with self._translate_errors():
            row = await pool.fetchrow(
                f"SELECT {_TASK_COLUMNS} FROM ai_tasks WHERE id = $1", task_id
            )
        if row is None:
            raise TaskNotFound(task_id)
        return _task_of(row)

    async def list_tasks(
        self, *, doc_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[TaskRecord]:
        pool = self._started_pool()
        check_page(limit, offset)
        with self._translate_errors():
            rows = await pool.fetch(
                f"SELECT {_TASK_COLUMNS} FROM ai_tasks WHERE $1::text IS NULL OR doc_id = $1"
                " ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
                doc_id,
                limit,
                offset,
            )
        return [_task_of(row) for row in rows]


async def migrate_url(url: str) -> list[str]:
    """Connect to ``url``, apply the pending migrations, disconnect.

    Raises :class:`~persistence.errors.StoreUnavailable` when the server cannot be reached and
    :class:`~persistence.errors.StoreError` when a migration fails.
    """
    async with PostgresStore(url, min_size=1, max_size=1, migrate=False) as store:
        return await store.run_migrations()
