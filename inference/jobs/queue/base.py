"""The job queue interface, shared by the in-process queue and the Redis Streams one.

Producers (server instances) ``submit``, ``get``, ``cancel`` and ``finish``; consumers
(workers) ``claim``, ``heartbeat`` and ``release``. Delivery is at least once: a claimed job
carries a lease that the worker renews with ``heartbeat``; a job whose lease ran out (its
worker died or hung) is claimed again by the next ``claim``, as a new attempt, until
``max_attempts`` starts are spent, then it fails. Every call that changes a running job
names the attempt it belongs to, so a worker that lost its lease can change nothing.

The queue is bounded: ``submit`` raises :class:`QueueFull` when ``max_jobs`` jobs are
queued or running.

Exception tree::

    QueueError
     ├── QueueFull
     ├── QueueUnavailable     (the queue's backend cannot be reached: retry later)
     ├── JobNotFound
     ├── StaleAttempt
     ├── QueueInUse           (a durable queue's file is held by another process)
     ├── QueueAlreadyStarted  (also a RuntimeError)
     └── QueueNotStarted      (also a RuntimeError)
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from foundation.lifecycle import Lifecycle
from inference.jobs.model import Job, JobState


class QueueError(Exception):
    """Base class of the job queue's errors."""


class QueueFull(QueueError):
    """The queue holds ``limit`` unfinished jobs; ``retry_after`` seconds is a fair wait."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            f"the AI job queue is full ({limit} jobs queued or running); retry in {retry_after} s"
        )
        self.limit = limit
        self.retry_after = retry_after


class QueueUnavailable(QueueError):
    """The queue's backend (``where``: e.g. the Redis URL without its password) cannot be
    reached or timed out; nothing was changed for certain, and ``retry_after`` seconds is a
    fair wait. The API answers 503, a worker waits and tries again."""

    def __init__(self, where: str, cause: str, retry_after: int = 5) -> None:
        super().__init__(
            f"the AI job queue ({where}) is unreachable: {cause}; retry in {retry_after} s"
        )
        self.where = where
        self.cause = cause
        self.retry_after = retry_after


class JobNotFound(QueueError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} not found")
        self.job_id = job_id


class StaleAttempt(QueueError):
    """The job is no longer at this attempt (its lease was lost and it was claimed again,
    or it finished meanwhile)."""

    def __init__(self, job: Job, attempt: int) -> None:
        super().__init__(
            f"job {job.id!r} is {job.state} at attempt {job.attempts}, not running attempt "
            f"{attempt}"
        )
        self.job = job
        self.attempt = attempt


class QueueInUse(QueueError):
    """Another process holds the queue's file (one embedded server per data directory)."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"the job queue {path} is in use by another process: run one server per data directory"
        )
        self.path = path


class QueueAlreadyStarted(QueueError, RuntimeError):
    def __init__(self, queue: str) -> None:
        super().__init__(f"{queue} is already started")


class QueueNotStarted(QueueError, RuntimeError):
    def __init__(self, queue: str) -> None:
        super().__init__(f"{queue} is not started; use 'async with' or await start() first")


@dataclass(frozen=True)
class Lease:
    """A heartbeat's answer: whether the worker still holds the job, and whether someone
    asked to cancel it."""

    held: bool
    cancel: bool


RETRY_AFTER_S = 5  # the wait suggested to a caller refused by a full queue
RETENTION_S = 7 * 86400  # finished jobs stay readable this long (the ai_tasks row stays)


class JobQueue(Lifecycle):
    """Where jobs wait for workers. An async context manager; ``start`` twice raises
    :class:`QueueAlreadyStarted`, using a queue that is not started :class:`QueueNotStarted`.
    Subclasses implement ``_open`` (connect) and ``_close`` (disconnect)."""

    kind: str
    already_started = QueueAlreadyStarted
    not_started = QueueNotStarted

    def __init__(self, *, max_jobs: int = 64, max_attempts: int = 3, lease: float = 30.0):
        if max_jobs < 1:
            raise ValueError(f"max_jobs must be >= 1, got {max_jobs}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if not lease > 0:
            raise ValueError(f"lease must be > 0 seconds, got {lease}")
        super().__init__()
        self.max_jobs = max_jobs
        self.max_attempts = max_attempts
        self.lease = lease

    # -- producers ---------------------------------------------------------------------------

    @abstractmethod
    async def submit(self, job: Job) -> Job:
        """Queue ``job`` (state queued); raises QueueFull."""

    @abstractmethod
    async def get(self, job_id: str) -> Job:
        """Raises JobNotFound (also for finished jobs past ``RETENTION_S``)."""

    @abstractmethod
    async def size(self) -> int:
        """Jobs queued or running (what ``max_jobs`` bounds)."""

    @abstractmethod
    async def counts(self) -> dict[JobState, int]:
        """How many jobs are queued and how many running (keys ``QUEUED`` and ``RUNNING``)."""

    @abstractmethod
    async def unfinished(self, doc_id: str) -> list[Job]:
        """The document's queued and running jobs, oldest first."""

    @abstractmethod
    async def cancel(self, job_id: str) -> Job:
        """A queued job is cancelled at once (never runs); a running one is flagged (its
        worker sees it at the next heartbeat and stops at the next step); a finished one is
        returned unchanged. Raises JobNotFound."""

    @abstractmethod
    async def finish(
        self,
        job_id: str,
        attempt: int,
        state: JobState,
        *,
        result: dict[str, object] | None = None,
        error: str | None = None,
    ) -> Job:
        """End running attempt ``attempt`` as done, failed or cancelled. Finishing a job
        that already ended in ``state`` at that attempt returns it unchanged (a repeated
        report); anything else raises StaleAttempt."""

    # -- consumers ---------------------------------------------------------------------------

    @abstractmethod
    async def claim(self, worker: str, *, timeout: float) -> Job | None:
        """The next job for ``worker`` (now running, attempt + 1), waiting up to ``timeout``
        seconds; None if none came. A job whose lease ran out is claimed again before new
        ones; one that has used up ``max_attempts`` is failed instead and returned failed
        (so that the worker reports it)."""

    @abstractmethod
    async def heartbeat(self, job_id: str, attempt: int, progress: float) -> Lease:
        """Renew the lease of running attempt ``attempt`` and record its progress (0-100)."""

    @abstractmethod
    async def release(self, job_id: str, attempt: int, error: str) -> Job:
        """Give a running attempt back (its worker process died, the server was
        unreachable): queued again, or failed with ``error`` when no attempt is left.
        Raises StaleAttempt."""


def check_final(state: JobState) -> None:
    if not state.final:
        raise ValueError(f"a job finishes as done, failed or cancelled, not {state}")
