"""The in-process job queue (embedded mode): one server, its worker loop on the same event
loop. Same semantics as the Redis queue, kept in dicts; leases run on ``clock`` (the
monotonic clock unless a test passes one it moves by hand)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from inference.jobs.model import Job, JobState
from inference.jobs.queue.base import (
    RETRY_AFTER_S,
    JobNotFound,
    JobQueue,
    Lease,
    QueueFull,
    StaleAttempt,
    check_final,
)

_KEEP_FINISHED = 10_000  # finished jobs kept readable (oldest dropped first)


class MemoryQueue(JobQueue):
    """:class:`JobQueue` in this process. ``clock`` (seconds, monotonic) times the leases."""

    kind = "memory"

    def __init__(
        self,
        *,
        max_jobs: int = 64,
        max_attempts: int = 3,
        lease: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(max_jobs=max_jobs, max_attempts=max_attempts, lease=lease)
        self._clock = clock
        self._jobs: dict[str, Job] = {}
        self._waiting: deque[str] = deque()
        self._leases: dict[str, float] = {}  # running job id -> deadline on the clock
        self._finished: deque[str] = deque()
        self._wakeup = asyncio.Event()

    def __repr__(self) -> str:
        return f"MemoryQueue(max_jobs={self.max_jobs})"

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass

    # -- producers ---------------------------------------------------------------------------

    async def submit(self, job: Job) -> Job:
        if await self.size() >= self.max_jobs:
            raise QueueFull(self.max_jobs, RETRY_AFTER_S)
        job = job.with_(state=JobState.QUEUED, attempts=0, progress=0.0)
        self._jobs[job.id] = job
        self._waiting.append(job.id)
        self._notify()
        return job

    async def get(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise JobNotFound(job_id) from None

    async def size(self) -> int:
        return sum(1 for job in self._jobs.values() if not job.state.final)

    async def counts(self) -> dict[JobState, int]:
        states = [job.state for job in self._jobs.values()]
        return {state: states.count(state) for state in (JobState.QUEUED, JobState.RUNNING)}

    async def unfinished(self, doc_id: str) -> list[Job]:
        found = [j for j in self._jobs.values() if j.doc_id == doc_id and not j.state.final]
        return sorted(found, key=lambda job: job.created_at)

    async def cancel(self, job_id: str) -> Job:
        job = await self.get(job_id)
        if job.state is JobState.QUEUED:
            return self._end(job, JobState.CANCELLED, error="cancelled before it ran")
        if job.state is JobState.RUNNING:
            job = self._jobs[job_id] = job.with_(cancel_requested=True)
        return job

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
        job = await self.get(job_id)
        if job.attempts == attempt and job.state is state:
            return job
        if job.attempts != attempt or job.state is not JobState.RUNNING:
            raise StaleAttempt(job, attempt)
        return self._end(job, state, result=result, error=error)

    # -- consumers ---------------------------------------------------------------------------

    async def claim(self, worker: str, *, timeout: float) -> Job | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            job = self._take()
            if job is not None:
                return job
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            if self._leases:  # wake up when the first lease runs out, to reclaim its job
                first = min(self._leases.values()) - self._clock()
                remaining = min(remaining, max(first, 0.001))
            event = self._wakeup
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                pass

    async def heartbeat(self, job_id: str, attempt: int, progress: float) -> Lease:
        job = self._jobs.get(job_id)
        if job is None or job.state is not JobState.RUNNING or job.attempts != attempt:
            return Lease(held=False, cancel=False)
        self._jobs[job_id] = job.with_(progress=max(0.0, min(100.0, progress)))
        self._leases[job_id] = self._clock() + self.lease
        return Lease(held=True, cancel=job.cancel_requested)

    async def release(self, job_id: str, attempt: int, error: str) -> Job:
        job = await self.get(job_id)
        if job.state is not JobState.RUNNING or job.attempts != attempt:
            raise StaleAttempt(job, attempt)
        self._leases.pop(job_id, None)
        if job.attempts >= self.max_attempts:
            return self._end(job, JobState.FAILED, error=_gave_up(job, error))
        job = self._jobs[job_id] = job.with_(state=JobState.QUEUED, error=error)
        self._waiting.append(job_id)
        self._notify()
        return job

    # -- internals ---------------------------------------------------------------------------

    def _take(self) -> Job | None:
        now = self._clock()
        for job_id, until in list(self._leases.items()):
            if until <= now:  # the worker stopped renewing: presumed dead
                job = self._jobs[job_id]
                del self._leases[job_id]
                if job.cancel_requested:
                    return self._end(job, JobState.CANCELLED, error="cancelled")
                if job.attempts >= self.max_attempts:
                    return self._end(job, JobState.FAILED, error=_gave_up(job, "lease expired"))
                return self._start(job)
        while self._waiting:
            waiting = self._jobs.get(self._waiting.popleft())
            if waiting is not None and waiting.state is JobState.QUEUED:
                return self._start(waiting)
        return None

    def _start(self, job: Job) -> Job:
        job = self._jobs[job.id] = job.with_(
            state=JobState.RUNNING,
            attempts=job.attempts + 1,
            progress=0.0,
            started_at=time.time(),
        )
        self._leases[job.id] = self._clock() + self.lease
        return job

    def _end(
        self,
        job: Job,
        state: JobState,
        *,
        result: dict[str, object] | None = None,
        error: str | None = None,
    ) -> Job:
        self._leases.pop(job.id, None)
        job = self._jobs[job.id] = job.with_(
            state=state,
            result=result,
            error=error,
            finished_at=time.time(),
            progress=100.0 if state is JobState.DONE else job.progress,
        )
        self._finished.append(job.id)
        while len(self._finished) > _KEEP_FINISHED:
            self._jobs.pop(self._finished.popleft(), None)
        return job

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()


def _gave_up(job: Job, reason: str) -> str:
    return f"gave up after {job.attempts} attempt(s); the last one ended with: {reason}"
