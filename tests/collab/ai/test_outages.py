"""AI jobs on a server whose job queue or links fail: a cut Redis answers 503 naming the job
queue (no 500, nothing logged at error level); a worker whose link to the server fails four
times with a connection error still lands the job on its first attempt, once; and a job the
queue fails for good (no report could reach the server) ends failed in ``ai_tasks`` too."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from collab.replication.broker.factory import broker_from_url
from collab.replication.lease.factory import lease_from_url
from inference.jobs.links import ServerLink, ServerUnreachable
from inference.jobs.model import JobState, Report
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.services import require_redis
from tests.support.tcp_proxy import TcpProxy

FINAL = ("done", "failed", "cancelled")


def _picture(width: int = 48, height: int = 32) -> bytes:
    image = Image.new("RGB", (width, height), (30, 30, 30))
    image.paste((220, 40, 40), (12, 8, 36, 24))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def _document(http: httpx.AsyncClient, doc: str) -> None:
    r = await http.post("/api/docs?user=ann", json={"id": doc, "width": 48, "height": 32})
    assert r.status_code == 201, r.text
    r = await http.post(
        f"/api/docs/{doc}/layers?user=ann", files={"image": ("photo.png", _picture())}
    )
    assert r.status_code == 201, r.text


async def _submit(http: httpx.AsyncClient, doc: str) -> str:
    r = await http.post(f"/api/docs/{doc}/ai/remove-background?user=ann", json={})
    assert r.status_code == 202, r.text
    job_id: str = r.json()["id"]
    return job_id


async def _until(predicate: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    async with asyncio.timeout(timeout):
        while not (value := await predicate()):
            await asyncio.sleep(0.05)
        return value


class Flaky:
    """Wraps the embedded worker's link: its calls fail with a connection error ``down``
    times (for ever with None), then reach the server."""

    def __init__(self, inner: ServerLink, down: int | None) -> None:
        self.inner, self.down, self.failures = inner, down, 0

    def _maybe_fail(self) -> None:
        if self.down is None or self.failures < self.down:
            self.failures += 1
            raise ServerUnreachable("GET http://api/: [Errno 111] Connection refused")

    async def fetch_blobs(self, hashes: Sequence[str]) -> dict[str, bytes]:
        self._maybe_fail()
        return await self.inner.fetch_blobs(hashes)

    async def put_png(self, data: bytes) -> str:
        self._maybe_fail()
        return await self.inner.put_png(data)

    async def report(self, report: Report) -> bool:
        self._maybe_fail()
        return await self.inner.report(report)


@pytest.fixture
async def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningServer]:
    (tmp_path / "no-models").mkdir()
    monkeypatch.setenv("NEXUS_REMBG_HOME", str(tmp_path / "no-models"))  # the GrabCut fallback
    async with serve(settings_for(tmp_path, jobs_max_attempts=2)) as running:
        yield running


async def test_a_cut_redis_answers_503_naming_the_job_queue(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = require_redis()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    namespace = f"test-{uuid.uuid4().hex[:12]}"
    async with TcpProxy("127.0.0.1", port) as proxy:
        # Only the job queue is on Redis (through the proxy): the cut affects nothing else.
        settings = settings_for(
            tmp_path, redis_url=f"redis://127.0.0.1:{proxy.port}/0", redis_namespace=namespace
        )
        broker = broker_from_url(None, instance_id="a")
        lease = lease_from_url(None, owner="a")
        async with (
            serve(settings, broker=broker, lease=lease) as running,
            httpx.AsyncClient(base_url=running.http_url, timeout=30) as http,
        ):
            await _document(http, "poster")
            proxy.cut()
            caplog.clear()
            caplog.set_level(logging.INFO)
            r = await http.post("/api/docs/poster/ai/remove-background?user=ann", json={})
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "jobs_unavailable"
            assert r.json()["message"].startswith(
                f"the AI job queue (Redis redis://127.0.0.1:{proxy.port}/0) is unreachable"
            )
            assert r.headers["retry-after"] == "5"
            report = {"job_id": "j1", "attempt": 1, "state": "running", "progress": 0}
            r = await http.post("/api/jobs/j1/report?user=w", json=report)
            assert (r.status_code, r.json()["error"]) == (503, "jobs_unavailable"), r.text
            r = await http.get("/api/jobs/j1?user=ann")
            assert (r.status_code, r.json()["error"]) == (503, "jobs_unavailable"), r.text
            errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
            assert errors == [], [rec.getMessage() for rec in errors]
            assert any("job queue unavailable" in rec.getMessage() for rec in caplog.records)

            proxy.restore()  # back: the same route queues the job
            r = await http.post("/api/docs/poster/ai/remove-background?user=ann", json={})
            assert r.status_code == 202, r.text


async def test_four_connection_errors_then_the_job_lands_once_on_its_first_attempt(
    embedded: RunningServer,
) -> None:
    worker = embedded.server.jobs.worker
    assert worker is not None
    flaky = Flaky(worker.link, down=4)
    worker.link, worker.outage_backoff = flaky, 0.02
    async with httpx.AsyncClient(base_url=embedded.http_url, timeout=60) as http:
        await _document(http, "poster")
        job_id = await _submit(http, "poster")

        async def finished() -> dict[str, Any] | None:
            job: dict[str, Any] = (await http.get(f"/api/jobs/{job_id}?user=ann")).json()
            return job if job["state"] in FINAL else None

        job = await _until(finished, timeout=120)
        assert flaky.failures == 4
        assert (job["state"], job["attempts"]) == ("done", 1), job
        task = await embedded.server.store.get_task(job_id)
        assert (task.status, task.attempts) == ("done", 1)
        r = await http.get("/api/docs/poster?user=ann")
        assert r.status_code == 200, r.text
        layers = [layer for layer in r.json()["layers"] if layer["id"] == f"ai-{job_id}"]
        assert len(layers) == 1, r.json()["layers"]


async def test_a_job_failed_for_good_ends_failed_in_the_queue_and_in_ai_tasks(
    embedded: RunningServer,
) -> None:
    jobs = embedded.server.jobs
    worker = jobs.worker
    assert worker is not None
    worker.link = Flaky(worker.link, down=None)  # no server is ever reachable
    worker.outage_budget, worker.outage_backoff = 0.2, 0.02
    async with httpx.AsyncClient(base_url=embedded.http_url, timeout=60) as http:
        await _document(http, "poster")
        first, second = await _submit(http, "poster"), await _submit(http, "poster")

        async def both_failed() -> bool:
            states = [(await jobs.queue.get(j)).state for j in (first, second)]
            return states == [JobState.FAILED, JobState.FAILED]

        await _until(both_failed, timeout=60)
        for job_id in (first, second):  # no report reached the server
            assert (await embedded.server.store.get_task(job_id)).status in ("queued", "running")

        # Reading the job records its end ...
        job = (await http.get(f"/api/jobs/{first}?user=ann")).json()
        assert (job["state"], job["attempts"]) == ("failed", 2)
        task = await embedded.server.store.get_task(first)
        assert task.status == "failed" and task.error is not None
        assert "gave up after 2 attempt(s)" in task.error and "Connection refused" in task.error
        # ... and the host's sweep finds the one nobody asked about.
        assert await jobs.reconcile() == 1
        task = await embedded.server.store.get_task(second)
        assert task.status == "failed" and "gave up after 2 attempt(s)" in (task.error or "")
        assert await jobs.reconcile() == 0
