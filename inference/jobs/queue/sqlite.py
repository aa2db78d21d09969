"""The job queue in a SQLite file: the embedded mode's queue, which survives a restart.

One table ``jobs`` holds every job (the record as submitted, as JSON, and its changing
fields). The waiting line is ordered by ``seq``; a released job goes to its end. A running
job's lease is ``lease_until`` on the queue's clock (wall time by default, so that it means
something to the next process); a job whose lease ran out is claimed again before new ones,
as a new attempt, until ``max_attempts`` starts are spent: the same contract as the Redis
queue, each change one ``BEGIN IMMEDIATE`` transaction that checks state and attempt first.

One process owns the file at a time (an exclusive ``flock`` on ``<file>.lock``, released by
the kernel when the process dies, even by SIGKILL). So a job found running when the queue
opens was left by a process that is gone: its lease is ended at once and the first claim
runs it again, instead of waiting for the lease to run out. Together with the server's
layer ids derived from the job, that gives at-least-once execution and exactly one layer.

Like the SQLite store, every call runs on one thread owned by the queue, in WAL mode with
``synchronous=NORMAL`` (a commit survives SIGKILL of the process). Claims wait on an
in-process event: the one process that owns the file is the one that submits.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import unquote

from inference.jobs.model import Job, JobState
from inference.jobs.queue.base import (
    RETENTION_S,
    RETRY_AFTER_S,
    JobNotFound,
    JobQueue,
    Lease,
    QueueError,
    QueueFull,
    QueueInUse,
    QueueNotStarted,
    StaleAttempt,
    check_final,
)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    job TEXT NOT NULL,
    state TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_until REAL,
    started_at REAL,
    finished_at REAL,
    error TEXT,
    result TEXT
);
CREATE INDEX IF NOT EXISTS jobs_line ON jobs (state, seq);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at);
"""
_COLUMNS = "job, state, progress, attempts, cancel, started_at, finished_at, error, result"
_UNFINISHED = "state IN ('queued', 'running')"
_NEXT_SEQ = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs)"


def path_of(url: str) -> Path:
    """The file of a ``sqlite:///abs/path.db`` (or ``sqlite:relative.db``) URL."""
    rest = url.partition(":")[2]
    if rest.startswith("//"):
        rest = rest[2:]
        if not rest.startswith("/"):
            raise ValueError(f"bad SQLite URL {url!r}: use sqlite:///abs/path.db (three slashes)")
    path = unquote(rest.split("?", 1)[0])
    if not path or path.endswith("/") or path == ":memory:":
        raise ValueError(f"job queue URL {url!r} names no file; e.g. sqlite:///abs/jobs.db")
    return Path(path)


class SQLiteQueue(JobQueue):
    """:class:`JobQueue` in the SQLite file ``path`` (created with its folder if missing).
    ``clock`` (seconds, wall time unless a test passes one it moves by hand) times the
    leases; ``start`` raises :class:`QueueInUse` when another process holds the file."""

    kind = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        max_jobs: int = 64,
        max_attempts: int = 3,
        lease: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(max_jobs=max_jobs, max_attempts=max_attempts, lease=lease)
        self.path = Path(path)
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # touched on the queue's thread only
        self._lock_file: IO[bytes] | None = None
        self._wakeup = asyncio.Event()

    def __repr__(self) -> str:
        return f"SQLiteQueue({str(self.path)!r}, max_jobs={self.max_jobs})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def _open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-jobs")
        await self._call(self._connect)

    async def _close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._disconnect)
        finally:
            executor.shutdown(wait=True)

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock").open("ab")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise QueueInUse(str(self.path)) from None
        self._lock_file = lock
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.executescript(_SCHEMA)
            with _transaction(conn):
                # Left running by the process that held the file before: it is gone.
                conn.execute("UPDATE jobs SET lease_until = 0 WHERE state = 'running'")
                conn.execute("DELETE FROM jobs WHERE finished_at < ?", (time.time() - RETENTION_S,))
        except BaseException:
            conn.close()
            self._disconnect()
            raise
        self._conn = conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        lock, self._lock_file = self._lock_file, None
        if lock is not None:
            lock.close()  # releases the flock

    async def _call(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise QueueNotStarted(repr(self))
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        except sqlite3.Error as exc:
            raise QueueError(f"{self!r}: {type(exc).__name__}: {exc}") from exc

    async def _in_transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            conn = self._conn
            if conn is None:
                raise QueueNotStarted(repr(self))
            with _transaction(conn):
                return fn(conn)

        self._check_started()
        return await self._call(run)

    # -- producers ---------------------------------------------------------------------------

    async def submit(self, job: Job) -> Job:
        job = job.with_(state=JobState.QUEUED, attempts=0, progress=0.0)
        record = json.dumps(job.to_dict())

        def add(conn: sqlite3.Connection) -> None:
            if _count(conn, _UNFINISHED) >= self.max_jobs:
                raise QueueFull(self.max_jobs, RETRY_AFTER_S)
            conn.execute(
                f"INSERT OR REPLACE INTO jobs (id, seq, job, state) VALUES (?, {_NEXT_SEQ}, ?, ?)",
                (job.id, record, str(JobState.QUEUED)),
            )

        await self._in_transaction(add)
        self._notify()
        return job

    async def get(self, job_id: str) -> Job:
        return await self._in_transaction(lambda conn: _get(conn, job_id))

    async def size(self) -> int:
        return await self._in_transaction(lambda conn: _count(conn, _UNFINISHED))

    async def counts(self) -> dict[JobState, int]:
        def count(conn: sqlite3.Connection) -> dict[JobState, int]:
            rows = conn.execute(
                f"SELECT state, COUNT(*) FROM jobs WHERE {_UNFINISHED} GROUP BY state"
            )
            found = {JobState(state): n for state, n in rows}
            return {s: found.get(s, 0) for s in (JobState.QUEUED, JobState.RUNNING)}

        return await self._in_transaction(count)

    async def unfinished(self, doc_id: str) -> list[Job]:
        def select(conn: sqlite3.Connection) -> list[Job]:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {_UNFINISHED} ORDER BY seq")
            jobs = [_job_of(row) for row in rows]
            return sorted((j for j in jobs if j.doc_id == doc_id), key=lambda j: j.created_at)

        return await self._in_transaction(select)

    async def cancel(self, job_id: str) -> Job:
        def cancel(conn: sqlite3.Connection) -> Job:
            job = _get(conn, job_id)
            if job.state is JobState.QUEUED:
                return _end(conn, job, JobState.CANCELLED, error="cancelled before it ran")
            if job.state is JobState.RUNNING:
                conn.execute("UPDATE jobs SET cancel = 1 WHERE id = ?", (job_id,))
                return job.with_(cancel_requested=True)
            return job

        return await self._in_transaction(cancel)

    async def finish(
        self,
        job_id: str,
        attempt: int,
        state: JobState,
        *,
        result: dict[str, object] | None = None,
        error: str | None = None,
    ) -> Job:
        check_final(state)

        def finish(conn: sqlite3.Connection) -> Job:
            job = _get(conn, job_id)
            if job.attempts == attempt and job.state is state:
                return job
            if job.attempts != attempt or job.state is not JobState.RUNNING:
                raise StaleAttempt(job, attempt)
            return _end(conn, job, state, result=result, error=error)

        return await self._in_transaction(finish)

    # -- consumers ---------------------------------------------------------------------------

    async def claim(self, worker: str, *, timeout: float) -> Job | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._wakeup
            job, next_lease = await self._in_transaction(lambda conn: self._take(conn, worker))
            if job is not None:
                return job
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            if next_lease is not None:  # wake up when the first lease runs out
                remaining = min(remaining, max(next_lease - self._clock(), 0.001))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await event.wait()

    async def heartbeat(self, job_id: str, attempt: int, progress: float) -> Lease:
        def beat(conn: sqlite3.Connection) -> Lease:
            renewed = conn.execute(
                "UPDATE jobs SET progress = ?, lease_until = ? "
                "WHERE id = ? AND state = 'running' AND attempts = ? RETURNING cancel",
                (max(0.0, min(100.0, progress)), self._clock() + self.lease, job_id, attempt),
            ).fetchone()
            return Lease(held=True, cancel=bool(renewed[0])) if renewed else Lease(False, False)

        return await self._in_transaction(beat)

    async def release(self, job_id: str, attempt: int, error: str) -> Job:
        def release(conn: sqlite3.Connection) -> Job:
            job = _get(conn, job_id)
            if job.state is not JobState.RUNNING or job.attempts != attempt:
                raise StaleAttempt(job, attempt)
            if job.attempts >= self.max_attempts:
                return _end(conn, job, JobState.FAILED, error=_gave_up(job, error))
            conn.execute(
                f"UPDATE jobs SET state = 'queued', seq = {_NEXT_SEQ}, error = ?, progress = 0, "
                "lease_until = NULL, worker = NULL WHERE id = ?",
                (error, job_id),
            )
            return job.with_(state=JobState.QUEUED, error=error, progress=0.0)

        job = await self._in_transaction(release)
        self._notify()
        return job

    # -- internals (on the queue's thread) ---------------------------------------------------

    def _take(self, conn: sqlite3.Connection, worker: str) -> tuple[Job | None, float | None]:
        """The next job for ``worker`` (a lost one first), or None and when the first
        running lease runs out."""
        now = self._clock()
        lost = conn.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE state = 'running' AND lease_until <= ? "
            "ORDER BY lease_until LIMIT 1",
            (now,),
        ).fetchone()
        if lost is not None:
            job = _job_of(lost)
            if job.cancel_requested:
                return _end(conn, job, JobState.CANCELLED, error="cancelled"), None
            if job.attempts >= self.max_attempts:
                failed = _end(conn, job, JobState.FAILED, error=_gave_up(job, "lease expired"))
                return failed, None
            return self._start(conn, job, worker, now), None
        waiting = conn.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1"
        ).fetchone()
        if waiting is not None:
            return self._start(conn, _job_of(waiting), worker, now), None
        (first,) = conn.execute(
            "SELECT MIN(lease_until) FROM jobs WHERE state = 'running'"
        ).fetchone()
        return None, first

    def _start(self, conn: sqlite3.Connection, job: Job, worker: str, now: float) -> Job:
        started = job.with_(
            state=JobState.RUNNING, attempts=job.attempts + 1, progress=0.0, started_at=time.time()
        )
        conn.execute(
            "UPDATE jobs SET state = 'running', attempts = ?, progress = 0, worker = ?, "
            "started_at = ?, lease_until = ? WHERE id = ?",
            (started.attempts, worker, started.started_at, now + self.lease, job.id),
        )
        return started

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _count(conn: sqlite3.Connection, where: str) -> int:
    (count,) = conn.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}").fetchone()
    return int(count)


def _get(conn: sqlite3.Connection, job_id: str) -> Job:
    row = conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise JobNotFound(job_id)
    return _job_of(row)


def _end(
    conn: sqlite3.Connection,
    job: Job,
    state: JobState,
    *,
    result: dict[str, object] | None = None,
    error: str | None = None,
) -> Job:
    ended = job.with_(
        state=state,
        result=result,
        error=error,
        finished_at=time.time(),
        progress=100.0 if state is JobState.DONE else job.progress,
    )
    conn.execute(
        "UPDATE jobs SET state = ?, result = ?, error = ?, finished_at = ?, progress = ?, "
        "lease_until = NULL WHERE id = ?",
        (
            str(state),
            json.dumps(result) if result is not None else None,
            error,
            ended.finished_at,
            ended.progress,
            job.id,
        ),
    )
    return ended


def _job_of(row: tuple[Any, ...]) -> Job:
    record, state, progress, attempts, cancel, started, finished, error, result = row
    data = json.loads(record)
    data.update(
        state=state,
        progress=float(progress),
        attempts=int(attempts),
        cancel_requested=bool(cancel),
        started_at=started,
        finished_at=finished,
        error=error,
        result=json.loads(result) if result is not None else None,
    )
    return Job.from_dict(data)


def _gave_up(job: Job, reason: str) -> str:
    return f"gave up after {job.attempts} attempt(s); the last one ended with: {reason}"
