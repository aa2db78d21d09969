"""A generative fill with a real (tiny, random-weight) diffusers model, end to end through
the embedded worker process; cancelling it stops the diffusion at the next step. Skips when
the AI stack is missing here, fails under CI."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.inference.conftest import require_ai_stack
from tests.support.servers import RunningServer, serve, settings_for

require_ai_stack("torch", "diffusers", "transformers")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def _job(http: httpx.AsyncClient, job_id: str, until: Any, timeout: float) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            job: dict[str, Any] = (await http.get(f"/api/jobs/{job_id}")).json()
            if until(job):
                return job
            await asyncio.sleep(0.05)


@pytest.fixture
async def running(tmp_path: Path, tiny_sd_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The embedded worker process reads its AIConfig from the environment it inherits.
    monkeypatch.setenv("NEXUS_INPAINT_MODEL", str(tiny_sd_dir))
    monkeypatch.setenv("NEXUS_AI_DEVICE", "cpu")
    async with serve(settings_for(tmp_path, jobs_max_steps=500)) as srv:
        yield srv


async def test_a_fill_with_a_real_model(running: RunningServer, tiny_sd_dir: Path) -> None:
    async with httpx.AsyncClient(base_url=running.http_url, timeout=60) as http:
        await http.post("/api/docs?user=ann", json={"id": "d", "width": 64, "height": 48})
        rng = np.random.default_rng(0)
        photo = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
        await http.post("/api/docs/d/layers?user=ann", files={"image": ("p.png", _png(photo))})
        mask = Image.new("L", (64, 48), 0)
        mask.paste(255, (16, 8, 40, 32))
        body = {"prompt": "a cat", "mask_png": base64.b64encode(_png(mask)).decode()}

        r = await http.post("/api/docs/d/ai/generative-fill?user=ann", json={**body, "steps": 2})
        assert r.status_code == 202, r.text
        job = await _job(http, r.json()["id"], lambda j: j["state"] in ("done", "failed"), 120)
        assert job["state"] == "done", job
        result = job["result"]
        assert (result["backend"], result["fallback"]) == ("diffusers", False)
        assert result["model"] == str(tiny_sd_dir) and result["seed"] == job["params"]["seed"]
        layers = (await http.get("/api/docs/d")).json()["layers"]
        provenance = next(la for la in layers if la["id"] == job["layer_id"])["provenance"]
        assert provenance["backend"] == "diffusers" and provenance["prompt"] == "a cat"
        task = await running.server.store.get_task(job["id"])
        assert task.model == str(tiny_sd_dir) and task.status == "done"

        # A long diffusion stops at the step after the cancel request.
        r = await http.post("/api/docs/d/ai/generative-fill?user=ann", json={**body, "steps": 400})
        job_id = r.json()["id"]
        await _job(http, job_id, lambda j: j["state"] == "running" and j["progress"] > 5, 120)
        assert (await http.delete(f"/api/jobs/{job_id}?user=ann")).status_code == 202
        ended = await _job(http, job_id, lambda j: j["state"] != "running", 30)
        assert ended["state"] == "cancelled" and ended["progress"] < 90, ended
