"""Jobs through routine outages: an unreachable Redis is ``QueueUnavailable`` (never the
client's own exception), a server that cannot be reached for a while does not spend a
job's attempts, one that never comes back still ends the job, and a worker started while
Redis is down waits for it."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import pytest

from inference.jobs.links import HttpLink, LinkError, ServerUnreachable
from inference.jobs.model import JobState, Report
from inference.jobs.queue import MemoryQueue, QueueUnavailable
from inference.jobs.queue.redis import RedisQueue
from inference.jobs.runner import Control, Output
from inference.jobs.worker import Worker, WorkerMisconfigured, open_queue
from tests.inference.jobs.conftest import make_job
from tests.support.servers import free_port
from tests.support.services import require_redis
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually


class FlakyLink:
    """A server link whose calls fail with a connection error ``down`` times (or for
    ever, with ``down=None``) before they work."""

    def __init__(self, down: int | None) -> None:
        self.down = down
        self.failures = 0
        self.reports: list[Report] = []

    def _maybe_fail(self, what: str) -> None:
        if self.down is None or self.failures < self.down:
            self.failures += 1
            raise ServerUnreachable(f"{what}: [Errno 111] Connection refused")

    async def fetch_blobs(self, hashes: Sequence[str]) -> dict[str, bytes]:
        self._maybe_fail("GET /api/blobs")
        return {h: b"bytes" for h in hashes}

    async def put_png(self, data: bytes) -> str:
        self._maybe_fail("PUT /api/blobs")
        return "d" * 64

    async def report(self, report: Report) -> bool:
        self._maybe_fail("POST /api/jobs/report")
        self.reports.append(report)
        return True


class Works:
    def __init__(self) -> None:
        self.calls = 0

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def execute(self, job: object, inputs: Mapping[str, bytes], control: Control) -> Output:
        self.calls += 1
        return Output(b"png", 4, 3, {"model": "m", "backend": "b"})


async def _until(predicate: Callable[[], Awaitable[bool]], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)


@pytest.fixture
async def redis_proxy() -> AsyncIterator[TcpProxy]:
    url = require_redis()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    async with TcpProxy("127.0.0.1", port) as proxy:
        yield proxy


def _cleanup_namespace(namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(require_redis())
    keys = list(client.scan_iter(match=f"{namespace}:*"))
    if keys:
        client.delete(*keys)
    client.close()


async def test_a_redis_queue_at_a_closed_port_is_unavailable_naming_it() -> None:
    port = free_port()
    queue = RedisQueue(f"redis://:secret@127.0.0.1:{port}/0", namespace="t")
    with pytest.raises(QueueUnavailable) as caught:
        await queue.start()
    message = str(caught.value)
    assert message.startswith(f"the AI job queue (Redis redis://:***@127.0.0.1:{port}/0)")
    assert "secret" not in message and "retry in 5 s" in message
    assert not queue.started


async def test_a_cut_redis_makes_every_queue_call_unavailable(redis_proxy: TcpProxy) -> None:
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    queue = RedisQueue(f"redis://127.0.0.1:{redis_proxy.port}/0", namespace=namespace)
    try:
        async with queue:
            job = await queue.submit(make_job())
            redis_proxy.cut()
            for call in (queue.size(), queue.get(job.id), queue.submit(make_job())):
                with pytest.raises(QueueUnavailable, match="the AI job queue"):
                    await call
            redis_proxy.restore()
            await _until(lambda: _size_is(queue, 1), timeout=10)
    finally:
        _cleanup_namespace(namespace)


async def _size_is(queue: RedisQueue, size: int) -> bool:
    try:
        return await queue.size() == size
    except QueueUnavailable:
        return False


async def test_a_server_down_four_times_does_not_spend_attempts() -> None:
    link, executor, job = FlakyLink(down=4), Works(), make_job()
    async with MemoryQueue(max_attempts=3) as queue:
        async with Worker(
            queue, link, executor, heartbeat=0.05, claim_timeout=0.1, outage_backoff=0.01
        ):
            await queue.submit(job)
            await eventually(lambda: any(r.state.final for r in link.reports), timeout=10)
        assert link.failures == 4
        assert [(r.attempt, str(r.state)) for r in link.reports] == [(1, "running"), (1, "done")]
        assert executor.calls == 1
        assert (await queue.get(job.id)).attempts == 1


async def test_a_server_that_never_comes_back_still_ends_the_job() -> None:
    link, job = FlakyLink(down=None), make_job()
    async with MemoryQueue(max_attempts=2) as queue:
        worker = Worker(
            queue,
            link,
            Works(),
            heartbeat=0.05,
            claim_timeout=0.1,
            outage_budget=0.1,
            outage_backoff=0.01,
        )
        async with worker:
            await queue.submit(job)
            await _until(lambda: _state_is(queue, job.id, JobState.FAILED), timeout=10)
            await eventually(lambda: worker.current is None, timeout=5)
        failed = await queue.get(job.id)
        assert failed.attempts == 2
        assert failed.error is not None and "gave up after 2 attempt(s)" in failed.error
        assert "could not be reached" in failed.error and "Connection refused" in failed.error
        assert link.reports == []  # nothing reached the server: the host records it later


async def _state_is(queue: MemoryQueue, job_id: str, state: JobState) -> bool:
    return (await queue.get(job_id)).state is state


async def test_http_link_calls_a_closed_port_an_outage() -> None:
    link = HttpLink(f"http://127.0.0.1:{free_port()}", retries=0)
    with pytest.raises(ServerUnreachable, match="Connection refused"):
        await link.fetch_blobs(["a" * 64])
    assert issubclass(ServerUnreachable, LinkError)


async def test_the_worker_waits_for_redis_at_start_then_opens_the_queue(
    redis_proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    redis_proxy.cut()  # connections are refused, as at a closed port
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    queue = RedisQueue(f"redis://127.0.0.1:{redis_proxy.port}/0", namespace=namespace)
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="inference.jobs.worker")
    opening = asyncio.create_task(open_queue(queue, stop, first_wait=0.05))
    try:

        def retried() -> bool:
            warned = [r for r in caplog.records if "job queue unreachable at start" in r.message]
            return len(warned) >= 2

        await eventually(retried, timeout=10)
        assert not opening.done()
        assert all(r.levelno == logging.WARNING for r in caplog.records)
        redis_proxy.restore()
        assert await asyncio.wait_for(opening, 10) is True
        assert queue.started and await queue.size() == 0
    finally:
        opening.cancel()
        await queue.stop()
        _cleanup_namespace(namespace)


async def test_a_bad_queue_url_is_a_one_line_misconfiguration() -> None:
    queue = RedisQueue("redis://127.0.0.1:notaport/0", namespace="t")
    with pytest.raises(WorkerMisconfigured, match=r"cannot open the job queue .*check REDIS_URL"):
        await open_queue(queue, asyncio.Event())


@pytest.mark.subprocess
def test_nexus_canvas_worker_logs_and_retries_while_redis_is_unreachable(
    tmp_path: Path,
) -> None:
    """The real command: no traceback, a warning per try, still running."""
    log = tmp_path / "worker.log"
    env = {
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "NEXUS_REMBG_MODEL": "none",
        "PATH": "/usr/bin:/bin",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "collab.cli", "worker", "--server-url",
             "http://127.0.0.1:9", "--log-format", "text"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:

        def retried() -> bool:
            return log.read_text(errors="replace").count("job queue unreachable at start") >= 2

        asyncio.run(eventually(retried, timeout=60))
        assert proc.poll() is None
        assert "Traceback" not in log.read_text(errors="replace")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
