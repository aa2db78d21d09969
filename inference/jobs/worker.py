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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from inference.config import AIConfig
from inference.context import InferenceContext
from inference.exceptions import Cancelled
from inference.jobs.executors import Executor, ExecutorDied, ThreadExecutor
from inference.jobs.links import LinkError, ServerLink
from inference.jobs.model import Job, JobKind, JobState, Report
from inference.jobs.queue import JobQueue, StaleAttempt
from inference.jobs.runner import Control, Output

log = logging.getLogger(__name__)

PROGRESS_STEP = 5.0  # percent between progress reports to the server
_ERROR_PAUSE = 1.0  # seconds to wait after an unexpected error of the loop itself


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
    ) -> None:
        self.queue = queue
        self.link = link
        self.executor = executor
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.heartbeat = heartbeat if heartbeat is not None else min(1.0, queue.lease / 5)
        self.claim_timeout = claim_timeout
        self.timeouts = dict(timeouts or {})  # kinds without one run as long as they take
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
        while True:
            try:
                job = await self.queue.claim(self.id, timeout=self.claim_timeout)
                if job is not None:
                    await self.process(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker loop error", extra={"worker": self.id})
                await asyncio.sleep(_ERROR_PAUSE)

    async def process(self, job: Job) -> None:
        """Run one claimed job to its end (or hand it back)."""
        if job.state.final:  # the queue gave up on it (attempts spent) or it was cancelled
            await self.link.report(Report(job.id, job.attempts, job.state, error=job.error))
            return
        log.info("job started", extra={"job": job.id, "kind": str(job.kind), "try": job.attempts})
        self.current = job
        control = Control()
        try:
            if not await self.link.report(Report(job.id, job.attempts, JobState.RUNNING)):
                return
            beat = asyncio.create_task(self._beat(job, control))
            try:
                report = await self._run(job, control)
            finally:
                beat.cancel()
                await asyncio.gather(beat, return_exceptions=True)
            if report is not None and not control.lost:
                await self.link.report(report)
                log.info("job ended", extra={"job": job.id, "state": str(report.state)})
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
            inputs = await self.link.fetch_blobs(job.blobs)
            output = await self._execute(job, inputs, control)
            if control.cancelled:  # asked while the last step ran: the result is dropped
                raise Cancelled("the job was cancelled")
            blob = await self.link.put_png(output.png)
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
    ``timeouts``: each kind's time limit (none: jobs run as long as they take)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ctx = await asyncio.to_thread(InferenceContext(config).start)
    try:
        worker = Worker(queue, link, ThreadExecutor(ctx), worker_id=worker_id, timeouts=timeouts)
        async with queue, worker:
            await stop.wait()
    finally:
        ctx.stop()
