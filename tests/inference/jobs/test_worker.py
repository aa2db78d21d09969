"""The worker loop against the in-process queue, a recording link and scripted executors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

import pytest

from inference.exceptions import InvalidInput
from inference.jobs.executors import ExecutorDied
from inference.jobs.links import LinkError
from inference.jobs.model import Job, JobKind, JobState, Report
from inference.jobs.queue import MemoryQueue
from inference.jobs.runner import Control, Output
from inference.jobs.worker import TimeLimit, Worker
from tests.inference.jobs.conftest import make_job
from tests.support.clock import ManualClock
from tests.support.waiting import eventually

Behaviour = Callable[[Job, Control], Awaitable[Output]]


class Link:
    def __init__(self) -> None:
        self.reports: list[Report] = []
        self.fail_final = 0  # this many final reports fail as if the server were down

    async def fetch_blobs(self, hashes: Sequence[str]) -> dict[str, bytes]:
        return {h: b"bytes of " + h.encode() for h in hashes}

    async def put_png(self, data: bytes) -> str:
        return "d" * 64

    async def report(self, report: Report) -> bool:
        if self.fail_final and report.state.final:
            self.fail_final -= 1
            raise LinkError("server unreachable")
        self.reports.append(report)
        return True

    def states(self, job_id: str) -> list[str]:
        return [str(r.state) for r in self.reports if r.job_id == job_id]


class Scripted:
    def __init__(self, *behaviours: Behaviour) -> None:
        self.behaviours = list(behaviours)
        self.calls = 0

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def execute(self, job: Job, inputs: Mapping[str, bytes], control: Control) -> Output:
        assert set(inputs) == set(job.blobs)
        behaviour = self.behaviours[min(self.calls, len(self.behaviours) - 1)]
        self.calls += 1
        return await behaviour(job, control)


async def works(job: Job, control: Control) -> Output:
    control(50)
    return Output(b"png", 4, 3, {"model": "m", "backend": "b"})


async def slow(job: Job, control: Control) -> Output:
    for step in range(400):
        await asyncio.sleep(0.01)
        control(step / 4)  # raises Cancelled once asked
    return await works(job, control)


async def invalid(job: Job, control: Control) -> Output:
    raise InvalidInput("mask must be 8x8 like the image, got (4, 4)")


async def dies(job: Job, control: Control) -> Output:
    raise ExecutorDied("the job worker process 1234 died mid-job")


async def _run(queue: MemoryQueue, link: Link, executor: Scripted, job: Job) -> None:
    async with Worker(queue, link, executor, heartbeat=0.05, claim_timeout=0.1):
        await queue.submit(job)
        await eventually(lambda: any(r.state.final for r in link.reports if r.job_id == job.id))


async def test_a_job_is_reported_running_then_done_with_its_result() -> None:
    queue, link, job = MemoryQueue(), Link(), make_job()
    async with queue:
        await _run(queue, link, Scripted(works), job)
    assert link.states(job.id) == ["running", "done"]
    done = link.reports[-1]
    assert done.attempt == 1 and done.result is not None
    assert done.result == {"model": "m", "backend": "b", "blob": "d" * 64, "width": 4,
                           "height": 3, "output_bytes": 3}  # fmt: skip
    # The worker never ends a job itself: the server does, when it gets the report.
    assert (await queue.get(job.id)).state is JobState.RUNNING


async def test_bad_input_fails_the_job_with_its_message() -> None:
    queue, link, job = MemoryQueue(), Link(), make_job()
    async with queue:
        await _run(queue, link, Scripted(invalid), job)
    assert link.reports[-1].state is JobState.FAILED
    assert link.reports[-1].error == "mask must be 8x8 like the image, got (4, 4)"


async def test_a_cancel_request_reaches_the_running_pipeline() -> None:
    queue, link, job = MemoryQueue(), Link(), make_job()
    async with queue, Worker(queue, link, Scripted(slow), heartbeat=0.05, claim_timeout=0.1):
        await queue.submit(job)
        await eventually(lambda: any(r.progress >= 5 for r in link.reports))
        await queue.cancel(job.id)
        await eventually(lambda: link.states(job.id)[-1] == "cancelled")
    assert 5 <= link.reports[-1].progress < 100
    assert link.states(job.id).count("running") >= 2  # progress reports on the way


async def test_a_worker_that_lost_its_lease_drops_the_job_silently() -> None:
    clock = ManualClock()
    queue, link, job = MemoryQueue(lease=0.2, clock=clock), Link(), make_job()
    async with queue:
        # The clock jumps past the lease between two heartbeats: the job is presumed lost
        # and taken over.
        worker = Worker(queue, link, Scripted(slow), heartbeat=0.05, claim_timeout=0.1)
        async with worker:
            await queue.submit(job)
            await eventually(lambda: worker.current is not None)
            clock.advance(0.3)
            taken = await queue.claim("other", timeout=1)
            assert taken is not None and taken.attempts == 2
            await eventually(lambda: worker.current is None or worker.current.attempts > 1, 5)
        # Attempt 1 ended without a final report ("other", silent, then lost it in turn).
        assert {str(r.state) for r in link.reports if r.attempt == 1} == {"running"}


async def test_a_dead_executor_hands_the_job_back_until_the_attempts_run_out() -> None:
    queue, link, job = MemoryQueue(max_attempts=2), Link(), make_job()
    async with queue:
        executor = Scripted(dies, works)
        await _run(queue, link, executor, job)
        assert executor.calls == 2 and link.reports[-1].state is JobState.DONE
        assert link.reports[-1].attempt == 2
        other, link2 = make_job(), Link()
        await _run(queue, link2, Scripted(dies), other)
        failed = link2.reports[-1]
        assert failed.state is JobState.FAILED and failed.error is not None
        assert "gave up after 2 attempt(s)" in failed.error and "died mid-job" in failed.error


async def test_an_unreachable_server_hands_the_job_back() -> None:
    queue, link, job = MemoryQueue(max_attempts=3), Link(), make_job()
    link.fail_final = 1
    async with queue:
        await _run(queue, link, Scripted(works), job)
    assert [(r.attempt, str(r.state)) for r in link.reports] == [
        (1, "running"), (2, "running"), (2, "done"),
    ]  # fmt: skip
    other, link.fail_final = make_job(), 10
    async with MemoryQueue(max_attempts=1) as single:
        worker = Worker(single, link, Scripted(works), heartbeat=0.05, claim_timeout=0.1)
        async with worker:
            await single.submit(other)
            await eventually(lambda: link.fail_final < 10 and worker.current is None)
        assert (await single.get(other.id)).state is JobState.FAILED
        assert link.fail_final == 8  # its "done", then its "failed": both lost


async def test_stopping_hands_a_running_job_back() -> None:
    queue, link, job = MemoryQueue(), Link(), make_job()
    async with queue:
        worker = Worker(queue, link, Scripted(slow), heartbeat=0.05, claim_timeout=0.1)
        await worker.start()
        await queue.submit(job)
        await eventually(lambda: worker.current is not None)
        await worker.stop()
        back = await queue.get(job.id)
        assert back.state is JobState.QUEUED and back.error == "the worker stopped"


async def test_a_job_the_queue_gave_up_on_is_reported_failed() -> None:
    clock = ManualClock()
    queue, link, job = MemoryQueue(lease=0.1, max_attempts=1, clock=clock), Link(), make_job()
    async with queue:
        await queue.submit(job)
        await queue.claim("dead", timeout=1)
        clock.advance(0.2)
        await _run(queue, link, Scripted(works), make_job())
    assert link.states(job.id) == ["failed"]
    assert "lease expired" in (link.reports[0].error or "")


def test_worker_start_twice_is_an_error() -> None:
    async def scenario() -> None:
        async with MemoryQueue() as queue:
            worker = Worker(queue, Link(), Scripted(works), claim_timeout=0.1)
            async with worker:
                with pytest.raises(RuntimeError, match="already started"):
                    await worker.start()

    asyncio.run(scenario())


async def test_a_job_past_its_time_limit_fails_naming_the_limit_and_the_next_one_runs() -> None:
    queue, link = MemoryQueue(), Link()
    stuck, fine = make_job(kind=JobKind.REMOVE_BACKGROUND), make_job()
    seen: list[Control] = []

    async def hangs(job: Job, control: Control) -> Output:
        seen.append(control)
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    limits = {JobKind.REMOVE_BACKGROUND: TimeLimit(0.2, "NEXUS_JOBS_TIMEOUT_REMOVE_BACKGROUND")}
    executor = Scripted(hangs, works)
    async with (
        queue,
        Worker(queue, link, executor, heartbeat=0.05, claim_timeout=0.1, timeouts=limits),
    ):
        await queue.submit(stuck)
        await queue.submit(fine)
        await eventually(lambda: "done" in link.states(fine.id), timeout=10)
    failed = [r for r in link.reports if r.job_id == stuck.id][-1]
    assert failed.state is JobState.FAILED and failed.error == (
        "remove_background job exceeded its 0.2 s timeout (NEXUS_JOBS_TIMEOUT_REMOVE_BACKGROUND)"
    )
    assert seen[0].cancelled  # a thread's pipeline is told to stop at its next step
    assert (await queue.get(stuck.id)).attempts == 1  # not retried: it would time out again


async def test_the_limit_counts_from_when_the_executor_begins_the_pipeline() -> None:
    queue, link, job = MemoryQueue(), Link(), make_job()

    async def slow_start(job: Job, control: Control) -> Output:
        control.setting_up()
        await asyncio.sleep(0.4)  # a fresh process importing its libraries
        control.began()
        await asyncio.sleep(0.1)
        return await works(job, control)

    limits = {job.kind: TimeLimit(0.3, "NEXUS_JOBS_TIMEOUT_SECONDS")}
    async with queue:
        async with Worker(
            queue, link, Scripted(slow_start), heartbeat=0.05, claim_timeout=0.1, timeouts=limits
        ):
            await queue.submit(job)
            await eventually(lambda: any(r.state.final for r in link.reports), timeout=10)
    assert link.states(job.id)[-1] == "done"
    with pytest.raises(ValueError, match="> 0 seconds, got 0"):
        TimeLimit(0, "X")
