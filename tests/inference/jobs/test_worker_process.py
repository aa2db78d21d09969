"""Distributed mode on real Redis: ``nexus-canvas worker`` processes take jobs from the
Redis Streams queue and report over HTTP; killing the one running a job hands it to the
other, and the layer appears exactly once."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
import pytest
import redis.asyncio as aioredis
from PIL import Image

from client import CanvasClient
from tests.support.servers import serve, settings_for
from tests.support.services import require_redis

pytestmark = pytest.mark.subprocess


def _picture(width: int, height: int) -> bytes:
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = (220, 40, 40)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


class Workers:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, worker_id: str, server_url: str) -> None:
        log = (self.tmp_path / f"{worker_id}.log").open("ab")
        self.procs[worker_id] = subprocess.Popen(
            [sys.executable, "-m", "collab.cli", "worker", "--server-url", server_url,
             "--worker-id", worker_id, "--log-format", "text"],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def log(self, worker_id: str) -> str:
        return (self.tmp_path / f"{worker_id}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def workers(tmp_path: Path, namespace: str) -> Iterator[Workers]:
    env = {
        "REDIS_URL": require_redis(),
        "NEXUS_REDIS_NAMESPACE": namespace,
        "NEXUS_JOBS_LEASE_SECONDS": "2",
        # GrabCut (the model turned off) with many iterations on a larger image: a job that
        # runs for seconds, long enough to be killed mid-run.
        "NEXUS_REMBG_MODEL": "none",
        "NEXUS_AI_GRABCUT_ITERATIONS": "12",
        "NEXUS_AI_FALLBACK_MAX_SIDE": "640",
    }
    found = Workers(tmp_path, env)
    yield found
    found.stop_all()


async def _wait(predicate: Any, timeout: float) -> Any:
    async with asyncio.timeout(timeout):
        while not (value := await predicate()):
            await asyncio.sleep(0.05)
        return value


async def test_a_killed_worker_s_job_is_finished_by_another_exactly_once(
    tmp_path: Path, workers: Workers, namespace: str
) -> None:
    url = require_redis()
    settings = settings_for(
        tmp_path, redis_url=url, redis_namespace=namespace, jobs_lease_seconds=2.0
    )
    redis = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        async with (
            serve(settings) as running,
            httpx.AsyncClient(base_url=running.http_url, timeout=60) as http,
        ):
            assert running.server.jobs.worker is None  # distributed: no embedded worker
            for name in ("w1", "w2"):
                workers.start(name, running.http_url)
            await http.post("/api/docs?user=ann", json={"id": "d", "width": 640, "height": 480})
            r = await http.post(
                "/api/docs/d/layers?user=ann", files={"image": ("p.png", _picture(640, 480))}
            )
            assert r.status_code == 201, r.text
            async with (
                CanvasClient(running.url, "d", user="ann") as ann,
                CanvasClient(running.url, "d", user="bob") as bob,
            ):
                r = await http.post("/api/docs/d/ai/remove-background?user=ann", json={})
                assert r.status_code == 202, r.text
                job_id = r.json()["id"]
                key = f"{namespace}:job:{job_id}"

                async def running_on() -> str | None:
                    fields = await cast(Any, redis.hgetall(key))
                    busy = fields.get("state") == "running" and float(fields["progress"]) >= 10
                    return fields["worker"] if busy else None

                first = await _wait(running_on, 90)
                os.kill(workers.procs[first].pid, signal.SIGKILL)

                async def finished() -> dict[str, Any] | None:
                    job: dict[str, Any] = (await http.get(f"/api/jobs/{job_id}")).json()
                    return job if job["state"] in ("done", "failed", "cancelled") else None

                job = await _wait(finished, 120)
                other = "w2" if first == "w1" else "w1"
                assert job["state"] == "done" and job["attempts"] == 2, (
                    job,
                    workers.log(first),
                    workers.log(other),
                )
                assert (await cast(Any, redis.hget(key, "worker"))) == other
                layer_id = job["layer_id"]
                for client in (ann, bob):
                    await client.wait_for(
                        lambda c=client: layer_id in c.canvas.layer_ids(),  # type: ignore[misc]
                        timeout=10,
                    )
                    ids = [m.get("id") for m in client.canvas.layers_array]
                    assert ids.count(layer_id) == 1
                task = await running.server.store.get_task(job_id)
                assert (task.status, task.attempts, task.type) == ("done", 2, "remove_background")
                assert task.model == "opencv-grabcut" and task.output_bytes
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{namespace}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def test_a_worker_without_a_shared_queue_or_server_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "NEXUS_SERVER_URL")}
    cmd = [sys.executable, "-m", "collab.cli", "worker"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "needs REDIS_URL" in done.stderr
    done = subprocess.run(
        cmd, env={**env, "REDIS_URL": "redis://127.0.0.1:1/0"}, capture_output=True, text=True
    )
    assert done.returncode == 2 and "--server-url or NEXUS_SERVER_URL" in done.stderr
