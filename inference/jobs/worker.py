"""The worker loop: claim a job, run it, report it; one job at a time.

The loop is the same everywhere; what differs is plugged in: the queue (in-process or
Redis Streams), the link to the server (in-process or HTTP) and the executor (a child
process for the embedded server, a thread for ``nexus-canvas worker``). While a job runs, a
heartbeat renews its lease every ``heartbeat`` seconds, passes a cancel request on to the
pipeline (it stops at its next step) and reports progress to the server in steps of
``PROGRESS_STEP`` percent. The worker never changes a job's final state itself: the server
does, when it receives the final report, after applying the result.

A job may run for as long as its kind's :class:`TimeLimit` says, counted from the moment
its executor starts the pipeline (a fresh child process's start-up is not counted: it has
its own bound; an executor that does not say when it starts is timed from the hand-off).
Past it,
the job is cancelled there (a child process is killed: the next job starts a fresh one; a
thread's pipeline stops at its next step) and reported failed with an error that names the
limit and the setting that sets it. A timed-out job is not tried again: it would time out
again.

Routine outages do not spend attempts: when the server cannot be reached
(:class:`~inference.jobs.links.ServerUnreachable`: refused, reset, 502/503/504, its store
cut) the worker keeps the job (its heartbeat keeps the lease) and tries the same call again
with exponential backoff and jitter, for up to ``outage_budget`` seconds per call; only then
is the job handed back, which counts as an attempt, so a job that can never run still ends.
A queue that cannot be reached (:class:`~inference.jobs.queue.QueueUnavailable`) pauses the
loop with the same backoff, with a warning rather than a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from inference.config import AIConfig
from inference.context import InferenceContext
from inference.exceptions import Cancelled
from inference.jobs.executors import Executor, ExecutorDied, ThreadExecutor
from inference.jobs.links import LinkError, ServerLink, ServerUnreachable
from inference.jobs.model import Job, JobKind, JobState, Report
from inference.jobs.queue import JobQueue, QueueUnavailable, StaleAttempt
from inference.jobs.runner import Control, Output

log = logging.getLogger(__name__)

PROGRESS_STEP = 5.0  # percent between progress reports to the server
_ERROR_PAUSE = 1.0  # seconds to wait after an unexpected error of the loop itself
OUTAGE_BUDGET_S = 300.0  # how long one server call is retried through an outage
OUTAGE_BACKOFF_S = 0.5  # the first wait; doubled after each failure ...
MAX_BACKOFF_S = 30.0  # ... up to this

T = TypeVar("T")


def backoff(delay: float) -> float:
    """``delay`` with "equal jitter": between half of it and all of it, so that workers cut
    off together do not all come back in the same instant."""
    return delay * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class TimeLimit:
    """How long one kind of job may run, and what sets it (named in the error)."""

    seconds: float
    setting: str

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ValueError(f"a job's time limit must be > 0 seconds, got {self.seconds}")


class JobTimedOut(Exception):
    """The job ran past its kind's time limit (the message names it)."""

    def __init__(self, job: Job, limit: TimeLimit) -> None:
        super().__init__(
            f"{job.kind} job exceeded its {limit.seconds:g} s timeout ({limit.setting})"
        )
        self.limit = limit


class Worker:
    """Claims jobs from ``queue`` and runs them with ``executor``, reporting to ``link``.

    A component: ``start`` launches the loop (and the executor), ``stop`` ends it; a job
    running at ``stop`` is cancelled and released for another worker.
    """

    def __init__(
        self,
        queue: JobQueue,
        link: ServerLink,
        executor: Executor,
        *,
        worker_id: str | None = None,
        heartbeat: float | None = None,
        claim_timeout: float = 1.0,
        timeouts: Mapping[JobKind, TimeLimit] | None = None,
        outage_budget: float = OUTAGE_BUDGET_S,
        outage_backoff: float = OUTAGE_BACKOFF_S,
    ) -> None:
        if outage_budget < 0 or not outage_backoff > 0:
            raise ValueError(
                f"outage_budget must be >= 0 and outage_backoff > 0 seconds, got "
                f"{outage_budget} and {outage_backoff}"
            )
        self.queue = queue
        self.link = link
        self.executor = executor
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.heartbeat = heartbeat if heartbeat is not None else min(1.0, queue.lease / 5)
        self.claim_timeout = claim_timeout
        self.timeouts = dict(timeouts or {})  # kinds without one run as long as they take
        self.outage_budget = outage_budget
        self.outage_backoff = outage_backoff
        self.current: Job | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Worker({self.id!r})"

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError(f"{self!r} already started")
        await self.executor.start()
        self._task = asyncio.create_task(self._loop(), name=f"worker:{self.id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.executor.stop()

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _loop(self) -> None:
        log.info("worker started", extra={"worker": self.id, "queue": self.queue.kind})
        delay = self.outage_backoff
        while True:
            try:
                job = await self.queue.claim(self.id, timeout=self.claim_timeout)
                delay = self.outage_backoff
                if job is not None:
                    await self.process(job)
            except asyncio.CancelledError:
                raise
            except QueueUnavailable as exc:  # an outage: say so, wait, try again
                wait = backoff(delay)
                log.warning(
                    "job queue unreachable; waiting",
                    extra={"worker": self.id, "error": str(exc), "in_s": round(wait, 2)},
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, MAX_BACKOFF_S)
            except Exception:
                log.exception("worker loop error", extra={"worker": self.id})
                await asyncio.sleep(_ERROR_PAUSE)

    async def process(self, job: Job) -> None:
        """Run one claimed job to its end (or hand it back)."""
        if job.state.final:  # the queue gave up on it (attempts spent) or it was cancelled
            ended = Report(job.id, job.attempts, job.state, error=job.error)
            try:
                await self._through_outage(job, Control(), lambda: self.link.report(ended))
            except LinkError as exc:  # the server records it when it next sees the job
                log.warning(
                    "could not report a job's end", extra={"job": job.id, "error": str(exc)}
                )
            return
        log.info("job started", extra={"job": job.id, "kind": str(job.kind), "try": job.attempts})
        self.current = job
        control = Control()
        try:
            beat = asyncio.create_task(self._beat(job, control))
            try:
                started = Report(job.id, job.attempts, JobState.RUNNING)
                if not await self._through_outage(job, control, lambda: self.link.report(started)):
                    return
                report = await self._run(job, control)
                if report is not None and not control.lost:
                    final = report
                    await self._through_outage(job, control, lambda: self.link.report(final))
                    log.info("job ended", extra={"job": job.id, "state": str(report.state)})
            finally:
                beat.cancel()
                await asyncio.gather(beat, return_exceptions=True)
        except LinkError as exc:
            released = await self._release(job, f"the server could not be reached: {exc}")
            if released is not None and released.state is JobState.FAILED:
                with contextlib.suppress(LinkError):  # tell the server if it is back
                    await self.link.report(
                        Report(job.id, job.attempts, JobState.FAILED, error=released.error)
                    )
        except asyncio.CancelledError:
            control.cancel()
            await self._release(job, "the worker stopped")
            raise
        finally:
            self.current = None

    async def _run(self, job: Job, control: Control) -> Report | None:
        """The job's final report, or None when it was handed back (released)."""
        try:
            inputs = await self._through_outage(
                job, control, lambda: self.link.fetch_blobs(job.blobs)
            )
            output = await self._execute(job, inputs, control)
            if control.cancelled:  # asked while the last step ran: the result is dropped
                raise Cancelled("the job was cancelled")
            blob = await self._through_outage(job, control, lambda: self.link.put_png(output.png))
        except Cancelled:
            return Report(
                job.id, job.attempts, JobState.CANCELLED, control.progress, error="cancelled"
            )
        except JobTimedOut as exc:
            log.warning("job timed out", extra={"job": job.id, "error": str(exc)})
            return Report(job.id, job.attempts, JobState.FAILED, control.progress, error=str(exc))
        except ExecutorDied as exc:
            released = await self._release(job, str(exc))
            if released is not None and released.state is JobState.FAILED:
                return Report(job.id, job.attempts, JobState.FAILED, error=released.error)
            return None
        except LinkError:
            raise
        except Exception as exc:  # the job's own failure: bad input, a model error
            log.warning("job failed", extra={"job": job.id, "error": repr(exc)})
            return Report(
                job.id, job.attempts, JobState.FAILED, control.progress, error=_describe(exc)
            )
        result = {
            **output.metadata,
            "blob": blob,
            "width": output.width,
            "height": output.height,
            "output_bytes": len(output.png),
        }
        return Report(job.id, job.attempts, JobState.DONE, 100.0, result=result)

    async def _through_outage(
        self, job: Job, control: Control, call: Callable[[], Awaitable[T]]
    ) -> T:
        """``call()``, tried again with backoff and jitter while the server is unreachable,
        for up to ``outage_budget`` seconds; then (or once the lease is lost) its
        ServerUnreachable is raised."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.outage_budget
        delay = self.outage_backoff
        while True:
            try:
                return await call()
            except ServerUnreachable as exc:
                left = deadline - loop.time()
                if control.lost or left <= 0:
                    raise
                wait = min(backoff(delay), left)
                log.warning(
                    "server unreachable; keeping the job and trying again",
                    extra={"job": job.id, "error": str(exc), "in_s": round(wait, 2)},
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, MAX_BACKOFF_S)

    async def _execute(self, job: Job, inputs: dict[str, bytes], control: Control) -> Output:
        limit = self.timeouts.get(job.kind)
        if limit is None:
            return await self.executor.execute(job, inputs, control)
        loop = asyncio.get_running_loop()
        timer = asyncio.timeout_at(loop.time() + limit.seconds)
        control.on_clock(lambda run: timer.reschedule(loop.time() + limit.seconds if run else None))
        try:
            async with timer:
                return await self.executor.execute(job, inputs, control)
        except TimeoutError:
            if not timer.expired():  # the job's own TimeoutError
                raise
            control.cancel()  # a thread's pipeline stops at its next step
            raise JobTimedOut(job, limit) from None

    async def _beat(self, job: Job, control: Control) -> None:
        reported = 0.0
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                lease = await self.queue.heartbeat(job.id, job.attempts, control.progress)
            except Exception as exc:  # the queue is unreachable: keep trying, the lease runs
                log.warning("heartbeat failed", extra={"job": job.id, "error": repr(exc)})
                continue
            if not lease.held:
                log.warning("job lease lost; dropping it", extra={"job": job.id})
                control.cancel(lost=True)
                return
            if lease.cancel:
                control.cancel()
            if control.progress - reported >= PROGRESS_STEP and not control.cancelled:
                reported = control.progress
                try:
                    still = await self.link.report(
                        Report(job.id, job.attempts, JobState.RUNNING, reported)
                    )
                except LinkError:
                    continue
                if not still:
                    control.cancel(lost=True)
                    return

    async def _release(self, job: Job, reason: str) -> Job | None:
        try:
            released = await self.queue.release(job.id, job.attempts, reason)
        except StaleAttempt:
            return None
        except QueueUnavailable as exc:
            extra = {"job": job.id, "error": str(exc)}
            log.warning("could not release a job; its lease will run out", extra=extra)
            return None
        except Exception:
            log.exception("could not release a job; its lease will run out", extra={"job": job.id})
            return None
        log.warning(
            "job handed back", extra={"job": job.id, "state": str(released.state), "why": reason}
        )
        return released


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if type(exc).__name__ in ("InvalidInput", "JobFailed", "BlobMissing"):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class WorkerMisconfigured(Exception):
    """The worker cannot run as configured (a bad queue URL, a refused password): waiting
    would not help. The message is one line, for the operator."""


async def open_queue(queue: JobQueue, stop: asyncio.Event, *, first_wait: float = 0.5) -> bool:
    """Start ``queue``, waiting with backoff and jitter (a warning per try) while its backend
    is unreachable; False if ``stop`` was set first. Raises :class:`WorkerMisconfigured`
    when it fails for another reason."""
    delay = first_wait
    while not stop.is_set():
        try:
            await queue.start()
            return True
        except QueueUnavailable as exc:
            wait = backoff(delay)
            log.warning(
                "job queue unreachable at start; retrying",
                extra={"error": str(exc), "in_s": round(wait, 2)},
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            delay = min(delay * 2, MAX_BACKOFF_S)
        except Exception as exc:
            raise WorkerMisconfigured(
                f"cannot open the job queue {queue!r}: {type(exc).__name__}: {exc} "
                "(check REDIS_URL)"
            ) from exc
    return False


async def run_standalone(
    queue: JobQueue,
    link: ServerLink,
    config: AIConfig,
    *,
    worker_id: str | None = None,
    timeouts: Mapping[JobKind, TimeLimit] | None = None,
) -> None:
    """``nexus-canvas worker``: load the inference context once, then run jobs from
    ``queue`` in a thread until SIGINT or SIGTERM (a job running then is handed back).
    ``timeouts``: each kind's time limit (none: jobs run as long as they take). An
    unreachable queue is waited for (see :func:`open_queue`); a misconfigured one ends the
    worker with a one-line message (``SystemExit``)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ctx = await asyncio.to_thread(InferenceContext(config).start)
    try:
        try:
            opened = await open_queue(queue, stop)
        except WorkerMisconfigured as exc:
            raise SystemExit(f"nexus-canvas worker: {exc}") from None
        if not opened:
            return
        try:
            worker = Worker(
                queue, link, ThreadExecutor(ctx), worker_id=worker_id, timeouts=timeouts
            )
            async with worker:
                log.info("worker ready", extra={"worker": worker.id, "queue": repr(queue)})
                await stop.wait()
        finally:
            await queue.stop()
    finally:
        ctx.stop()
