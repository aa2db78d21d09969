"""Each tiny real model (SDXL inpainting, SAM2, rembg ONNX) runs a job end to end on the CPU:
submitted over REST, processed by the worker process, layer added to the document, visible on
two connected clients, in the shared history, and logged in ``ai_tasks``. Skips when the AI
stack is missing here, fails under CI."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from client import CanvasClient
from tests.inference.conftest import require_ai_stack
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.tiny_models import TinySam2

require_ai_stack("torch", "diffusers", "transformers", "sam2", "rembg")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
async def running(
    tmp_path: Path,
    tiny_sdxl_dir: Path,
    tiny_sam2: TinySam2,
    tiny_rembg: tuple[Path, Path],
    rembg_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[RunningServer]:
    home, model = tiny_rembg
    # The embedded worker process reads its AIConfig from the environment it inherits.
    for name, value in {
        "NEXUS_INPAINT_MODEL": str(tiny_sdxl_dir),
        "NEXUS_SAM2_CONFIG": tiny_sam2.config,
        "NEXUS_SAM2_CHECKPOINT": str(tiny_sam2.checkpoint),
        "NEXUS_SAM2_OVERRIDES": ";".join(tiny_sam2.overrides),
        "NEXUS_REMBG_HOME": str(home),
        "NEXUS_REMBG_MODEL_PATH": str(model),
        "NEXUS_AI_DEVICE": "cpu",
    }.items():
        monkeypatch.setenv(name, value)
    async with serve(settings_for(tmp_path)) as srv:
        yield srv


async def _finished(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(180):
        while True:
            job: dict[str, Any] = (await http.get(f"/api/jobs/{job_id}")).json()
            if job["state"] in ("done", "failed", "cancelled"):
                return job
            await asyncio.sleep(0.05)


@pytest.mark.timeout(600)
async def test_every_real_model_runs_a_job_end_to_end(running: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=running.http_url, timeout=60) as http:
        r = await http.post("/api/docs?user=ann", json={"id": "real", "width": 64, "height": 48})
        assert r.status_code == 201, r.text
        async with (
            CanvasClient(running.url, "real", user="ann") as ann,
            CanvasClient(running.url, "real", user="ben") as ben,
        ):
            await _run_all(http, running, ann, ben)


async def _run_all(
    http: httpx.AsyncClient, running: RunningServer, ann: CanvasClient, ben: CanvasClient
) -> None:
    await ann.wait_synced()
    await ben.wait_synced()
    rng = np.random.default_rng(1)
    photo = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    r = await http.post("/api/docs/real/layers?user=ann", files={"image": ("p.png", _png(photo))})
    base = r.json()["id"]
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (16, 8, 40, 32))
    submissions = {
        "diffusers": ("generative-fill", {
            "prompt": "a cat", "steps": 2, "seed": 7,
            "mask_png": base64.b64encode(_png(mask)).decode(),
        }),
        "sam2": ("segment", {"points": [[30, 20]], "box": [10, 5, 50, 40]}),
        "rembg": ("remove-background", {"layer_id": base}),
    }  # fmt: skip
    for backend, (route, body) in submissions.items():
        r = await http.post(f"/api/docs/real/ai/{route}?user=ann", json=body)
        assert r.status_code == 202, r.text
        job = await _finished(http, r.json()["id"])
        assert job["state"] == "done", job
        assert job["result"]["backend"] == backend and job["result"]["fallback"] is False
        layer_id = job["layer_id"]
        for client in (ann, ben):  # on two connected clients, with provenance
            await client.wait_for(lambda c=client, i=layer_id: i in c.canvas.layer_ids(), 30)
        layer = ben.canvas.get_layer(layer_id)
        assert layer.provenance is not None and layer.provenance["job_id"] == job["id"]
        await ben.wait_for(  # the shared history credits the submitter
            lambda name=layer.name[:60]: any(
                e["user"] == "ann" and e["label"] == f"add layer '{name}'"
                for e in ben.canvas.history()
            )
        )
        task = await running.server.store.get_task(job["id"])
        assert task.status == "done" and task.output_bytes and task.latency_ms is not None
