"""Embedded AI jobs against a real server process: queued and running jobs survive a
SIGKILL and land exactly once, a job past its time limit fails naming the limit (and the
next one runs), the job metrics count what happened, and deleting a document cancels its
jobs. GrabCut (the background model turned off) on a large picture makes jobs that run for
seconds."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support.servers import ServerProcess

pytestmark = pytest.mark.subprocess

FINAL = ("done", "failed", "cancelled")
SLOW = {"NEXUS_REMBG_MODEL": "none", "NEXUS_AI_FALLBACK_MAX_SIDE": "640"}


def _picture(width: int, height: int) -> bytes:
    rng = np.random.default_rng(11)
    pixels = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = (220, 40, 40)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _document(http: httpx.Client, doc: str, width: int, height: int) -> None:
    r = http.post("/api/docs?user=ann", json={"id": doc, "width": width, "height": height})
    assert r.status_code == 201, r.text
    r = http.post(
        f"/api/docs/{doc}/layers?user=ann", files={"image": ("photo.png", _picture(width, height))}
    )
    assert r.status_code == 201, r.text


def _submit(http: httpx.Client, doc: str) -> str:
    r = http.post(f"/api/docs/{doc}/ai/remove-background?user=ann", json={})
    assert r.status_code == 202, r.text
    job_id: str = r.json()["id"]
    return job_id


def _job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = http.get(f"/api/jobs/{job_id}?user=ann").json()
    return job


def _until(http: httpx.Client, job_id: str, test: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = _job(http, job_id)
        if test(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id} stayed {job}"
        time.sleep(0.05)


def _ended(http: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    return _until(http, job_id, lambda job: job["state"] in FINAL, timeout)


def _sample(metrics: str, name: str, **labels: str) -> float:
    """One sample of the Prometheus text; 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name and ",".join(sorted((match[2] or "").split(","))) == wanted:
            return float(match[3])
    return 0.0


def test_queued_and_running_jobs_survive_a_sigkill_and_land_exactly_once(tmp_path: Path) -> None:
    # A 600 s lease: the restarted server must not wait for the dead one's lease to run out.
    env = {**SLOW, "NEXUS_AI_GRABCUT_ITERATIONS": "10", "NEXUS_JOBS_LEASE_SECONDS": "600"}
    server = ServerProcess(tmp_path / "data", **env)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
            _document(http, "survivor", 640, 480)
            jobs = [_submit(http, "survivor") for _ in range(3)]
            _until(http, jobs[0], lambda j: j["state"] == "running" and j["progress"] >= 10, 90)
            assert [_job(http, j)["state"] for j in jobs[1:]] == ["queued", "queued"]
            server.kill()

            server.start()
            ended = [_ended(http, job_id) for job_id in jobs]
            assert [(j["state"], j["attempts"]) for j in ended] == [
                ("done", 2),  # the one running at the SIGKILL ran again
                ("done", 1),
                ("done", 1),
            ], ended
            layers = [layer["id"] for layer in http.get("/api/docs/survivor").json()["layers"]]
            assert [layers.count(job["layer_id"]) for job in ended] == [1, 1, 1], layers
            metrics = server.metrics()
    finally:
        server.stop()
    done = {"kind": "remove_background", "state": "done"}
    assert _sample(metrics, "nexus_jobs_finished_total", **done) == 3
    assert _sample(metrics, "nexus_job_run_seconds_count", kind="remove_background") == 3
    assert _sample(metrics, "nexus_jobs_queued") == 0
    assert _sample(metrics, "nexus_jobs_running") == 0
    assert "result rejected" not in server.log_path.read_text()


def test_a_job_past_its_time_limit_fails_naming_it_and_the_next_one_runs(tmp_path: Path) -> None:
    env = {**SLOW, "NEXUS_AI_GRABCUT_ITERATIONS": "20", "NEXUS_JOBS_TIMEOUT_REMOVE_BACKGROUND": "2"}
    server = ServerProcess(tmp_path / "data", **env)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
            _document(http, "big", 640, 480)
            _document(http, "small", 96, 64)
            stuck = _submit(http, "big")
            _until(http, stuck, lambda j: j["state"] == "running", 90)
            fine = _submit(http, "small")
            failed = _ended(http, stuck, timeout=60)
            assert (failed["state"], failed["attempts"]) == ("failed", 1)
            assert failed["error"] == (
                "remove_background job exceeded its 2 s timeout "
                "(NEXUS_JOBS_TIMEOUT_REMOVE_BACKGROUND)"
            )
            assert _ended(http, fine, timeout=90)["state"] == "done"  # in a fresh child
            metrics = server.metrics()
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "job worker process stopped mid-job" in log
    for state in ("failed", "done"):
        labels = {"kind": "remove_background", "state": state}
        assert _sample(metrics, "nexus_jobs_finished_total", **labels) == 1
    histogram = {"kind": "remove_background", "le": "+Inf"}
    assert _sample(metrics, "nexus_job_run_seconds_bucket", **histogram) == 2


def test_deleting_a_document_cancels_its_running_and_queued_jobs(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", **SLOW, NEXUS_AI_GRABCUT_ITERATIONS="20")
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
            _document(http, "doomed", 640, 480)
            running, queued = _submit(http, "doomed"), _submit(http, "doomed")
            _until(http, running, lambda j: j["state"] == "running" and j["progress"] >= 10, 90)
            assert http.delete("/api/docs/doomed?user=ann").status_code == 204
            assert _ended(http, queued, timeout=5)["state"] == "cancelled"
            stopped = _ended(http, running, timeout=30)
            assert stopped["state"] == "cancelled" and stopped["progress"] < 100, stopped
            metrics = server.metrics()
    finally:
        server.stop()
    labels = {"kind": "remove_background", "state": "cancelled"}
    assert _sample(metrics, "nexus_jobs_finished_total", **labels) == 2
    log = server.log_path.read_text()
    assert "result rejected" not in log and " ERROR " not in log, log
