"""What the SQLite queue adds to the contract: jobs outlive the process that held them."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

from inference.jobs.model import JobState
from inference.jobs.queue import MemoryQueue, QueueInUse, queue_from_url
from inference.jobs.queue.sqlite import SQLiteQueue
from tests.inference.jobs.conftest import make_job
from tests.support.clock import ManualClock


async def test_queued_and_running_jobs_come_back_and_run_again_at_once(tmp_path: Path) -> None:
    path, clock = tmp_path / "jobs.db", ManualClock()
    running, waiting = make_job(), make_job()
    async with SQLiteQueue(path, clock=clock, lease=600) as queue:
        await queue.submit(running)
        await queue.submit(waiting)
        assert (await queue.claim("w1", timeout=1)) is not None
    # The process that ran it is gone: the next one does not wait out the 600 s lease.
    async with SQLiteQueue(path, clock=clock, lease=600) as queue:
        assert await queue.counts() == {JobState.QUEUED: 1, JobState.RUNNING: 1}
        again = await queue.claim("w2", timeout=0.1)
        assert again is not None and (again.id, again.attempts) == (running.id, 2)
        assert again.to_dict() | {"state": "queued", "attempts": 0, "progress": 0.0,
                                  "started_at": None} == running.to_dict()  # fmt: skip
        nxt = await queue.claim("w2", timeout=0.1)
        assert nxt is not None and (nxt.id, nxt.attempts) == (waiting.id, 1)


async def test_one_process_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    async with SQLiteQueue(path):
        with pytest.raises(QueueInUse, match=r"jobs\.db is in use by another process"):
            await SQLiteQueue(path).start()
    async with SQLiteQueue(path):  # released on stop
        pass


async def test_a_sigkilled_holder_releases_the_file_and_its_job(tmp_path: Path) -> None:
    path, job = tmp_path / "jobs.db", make_job()
    async with SQLiteQueue(path) as queue:
        await queue.submit(job)
    holder = textwrap.dedent(
        f"""
        import asyncio, os, signal, sys
        from inference.jobs.queue.sqlite import SQLiteQueue

        async def main():
            queue = SQLiteQueue({str(path)!r})
            await queue.start()
            claimed = await queue.claim("doomed", timeout=5)
            print(claimed.attempts, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    holder_proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", holder, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(holder_proc.communicate(), 60)
    assert holder_proc.returncode == -9 and out.decode().strip() == "1", err.decode()
    async with SQLiteQueue(path) as queue:
        again = await queue.claim("w", timeout=1)
        assert again is not None and (again.id, again.attempts) == (job.id, 2)


def test_the_factory_chooses_by_url(tmp_path: Path) -> None:
    assert isinstance(queue_from_url(None, namespace="x"), MemoryQueue)
    queue = queue_from_url(f"sqlite://{tmp_path}/jobs.db", max_jobs=5, namespace="x")
    assert isinstance(queue, SQLiteQueue) and queue.path == tmp_path / "jobs.db"
    assert queue.max_jobs == 5
    with pytest.raises(ValueError, match="names no file"):
        queue_from_url("sqlite:///")
    with pytest.raises(ValueError, match="'ftp'"):
        queue_from_url("ftp://x")
