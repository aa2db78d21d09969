"""One contract suite for every job queue: in-process and Redis Streams (real Redis)."""

from __future__ import annotations

import asyncio

import pytest

from inference.jobs.model import JobState
from inference.jobs.queue import JobNotFound, MemoryQueue, QueueFull, StaleAttempt
from tests.inference.jobs.conftest import QueueFactory, make_job


async def test_a_job_goes_queued_running_done(make_queue: QueueFactory) -> None:
    async with make_queue() as queue:
        job = make_job()
        assert (await queue.submit(job)).state is JobState.QUEUED
        stored = await queue.get(job.id)
        assert stored == job.with_(state=JobState.QUEUED)  # every field survives the queue
        assert await queue.size() == 1

        running = await queue.claim("w1", timeout=1)
        assert running is not None and running.id == job.id
        assert (running.state, running.attempts) == (JobState.RUNNING, 1)
        assert running.started_at is not None

        lease = await queue.heartbeat(job.id, 1, 42.5)
        assert (lease.held, lease.cancel) == (True, False)
        assert (await queue.get(job.id)).progress == 42.5

        result = {"blob": "c" * 64, "model": "opencv-telea", "fallback": True}
        done = await queue.finish(job.id, 1, JobState.DONE, result=result)
        assert (done.state, done.result, done.progress) == (JobState.DONE, result, 100.0)
        assert done.finished_at is not None and await queue.size() == 0
        # A repeated report of the same end changes nothing; another end is refused.
        assert await queue.finish(job.id, 1, JobState.DONE, result=result) == done
        with pytest.raises(StaleAttempt, match="is done at attempt 1"):
            await queue.finish(job.id, 1, JobState.FAILED, error="late")
        assert not (await queue.heartbeat(job.id, 1, 50)).held
        assert await queue.claim("w1", timeout=0.05) is None


async def test_jobs_are_claimed_in_submission_order(make_queue: QueueFactory) -> None:
    async with make_queue() as queue:
        jobs = [make_job() for _ in range(3)]
        for job in jobs:
            await queue.submit(job)
        claimed = [await queue.claim("w", timeout=1) for _ in jobs]
        assert [j.id for j in claimed if j is not None] == [j.id for j in jobs]


async def test_a_full_queue_refuses_with_a_retry_hint(make_queue: QueueFactory) -> None:
    async with make_queue(max_jobs=2) as queue:
        first, second = make_job(), make_job()
        await queue.submit(first)
        await queue.submit(second)
        with pytest.raises(QueueFull, match="2 jobs queued or running") as caught:
            await queue.submit(make_job())
        assert caught.value.retry_after > 0
        claimed = await queue.claim("w", timeout=1)
        assert claimed is not None
        with pytest.raises(QueueFull):  # running jobs count too
            await queue.submit(make_job())
        await queue.finish(claimed.id, 1, JobState.DONE, result={})
        await queue.submit(make_job())
        assert await queue.size() == 2


async def test_cancelling_a_queued_job_drops_it(make_queue: QueueFactory) -> None:
    async with make_queue() as queue:
        job = await queue.submit(make_job())
        cancelled = await queue.cancel(job.id)
        assert cancelled.state is JobState.CANCELLED and cancelled.finished_at is not None
        assert await queue.size() == 0
        assert await queue.claim("w", timeout=0.05) is None
        assert (await queue.cancel(job.id)).state is JobState.CANCELLED  # still cancelled
        with pytest.raises(JobNotFound, match="'nope'"):
            await queue.cancel("nope")
        with pytest.raises(JobNotFound):
            await queue.get("nope")


async def test_cancelling_a_running_job_flags_it_for_its_worker(make_queue: QueueFactory) -> None:
    async with make_queue() as queue:
        job = await queue.submit(make_job())
        await queue.claim("w", timeout=1)
        flagged = await queue.cancel(job.id)
        assert flagged.state is JobState.RUNNING and flagged.cancel_requested
        assert (await queue.heartbeat(job.id, 1, 10)).cancel
        ended = await queue.finish(job.id, 1, JobState.CANCELLED, error="cancelled")
        assert ended.state is JobState.CANCELLED


async def test_a_lost_worker_s_job_is_claimed_again(make_queue: QueueFactory) -> None:
    async with make_queue(lease=0.3) as queue:
        job = await queue.submit(make_job())
        first = await queue.claim("w1", timeout=1)
        assert first is not None and first.attempts == 1
        assert await queue.claim("w2", timeout=0.05) is None  # the lease still runs
        await make_queue.pass_time(0.4)
        again = await queue.claim("w2", timeout=1)
        assert again is not None and (again.id, again.attempts) == (job.id, 2)
        # The first worker can no longer touch it.
        assert not (await queue.heartbeat(job.id, 1, 90)).held
        with pytest.raises(StaleAttempt, match="running at attempt 2"):
            await queue.finish(job.id, 1, JobState.DONE, result={})
        with pytest.raises(StaleAttempt):
            await queue.release(job.id, 1, "boom")
        assert (await queue.finish(job.id, 2, JobState.DONE, result={})).state is JobState.DONE


async def test_heartbeats_keep_the_lease(make_queue: QueueFactory) -> None:
    async with make_queue(lease=0.3) as queue:
        job = await queue.submit(make_job())
        await queue.claim("w1", timeout=1)
        for _ in range(4):
            await make_queue.pass_time(0.15)
            assert (await queue.heartbeat(job.id, 1, 5)).held
        assert await queue.claim("w2", timeout=0.05) is None


async def test_attempts_are_bounded(make_queue: QueueFactory) -> None:
    async with make_queue(lease=0.2, max_attempts=2) as queue:
        job = await queue.submit(make_job())
        assert (await queue.claim("w1", timeout=1)) is not None
        await make_queue.pass_time(0.3)
        second = await queue.claim("w2", timeout=1)
        assert second is not None and second.attempts == 2
        await make_queue.pass_time(0.3)
        gave_up = await queue.claim("w3", timeout=1)
        assert gave_up is not None and gave_up.state is JobState.FAILED
        assert gave_up.error is not None and "gave up after 2 attempt(s)" in gave_up.error
        assert await queue.size() == 0
        assert (await queue.get(job.id)).state is JobState.FAILED


async def test_a_cancelled_job_of_a_lost_worker_ends_cancelled(make_queue: QueueFactory) -> None:
    async with make_queue(lease=0.2) as queue:
        job = await queue.submit(make_job())
        await queue.claim("w1", timeout=1)
        await queue.cancel(job.id)
        await make_queue.pass_time(0.3)
        ended = await queue.claim("w2", timeout=1)
        assert ended is not None and ended.state is JobState.CANCELLED


async def test_release_requeues_until_the_attempts_run_out(make_queue: QueueFactory) -> None:
    async with make_queue(max_attempts=2) as queue:
        job = await queue.submit(make_job())
        await queue.claim("w", timeout=1)
        requeued = await queue.release(job.id, 1, "worker process died")
        assert requeued.state is JobState.QUEUED and requeued.error == "worker process died"
        again = await queue.claim("w", timeout=1)
        assert again is not None and again.attempts == 2
        failed = await queue.release(job.id, 2, "worker process died")
        assert failed.state is JobState.FAILED and failed.error is not None
        assert (
            "gave up after 2 attempt(s)" in failed.error and "worker process died" in failed.error
        )
        assert await queue.size() == 0


async def test_claim_waits_for_a_submission(make_queue: QueueFactory) -> None:
    async with make_queue() as queue:
        waiting = asyncio.create_task(queue.claim("w", timeout=5))
        await asyncio.sleep(0.1)
        job = await queue.submit(make_job())
        claimed = await asyncio.wait_for(waiting, 5)
        assert claimed is not None and claimed.id == job.id


async def test_two_workers_never_get_the_same_job(make_queue: QueueFactory) -> None:
    async with make_queue(max_jobs=100) as queue:
        jobs = [make_job() for _ in range(20)]
        for job in jobs:
            await queue.submit(job)

        async def drain(worker: str) -> list[str]:
            got = []
            while (job := await queue.claim(worker, timeout=0.1)) is not None:
                got.append(job.id)
            return got

        a, b = await asyncio.gather(drain("a"), drain("b"))
        assert sorted(a + b) == sorted(j.id for j in jobs) and not set(a) & set(b)


async def test_lifecycle_is_explicit(make_queue: QueueFactory) -> None:
    queue = make_queue()
    await queue.start()
    with pytest.raises(RuntimeError, match="already started"):
        await queue.start()
    await queue.stop()
    await queue.stop()  # idempotent


@pytest.mark.parametrize(
    ("options", "named"),
    [({"max_jobs": 0}, "max_jobs"), ({"max_attempts": 0}, "max_attempts"), ({"lease": 0}, "lease")],
)
def test_bad_bounds_are_refused(options: dict[str, float], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        MemoryQueue(**options)  # type: ignore[arg-type]


async def test_counts_and_a_document_s_unfinished_jobs(make_queue: QueueFactory) -> None:
    async with make_queue() as queue:
        first, second = make_job(doc_id="poster"), make_job(doc_id="poster", created_at=2e9)
        other, ended = make_job(doc_id="flyer"), make_job(doc_id="poster")
        for job in (first, second, other, ended):
            await queue.submit(job)
        await queue.cancel(ended.id)
        claimed = await queue.claim("w", timeout=1)
        assert claimed is not None and claimed.id == first.id
        assert await queue.counts() == {JobState.QUEUED: 2, JobState.RUNNING: 1}
        unfinished = await queue.unfinished("poster")
        assert [(j.id, j.state) for j in unfinished] == [
            (first.id, JobState.RUNNING),
            (second.id, JobState.QUEUED),
        ]
        assert await queue.unfinished("nothing") == []
