"""AI jobs end to end over REST with the embedded worker (its pipelines in a child process,
CPU fallbacks): the layer reaches every client, the submitter's undo removes it and nobody
else's does; the shared history and ai_tasks record it; cancelling, a full queue, bad input,
a killed worker process, idempotent results."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
import pytest
from PIL import Image

from canvasdoc.canvas import Canvas
from client import CanvasClient
from collab.ai.host import MAX_NAME_CHARS, board, layer_name
from collab.auth.tokens import TokenIssuer
from collab.settings import Settings
from inference.jobs.executors import ProcessExecutor
from inference.jobs.model import Job, JobKind, JobState, Report
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.waiting import eventually

FINAL = ("done", "failed", "cancelled")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _mask(size: tuple[int, int], box: tuple[int, int, int, int] | None) -> str:
    mask = Image.new("L", size, 0)
    if box is not None:
        mask.paste(255, box)
    return base64.b64encode(_png(mask)).decode()


def _picture(width: int, height: int, seed: int = 3) -> bytes:
    """A disc on a noisy background: something to fill, cut out and segment."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 60, (height, width, 4), dtype=np.uint8)
    yy, xx = np.mgrid[:height, :width]
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 4) ** 2
    pixels[disc, :3] = (220, 40, 40)
    pixels[..., 3] = 255
    return _png(Image.fromarray(pixels))


async def _document(http: httpx.AsyncClient, doc: str, width: int = 96, height: int = 64) -> str:
    r = await http.post("/api/docs?user=ann", json={"id": doc, "width": width, "height": height})
    assert r.status_code == 201, r.text
    r = await http.post(
        f"/api/docs/{doc}/layers?user=ann",
        files={"image": ("photo.png", _picture(width, height))},
    )
    assert r.status_code == 201, r.text
    layer_id: str = r.json()["id"]
    return layer_id


async def _finished(http: httpx.AsyncClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            job: dict[str, Any] = (await http.get(f"/api/jobs/{job_id}?user=ann")).json()
            if job["state"] in FINAL:
                return job
            await asyncio.sleep(0.05)


def _executor(running: RunningServer) -> ProcessExecutor:
    worker = running.server.jobs.worker
    assert worker is not None
    return cast(ProcessExecutor, worker.executor)


def no_rembg_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Background removal without its model (an empty model folder): the GrabCut fallback.
    The worker process reads the environment when the first job starts it."""
    (tmp_path / "no-models").mkdir(exist_ok=True)
    monkeypatch.setenv("NEXUS_REMBG_HOME", str(tmp_path / "no-models"))


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    no_rembg_model(tmp_path, monkeypatch)
    return settings_for(tmp_path, undo_capture_ms=500)


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url, timeout=60) as client:
        yield client


async def test_a_fill_lands_as_one_undoable_layer_of_the_submitter(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    base = await _document(http, "poster")
    async with (
        CanvasClient(running.url, "poster", user="ann", name="Ann") as ann,
        CanvasClient(running.url, "poster", user="bob", name="Bob") as bob,
    ):
        await ann.wait_synced()
        await bob.wait_synced()
        bob.canvas.add_layer("Bob's notes", kind="paint", layer_id="bob-notes")
        r = await http.post(
            "/api/docs/poster/ai/generative-fill?user=ann&name=Ann",
            json={"prompt": "a red sofa", "mask_png": _mask((96, 64), (20, 10, 50, 40)),
                  "steps": 4, "guidance": 6.5, "seed": 1234},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        submitted = r.json()
        assert submitted["state"] == "queued" and r.headers["location"].endswith(submitted["id"])
        job = await _finished(http, submitted["id"])
        assert job["state"] == "done", job
        layer_id = job["layer_id"]
        assert layer_id == f"ai-{job['id']}" and job["attempts"] == 1
        assert job["result"]["backend"] == "fallback:opencv-telea" and job["result"]["fallback"]

        # Both collaborators see the layer, with its provenance, and the job's board entry.
        for client in (ann, bob):
            await client.wait_for(lambda c=client: layer_id in c.canvas.layer_ids())  # type: ignore[misc]
            await client.wait_for(
                lambda c=client: board(c.doc).get(job["id"], {}).get("state") == "done"  # type: ignore[misc]
            )
        # The fallback ignored the prompt: the name says so (not "Generative fill: a red sofa").
        layer = ann.canvas.get_layer(layer_id)
        honest = "Fill (OpenCV inpainting, prompt not used)"
        assert layer.name == honest and layer.blob == job["result"]["blob"]
        assert layer.provenance is not None
        assert layer.provenance["job_id"] == job["id"] and layer.provenance["user"] == "ann"
        assert layer.provenance["prompt"] == "a red sofa" and layer.provenance["seed"] == 1234
        assert layer.provenance["model"] == "opencv-telea" and layer.provenance["fallback"]
        entry = board(bob.doc)[job["id"]]
        assert (entry["user"], entry["name"], entry["layer_id"]) == ("ann", "Ann", layer_id)
        assert (entry["label"], entry["fallback"]) == (honest, True)
        assert entry["method"] == "OpenCV inpainting, prompt not used: no model configured"
        # It read the composite: the photo and Bob's (empty) paint layer, both visible.
        read = [{"id": base, "name": "photo"}, {"id": "bob-notes", "name": "Bob's notes"}]
        assert (entry["source"], entry["inputs"]) == ("composite", read)
        # when (ms) for the browser's elapsed time; no region asked for, so none on the board
        assert entry["created_at"] <= entry["started_at"] <= entry["updated_at"]
        assert "region" not in entry

        # The result holds the filled pixels only: transparent outside the mask.
        pixels = np.asarray(
            Image.open(io.BytesIO((await http.get(f"/api/blobs/{layer.blob}")).content))
        )
        assert pixels.shape == (64, 96, 4)
        assert pixels[5, 5, 3] == 0 and pixels[25, 35, 3] == 255

        # The shared history names Ann; the ai_tasks row has the accounting.
        history = ann.canvas.history()
        assert any(e["user"] == "ann" and e["label"] == f"add layer '{honest}'" for e in history), (
            history
        )
        task = await running.server.store.get_task(job["id"])
        assert (task.status, task.type, task.model, task.prompt) == (
            "done", "generative_fill", "opencv-telea", "a red sofa",
        )  # fmt: skip
        assert task.input_bytes and task.output_bytes and task.latency_ms and task.attempts == 1
        assert task.params["seed"] == 1234 and task.params["backend"] == "fallback:opencv-telea"

        # Bob's undo takes back Bob's layer only; Ann's first undo removes the AI layer only.
        await bob.wait_for(lambda: "bob-notes" in ann.canvas.layer_ids())
        assert (await bob.undo())["done"]
        await ann.wait_for(lambda: "bob-notes" not in ann.canvas.layer_ids())
        assert layer_id in ann.canvas.layer_ids()
        assert (await ann.undo())["done"]
        await bob.wait_for(lambda: layer_id not in bob.canvas.layer_ids())
        assert base in bob.canvas.layer_ids()
        # The job stays done on the board: a later retry would not bring the layer back.
        assert board(bob.doc)[job["id"]]["state"] == "done"


async def test_segment_and_remove_background(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    base = await _document(http, "cut")
    r = await http.post(
        "/api/docs/cut/ai/segment?user=ann",
        json={"points": [[48, 32]], "box": [20, 12, 76, 52], "output": "mask"},
    )
    assert r.status_code == 202, r.text
    seg = await _finished(http, r.json()["id"])
    r = await http.post("/api/docs/cut/ai/remove-background?user=ann", json={"layer_id": base})
    assert r.status_code == 202, r.text
    cut = await _finished(http, r.json()["id"])
    assert (seg["state"], cut["state"]) == ("done", "done"), (seg, cut)
    assert seg["result"]["backend"] == cut["result"]["backend"] == "fallback:grabcut"
    doc = (await http.get("/api/docs/cut")).json()
    names = {layer["id"]: layer["name"] for layer in doc["layers"]}
    # The names say what was segmented, and what ran (with why, for background removal).
    assert names[seg["layer_id"]] == "Mask from box and 1 point (GrabCut fallback)"
    removed = names[cut["layer_id"]]
    assert removed.startswith("Background removed (GrabCut fallback: ") and removed[-1] == ")"
    assert cut["params"]["source"] == "layer"
    assert cut["params"]["input_layers"] == [{"id": base, "name": "photo"}]
    mask = np.asarray(
        Image.open(io.BytesIO((await http.get(f"/api/blobs/{seg['result']['blob']}")).content))
    )
    assert mask[32, 48, 3] == 255 and mask[2, 2, 3] == 0  # the disc, not the corner
    assert {t.type for t in await running.server.store.list_tasks(doc_id="cut")} == {
        "segment",
        "remove_background",
    }


async def test_bad_requests_are_refused_and_nothing_is_queued(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    await _document(http, "bad")
    fill = "/api/docs/bad/ai/generative-fill?user=ann"
    good_mask = _mask((96, 64), (10, 10, 30, 30))
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (fill, {"mask_png": _mask((96, 64), None)}, 422, "mask is empty"),
        (fill, {"mask_png": _mask((50, 50), (1, 1, 9, 9))}, 422, "mask must be 96x64"),
        (fill, {"mask_png": good_mask, "prompt": "x" * 1001}, 422, "prompt must be at most 1000"),
        (fill, {"mask_png": good_mask, "steps": 0}, 422, "steps must be an integer from 1 to 100"),
        (fill, {"mask_png": good_mask, "steps": 101}, 422, "steps must be an integer"),
        (fill, {"mask_png": good_mask, "guidance": "high"}, 422, "guidance must be a number"),
        (fill, {"mask_png": good_mask, "layer_id": "nope"}, 422, "layer_id 'nope'"),
        (fill, {"prompt": "no mask"}, 422, "give the mask"),
        (fill, {"mask": "0" * 64}, 422, "is not stored"),
        (fill, {"mask_png": "not base64!"}, 422, "base64"),
        (fill, {"mask_png": base64.b64encode(b"GIF89a....").decode()}, 415, "mask"),
        (fill, {"mask_png": good_mask, "colour": 1}, 422, "unknown field(s) 'colour'"),
        (
            fill,
            {
                "mask_png": _mask((20, 20), (2, 2, 9, 9)),
                "region": {"x": 90, "y": 0, "width": 20, "height": 20},
            },
            422,
            "must lie inside the 96x64 canvas",
        ),
        ("/api/docs/bad/ai/segment?user=ann", {}, 422, "needs points, a box or both"),
        ("/api/docs/bad/ai/segment?user=ann", {"points": [[500, 1]]}, 422, "(500, 1) must lie"),
        ("/api/docs/bad/ai/segment?user=ann", {"points": [[5, 1]], "output": "x"}, 422, "output"),
        (
            "/api/docs/bad/ai/segment?user=ann",
            {"points": [[5, 1]], "point_labels": [1, 0]},
            422,
            "point_labels: 2 labels for 1 point",
        ),
        (
            "/api/docs/bad/ai/segment?user=ann",
            {"box": [60, 10, 20, 40]},
            422,
            "box [60, 10, 20, 40] is inverted: x1 (20) < x0 (60)",
        ),
        (
            "/api/docs/bad/ai/segment?user=ann",
            {"box": [10, 10, 200, 40]},
            422,
            "box [10, 10, 200, 40] must lie inside the 96x64 canvas",
        ),
        (
            "/api/docs/bad/ai/segment?user=ann",
            {"points": [[5, 5]], "region": {"x": 40, "y": 20, "width": 30, "height": 30}},
            422,
            "point (5, 5) must lie inside the region (40, 20, 30x30)",
        ),
        (
            "/api/docs/bad/ai/remove-background?user=ann",
            {"layers": ["gone", "also-gone"]},
            422,
            "layers: no layer 'gone', 'also-gone'",
        ),
        ("/api/docs/bad/ai/remove-background?user=ann", {"layer_id": "gone"}, 422, "'gone'"),
        ("/api/docs/none/ai/remove-background?user=ann", {}, 404, "not found"),
    ]
    for path, body, status, named in cases:
        r = await http.post(path, json=body)
        assert r.status_code == status, (body, r.text)
        assert named in r.json()["message"], (named, r.json())
    assert await running.server.jobs.queue.size() == 0
    assert await running.server.store.list_tasks() == []
    assert (await http.get("/api/jobs/nope")).status_code == 404


async def test_a_fill_in_a_region_lands_at_the_region(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    await _document(http, "region")
    r = await http.post(
        "/api/docs/region/ai/generative-fill?user=ann",
        json={"mask_png": _mask((32, 24), (8, 8, 20, 16)),
              "region": {"x": 40, "y": 30, "width": 32, "height": 24}, "name": "Patch"},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    job = await _finished(http, r.json()["id"])
    assert job["state"] == "done", job
    layer = next(
        layer for layer in (await http.get("/api/docs/region")).json()["layers"]
        if layer["id"] == job["layer_id"]
    )  # fmt: skip
    # The user's name is kept; the fallback's note is appended to it.
    assert (layer["name"], layer["x"], layer["y"]) == ("Patch (OpenCV inpainting)", 40, 30)
    assert (job["result"]["width"], job["result"]["height"]) == (32, 24)


def test_layer_names_say_what_ran_and_keep_the_users_name() -> None:
    def job(kind: JobKind, **params: Any) -> Job:
        return Job("j", kind, "d", "ann", "Ann", "0" * 64, params=params)

    telea = {"backend": "fallback:opencv-telea", "fallback": True, "prompt_ignored": True}
    diffusers = {"backend": "diffusers", "model": "org/sd-inpaint", "fallback": False}
    fill = job(JobKind.GENERATIVE_FILL, prompt="a red sofa")
    assert layer_name(fill, telea) == "Fill (OpenCV inpainting, prompt not used)"
    assert layer_name(fill, diffusers) == "Generative fill: a red sofa"
    named = job(JobKind.GENERATIVE_FILL, prompt="a red sofa", name="Sofa")
    assert layer_name(named, diffusers) == "Sofa"  # a real model: the name as given
    once = layer_name(named, telea)
    assert once == "Sofa (OpenCV inpainting, prompt not used)"
    # a re-run passes the name on: the note is not appended twice
    assert layer_name(job(JobKind.GENERATIVE_FILL, prompt="x", name=once), telea) == once
    long = layer_name(job(JobKind.GENERATIVE_FILL, prompt="x", name="n" * 300), telea)
    assert len(long) == MAX_NAME_CHARS and long.endswith("(OpenCV inpainting, prompt not used)")

    sam2 = {"backend": "sam2", "model": "/w/sam2.pt"}
    grabcut = {"backend": "fallback:grabcut", "fallback": True, "fallback_reason": "no rembg"}
    points = job(JobKind.SEGMENT, points=[[1, 2], [3, 4]], box=None, output="cutout")
    assert layer_name(points, sam2) == "Cut-out from 2 points (SAM2)"
    both = job(JobKind.SEGMENT, points=[[1, 2]], box=[0, 0, 9, 9], output="mask")
    assert layer_name(both, grabcut) == "Mask from box and 1 point (GrabCut fallback)"
    removed = job(JobKind.REMOVE_BACKGROUND)
    assert layer_name(removed, {"backend": "rembg", "model": "u2netp"}) == (
        "Background removed (u2netp)"
    )
    missing = grabcut | {"fallback_reason": "rembg model 'u2netp' is not in /m"}
    assert (
        layer_name(removed, missing) == "Background removed (GrabCut fallback: model file missing)"
    )


class TestLargeCanvas:
    """A canvas above the export pixel limit: the whole canvas is refused, a region works."""

    @pytest.fixture
    def settings(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
        no_rembg_model(tmp_path, monkeypatch)
        return settings_for(tmp_path, max_export_pixels=48 * 48)  # the canvas is 96x64

    async def test_segment_and_remove_background_in_a_region(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        await _document(http, "big")
        segment, remove = "/api/docs/big/ai/segment?user=ann", "/api/docs/big/ai/remove-background"
        r = await http.post(segment, json={"points": [[48, 32]]})
        assert r.status_code == 413 and "choose a region" in r.json()["message"], r.text
        region = {"x": 24, "y": 8, "width": 48, "height": 48}  # the disc: (48, 32), radius 16
        # Prompts in canvas pixels; were they not moved into the region, the box would not fit.
        asked = {"points": [[48, 32]], "box": [30, 14, 66, 50], "output": "mask"}
        r = await http.post(segment, json=asked | {"region": region})
        assert r.status_code == 202, r.text
        assert r.json()["params"]["points"] == [[48, 32]]  # shown as asked
        seg = await _finished(http, r.json()["id"])
        r = await http.post(f"{remove}?user=ann", json={"region": region})
        assert r.status_code == 202, r.text
        cut = await _finished(http, r.json()["id"])
        assert (seg["state"], cut["state"]) == ("done", "done"), (seg, cut)
        layers = {
            layer["id"]: layer for layer in (await http.get("/api/docs/big")).json()["layers"]
        }
        for job in (seg, cut):
            layer = layers[job["layer_id"]]
            assert (layer["x"], layer["y"]) == (24, 8)
            assert (job["result"]["width"], job["result"]["height"]) == (48, 48)
        assert layers[seg["layer_id"]]["provenance"]["box"] == [30, 14, 66, 50]
        assert layers[seg["layer_id"]]["provenance"]["region"] == region
        mask = np.asarray(
            Image.open(io.BytesIO((await http.get(f"/api/blobs/{seg['result']['blob']}")).content))
        )
        assert mask[24, 24, 3] == 255 and mask[1, 1, 3] == 0  # the disc's centre, a corner


async def test_a_job_without_layer_id_reads_the_composite_without_mask_layers(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    base = await _document(http, "masks")
    r = await http.post(
        "/api/docs/masks/ai/segment?user=ann", json={"box": [20, 12, 76, 52], "output": "mask"}
    )
    mask_job = await _finished(http, r.json()["id"])
    assert mask_job["state"] == "done", mask_job
    # The mask layer (white where the disc is) is on top of the photo now: the next job
    # without layer_id reads the photo only, and says so.
    r = await http.post("/api/docs/masks/ai/remove-background?user=ann", json={})
    assert r.status_code == 202, r.text
    photo = [{"id": base, "name": "photo"}]
    assert (r.json()["params"]["source"], r.json()["params"]["input_layers"]) == (
        "composite", photo,
    )  # fmt: skip
    job = await _finished(http, r.json()["id"])
    assert job["state"] == "done", job
    pixels = np.asarray(
        Image.open(io.BytesIO((await http.get(f"/api/blobs/{job['result']['blob']}")).content))
    )
    assert tuple(pixels[32, 48, :3]) == (220, 40, 40)  # the red disc, not the white mask
    entry = board(running.server.rooms.rooms["masks"].doc)[job["id"]]
    assert entry["inputs"] == photo and entry["source"] == "composite"
    # Or the user chooses: the mask layer alone, as a list of layers.
    mask_layer = {"id": mask_job["layer_id"], "name": "Mask from box (GrabCut fallback)"}
    r = await http.post(
        "/api/docs/masks/ai/remove-background?user=ann", json={"layers": [mask_job["layer_id"]]}
    )
    assert r.status_code == 202, r.text
    assert r.json()["params"]["input_layers"] == [mask_layer]
    assert r.json()["params"]["source"] == "layers"
    assert (await _finished(http, r.json()["id"]))["state"] == "done"


class TestWithoutWorker:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return settings_for(tmp_path, jobs_embedded_worker=False, jobs_max_queued=2)

    async def test_a_full_queue_answers_503_with_a_retry_hint(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        await _document(http, "busy")
        for _ in range(2):
            r = await http.post("/api/docs/busy/ai/remove-background?user=ann", json={})
            assert r.status_code == 202, r.text
        r = await http.post("/api/docs/busy/ai/remove-background?user=ann", json={})
        assert r.status_code == 503 and r.json()["error"] == "jobs_busy"
        assert int(r.headers["retry-after"]) > 0 and r.json()["retry_after"] > 0
        assert len(await running.server.store.list_tasks()) == 2

    async def test_submissions_per_user_per_minute_are_limited(self, tmp_path: Path) -> None:
        settings = settings_for(
            tmp_path, jobs_embedded_worker=False, jobs_max_queued=50, jobs_per_user_per_minute=3
        )
        async with serve(settings) as srv, httpx.AsyncClient(base_url=srv.http_url) as http:
            await _document(http, "rate")
            codes = [
                (
                    await http.post("/api/docs/rate/ai/remove-background?user=ann", json={})
                ).status_code
                for _ in range(5)
            ]
            assert codes == [202, 202, 202, 429, 429]
            r = await http.post("/api/docs/rate/ai/remove-background?user=ann", json={})
            assert "3 jobs per minute" in r.json()["message"] and r.headers["retry-after"] == "60"
            r = await http.post("/api/docs/rate/ai/remove-background?user=bob", json={})
            assert r.status_code == 202  # another user is not affected

    async def test_cancelling_a_queued_job(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        await _document(http, "drop")
        job = (await http.post("/api/docs/drop/ai/remove-background?user=ann", json={})).json()
        r = await http.delete(f"/api/jobs/{job['id']}?user=ann")
        assert r.status_code == 200 and r.json()["state"] == "cancelled"
        assert (await http.delete(f"/api/jobs/{job['id']}?user=ann")).status_code == 409
        assert await running.server.jobs.queue.size() == 0
        assert (await running.server.store.get_task(job["id"])).status == "cancelled"
        room = running.server.rooms.rooms["drop"]
        assert board(room.doc)[job["id"]]["state"] == "cancelled"

    async def test_reports_are_fenced_by_attempt(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        await _document(http, "fence")
        job = (await http.post("/api/docs/fence/ai/remove-background?user=ann", json={})).json()
        claimed = await running.server.jobs.queue.claim("test", timeout=1)
        assert claimed is not None and claimed.attempts == 1
        url = f"/api/jobs/{job['id']}/report"
        stale = Report(job["id"], 7, JobState.RUNNING, 10).to_dict()
        assert (await http.post(url, json=stale)).status_code == 409
        assert (await http.post(url, json={"job_id": job["id"]})).status_code == 422
        failed = Report(job["id"], 1, JobState.FAILED, error="boom").to_dict()
        r = await http.post(url, json=failed)
        assert r.status_code == 200 and r.json()["state"] == "failed"
        assert (await http.post(url, json=failed)).status_code == 200  # a repeated report
        assert (await running.server.store.get_task(job["id"])).error == "boom"
        assert (await http.post(url, json=stale | {"attempt": 1})).status_code == 409

    async def test_a_result_that_cannot_be_applied_fails_the_job(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        await _document(http, "gone")
        first = (await http.post("/api/docs/gone/ai/remove-background?user=ann", json={})).json()
        second = (await http.post("/api/docs/gone/ai/remove-background?user=ann", json={})).json()
        for _ in range(2):
            await running.server.jobs.queue.claim("w", timeout=1)
        missing = Report(first["id"], 1, JobState.DONE, result={"blob": "f" * 64}).to_dict()
        r = await http.post(f"/api/jobs/{first['id']}/report", json=missing)
        assert r.status_code == 200 and r.json()["state"] == "failed"
        assert "the result's blob is unusable" in r.json()["error"]
        blob = (await http.put("/api/blobs", content=_picture(96, 64, seed=4))).json()["sha256"]
        await running.server.rooms.save("gone")
        assert (await http.delete("/api/docs/gone?user=ann")).status_code == 204
        done = Report(second["id"], 1, JobState.DONE, result={"blob": blob}).to_dict()
        r = await http.post(f"/api/jobs/{second['id']}/report", json=done)
        # deleted meanwhile: the result is dropped and the job ends cancelled, not failed
        assert r.status_code == 200 and r.json()["state"] == "cancelled"
        assert "was deleted" in r.json()["error"]

    async def test_a_result_is_applied_once_whatever_the_retries(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        """An attempt applied its layer, then its worker died before the job ended; the
        user undid the layer meanwhile. The retry finds the job applied and adds nothing."""
        await _document(http, "once")
        job = (await http.post("/api/docs/once/ai/remove-background?user=ann", json={})).json()
        host, queue = running.server.jobs, running.server.jobs.queue
        first = await queue.claim("w1", timeout=1)
        assert first is not None
        blob = (await http.put("/api/blobs", content=_picture(96, 64, seed=9))).json()["sha256"]
        await host._apply(first, {"blob": blob, "model": "m"})  # then the worker "dies"
        released = await queue.release(first.id, 1, "worker lost")
        assert released.state is JobState.QUEUED
        canvas = Canvas(running.server.rooms.rooms["once"].doc)
        assert first.layer_id in canvas.layer_ids()
        assert (await http.post("/api/docs/once/undo?user=ann")).status_code == 200
        assert first.layer_id not in canvas.layer_ids()
        second = await queue.claim("w2", timeout=1)
        assert second is not None and second.attempts == 2
        done = Report(job["id"], 2, JobState.DONE, 100, result={"blob": blob}).to_dict()
        for _ in range(2):  # the second is a report repeated after a lost answer
            r = await http.post(f"/api/jobs/{job['id']}/report", json=done)
            assert r.status_code == 200 and r.json()["state"] == "done"
        assert first.layer_id not in canvas.layer_ids()
        layers = [item for item in canvas.layers_array if item.get("id") == first.layer_id]
        assert layers == []


class TestTokenMode:
    SECRET = "jobs-test-secret-" + "k" * 32

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return settings_for(tmp_path, auth_secret=self.SECRET, jobs_embedded_worker=False)

    async def test_only_the_submitter_owner_or_a_service_may_act_on_a_job(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        async def account(name: str) -> dict[str, str]:
            r = await http.post("/api/auth/register", json={"name": name, "password": "pw" * 6})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        ann, bob = await account("ann"), await account("bob")
        service = {"Authorization": f"Bearer {TokenIssuer(self.SECRET).service('ai-worker')}"}
        assert (await http.post("/api/docs", json={"id": "t"}, headers=ann)).status_code == 201
        r = await http.post("/api/docs/t/ai/remove-background", json={}, headers=bob)
        assert r.status_code == 403
        r = await http.post("/api/docs/t/ai/remove-background", json={}, headers=ann)
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        assert (await http.get(f"/api/jobs/{job_id}", headers=bob)).status_code == 403
        assert (await http.delete(f"/api/jobs/{job_id}", headers=bob)).status_code == 403
        assert (await http.get(f"/api/jobs/{job_id}", headers=ann)).json()["state"] == "queued"
        await running.server.jobs.queue.claim("w", timeout=1)
        report = Report(job_id, 1, JobState.RUNNING, 20).to_dict()
        url = f"/api/jobs/{job_id}/report"
        assert (await http.post(url, json=report, headers=ann)).status_code == 403
        assert (await http.post(url, json=report, headers=service)).status_code == 200
        r = await http.delete(f"/api/jobs/{job_id}", headers=ann)
        assert r.status_code == 202 and r.json()["cancel_requested"]


class TestSlowJobs:
    """GrabCut on a larger image with many iterations: a job that runs for seconds."""

    @pytest.fixture
    def settings(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
        # Long enough that a cancel sent at 10 % lands before the last step even on a busy
        # machine (12 iterations once finished first under load).
        no_rembg_model(tmp_path, monkeypatch)
        monkeypatch.setenv("NEXUS_AI_GRABCUT_ITERATIONS", "20")  # the most allowed
        monkeypatch.setenv("NEXUS_AI_FALLBACK_MAX_SIDE", "640")
        return settings_for(tmp_path, jobs_lease_seconds=3.0)

    async def test_cancelling_a_running_job_stops_it_at_the_next_step(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        await _document(http, "stop", 640, 480)
        job = (await http.post("/api/docs/stop/ai/remove-background?user=ann", json={})).json()
        await eventually(lambda: _progress(running, job["id"]) >= 10, timeout=60)
        r = await http.delete(f"/api/jobs/{job['id']}?user=ann")
        assert r.status_code == 202 and r.json()["cancel_requested"], r.text
        ended = await _finished(http, job["id"], timeout=20)
        assert ended["state"] == "cancelled" and ended["progress"] < 100
        assert (await running.server.store.get_task(job["id"])).status == "cancelled"
        names = [layer["name"] for layer in (await http.get("/api/docs/stop")).json()["layers"]]
        assert names == ["photo"]

    async def test_a_killed_worker_process_is_replaced_and_the_job_retried(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        await _document(http, "crash", 640, 480)
        job = (await http.post("/api/docs/crash/ai/remove-background?user=ann", json={})).json()
        await eventually(lambda: _progress(running, job["id"]) >= 10, timeout=60)
        pid = _executor(running).pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        ended = await _finished(http, job["id"], timeout=90)
        assert ended["state"] == "done" and ended["attempts"] == 2, ended
        assert _executor(running).pid not in (None, pid)
        doc = (await http.get("/api/docs/crash")).json()
        assert [layer["id"] for layer in doc["layers"]].count(ended["layer_id"]) == 1
        task = await running.server.store.get_task(job["id"])
        assert (task.status, task.attempts) == ("done", 2)


def _progress(running: RunningServer, job_id: str) -> float:
    """The running job's progress as its document's job board shows it (steps of 5 %)."""
    for room in running.server.rooms.rooms.values():
        entry = board(room.doc).get(job_id)
        if entry is not None and entry.get("state") == "running":
            return float(entry.get("progress", 0))
    return 0.0


async def test_serving_without_jobs_starts_no_worker_process(tmp_path: Path) -> None:
    async with serve(settings_for(tmp_path)) as running:
        worker = running.server.jobs.worker
        assert worker is not None
        assert cast(ProcessExecutor, worker.executor).pid is None  # started by the first job
