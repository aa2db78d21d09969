"""Staged AI proposals end to end (embedded worker, CPU fallbacks): a staged fill lands as a
proposal both collaborators see, exports and thumbnails leave it out unless asked; accept and
discard through the Python client and over REST, each one undo step of whoever did it; a
re-run lands a second proposal with a new seed beside the first; the errors name the layer."""

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

from canvasdoc.canvas import Canvas, Layer, LayerNotFound, NotAProposal
from client import CanvasClient
from collab.ai.host import AI_USER, board
from collab.auth.identity import Principal
from collab.settings import Settings
from tests.support.accounts import bearer, register
from tests.support.servers import RunningServer, settings_for
from tests.support.waiting import eventually

FINAL = ("done", "failed", "cancelled")
FILL = "/api/docs/{doc}/ai/generative-fill?user=ann&name=Ann"


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> str:
    mask = Image.new("L", size, 0)
    mask.paste(255, box)
    return base64.b64encode(_png(mask)).decode()


def _picture(width: int, height: int) -> bytes:
    """A red disc on a noisy background: the fill replaces part of the disc."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 60, (height, width, 4), dtype=np.uint8)
    yy, xx = np.mgrid[:height, :width]
    disc = (xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 4) ** 2
    pixels[disc, :3] = (220, 40, 40)
    pixels[..., 3] = 255
    return _png(Image.fromarray(pixels))


async def _document(http: httpx.AsyncClient, doc: str) -> str:
    r = await http.post("/api/docs?user=ann", json={"id": doc, "width": 96, "height": 64})
    assert r.status_code == 201, r.text
    r = await http.post(
        f"/api/docs/{doc}/layers?user=ann", files={"image": ("photo.png", _picture(96, 64))}
    )
    assert r.status_code == 201, r.text
    layer_id: str = r.json()["id"]
    return layer_id


async def _finished(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            job: dict[str, Any] = (await http.get(f"/api/jobs/{job_id}?user=ann")).json()
            if job["state"] in FINAL:
                return job
            await asyncio.sleep(0.05)


async def _export(http: httpx.AsyncClient, doc: str, query: str = "") -> bytes:
    r = await http.get(f"/api/docs/{doc}/export{query}")
    assert r.status_code == 200, r.text
    return r.content


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA")).astype(int)


def _labels(client: CanvasClient, user: str) -> list[str]:
    return [e["label"] for e in client.canvas.history() if e["user"] == user]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Every change its own undo step: the document's creation, its photo and Ann's next edit
    # come within milliseconds of each other here.
    return settings_for(tmp_path, undo_capture_ms=0)


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url, timeout=60) as client:
        yield client


async def test_a_staged_fill_is_a_proposal_until_accepted(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    await _document(http, "sofa")
    before = await _export(http, "sofa")
    thumbnail = (await http.get("/api/docs/sofa/thumbnail")).content
    async with (
        CanvasClient(running.url, "sofa", user="ann", name="Ann") as ann,
        CanvasClient(running.url, "sofa", user="bob", name="Bob") as bob,
    ):
        await ann.wait_synced()
        await bob.wait_synced()
        notes = ann.canvas.add_layer("Ann's notes", kind="paint")
        await bob.wait_for(lambda: notes in bob.canvas.layer_ids())
        r = await http.post(
            FILL.format(doc="sofa"),
            json={"prompt": "a red sofa", "mask_png": _mask((96, 64), (20, 10, 50, 40)),
                  "steps": 4, "seed": 1234, "stage": True},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        assert r.json()["params"]["stage"] is True
        job = await _finished(http, r.json()["id"])
        assert job["state"] == "done", job
        layer_id = job["layer_id"]

        # Both see the proposal, naming the job and who asked; the board marks it staged.
        for client in (ann, bob):
            await client.wait_for(lambda c=client: [p.id for p in c.proposals()] == [layer_id])  # type: ignore[misc]
        staged = bob.canvas.get_layer(layer_id)
        assert staged.proposal is not None
        assert (staged.proposal["job_id"], staged.proposal["user"]) == (job["id"], "ann")
        assert staged.proposal["name"] == "Ann" and staged.proposal["at"] > 0
        assert staged.provenance is not None and staged.provenance["seed"] == 1234
        assert board(bob.doc)[job["id"]]["stage"] is True
        # Added for Ann by the AI: in the history, not in Ann's undo stack.
        entry = ann.canvas.history()[-1]
        assert (entry["user"], entry["name"]) == (AI_USER, "AI for Ann")
        assert entry["label"] == "add layer 'Fill (OpenCV inpainting, prompt not used)'"
        assert (await http.get("/api/docs/sofa")).json()["layers"][-1]["proposal"] is not None

        # Exports and thumbnails leave it out unless asked for.
        assert await _export(http, "sofa") == before
        assert (await http.get("/api/docs/sofa/thumbnail")).content == thumbnail
        shown = await _export(http, "sofa", "?proposals=1")
        changed = np.any(_pixels(shown) != _pixels(before), axis=2)
        assert changed[10:40, 20:50].any()
        changed[10:40, 20:50] = False
        assert not changed.any()  # in the mask only
        r = await http.get("/api/docs/sofa/export?proposals=maybe")
        assert r.status_code == 422 and "'maybe'" in r.json()["message"]

        # Bob accepts it through the Python client: the export now contains it.
        with pytest.raises(NotAProposal):
            bob.accept_proposal(notes)
        with pytest.raises(LayerNotFound):
            bob.discard_proposal("nope")
        bob.accept_proposal(layer_id)
        await ann.wait_for(lambda: not ann.canvas.get_layer(layer_id).is_proposal)
        accepted = "accept proposal 'Fill (OpenCV inpainting, prompt not used)'"
        await bob.wait_for(lambda: accepted in _labels(bob, "bob"))
        assert await _export(http, "sofa") == shown

        # Ann's undo takes back Ann's own edit, never Bob's accept; Bob's undo does.
        assert (await ann.undo())["done"]
        await bob.wait_for(lambda: notes not in bob.canvas.layer_ids())
        assert not bob.canvas.get_layer(layer_id).is_proposal
        assert await _export(http, "sofa") == shown
        assert (await bob.undo())["done"]
        await ann.wait_for(lambda: ann.canvas.get_layer(layer_id).is_proposal)
        assert ann.canvas.get_layer(layer_id).proposal == staged.proposal
        assert await _export(http, "sofa") == before

        # Discarded through the Python client: no layer and no pixel left; Ann's undo
        # brings it back.
        ann.discard_proposal(layer_id)
        await bob.wait_for(lambda: layer_id not in bob.canvas.layer_ids())
        assert await _export(http, "sofa", "?proposals=1") == before
        assert (await ann.undo())["done"]
        await bob.wait_for(lambda: layer_id in bob.canvas.layer_ids())
        assert bob.canvas.get_layer(layer_id).is_proposal


async def test_rerun_accept_and_discard_over_rest(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    base = await _document(http, "rerun")
    before = await _export(http, "rerun")
    r = await http.post(
        FILL.format(doc="rerun"),
        json={"prompt": "a lamp", "mask_png": _mask((48, 32), (8, 8, 30, 24)), "stage": True,
              "region": {"x": 40, "y": 20, "width": 48, "height": 32}, "steps": 3},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    first = await _finished(http, r.json()["id"])
    assert first["state"] == "done", first
    old_layer = first["layer_id"]
    r = await http.post(
        "/api/docs/rerun/layers?user=bob", files={"image": ("top.png", _picture(8, 8))}
    )
    assert r.status_code == 201, r.text
    plain = await _export(http, "rerun")  # Ann's photo and Bob's layer, no AI result

    # Bob re-runs Ann's proposal: same mask, region and prompt, a new seed, just above it.
    r = await http.post(f"/api/docs/rerun/layers/{old_layer}/rerun?user=bob&name=Bob")
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/jobs/{r.json()['id']}"
    second = await _finished(http, r.json()["id"])
    assert second["state"] == "done", second
    layers = [Layer(**_layer_args(x)) for x in (await http.get("/api/docs/rerun")).json()["layers"]]
    ids = [layer.id for layer in layers]
    assert ids.index(second["layer_id"]) == ids.index(old_layer) + 1
    old, new = (next(x for x in layers if x.id == i) for i in (old_layer, second["layer_id"]))
    assert old.provenance is not None and new.provenance is not None
    assert new.is_proposal and old.is_proposal and new.name == old.name
    assert new.provenance["seed"] != old.provenance["seed"]
    assert new.provenance["rerun_of"] == first["id"] and new.provenance["user"] == "bob"
    for key in ("mask", "region", "prompt", "steps", "guidance", "strength", "kind"):
        assert new.provenance[key] == old.provenance[key], key
    assert (new.x, new.y) == (old.x, old.y) == (40, 20)
    assert new.proposal is not None and new.proposal["user"] == "bob"
    # A chosen seed, and a bad one.
    r = await http.post(f"/api/docs/rerun/layers/{old_layer}/rerun?user=bob", json={"seed": -1})
    assert r.status_code == 422 and "re-run of layer" in r.json()["message"]
    assert "seed must be an integer" in r.json()["message"]
    r = await http.post(f"/api/docs/rerun/layers/{old_layer}/rerun?user=bob", json={"x": 1})
    assert r.status_code == 422 and "'x'" in r.json()["message"]

    # Errors name the layer: unknown 404, an ordinary layer 409.
    for action in ("accept", "discard", "rerun"):
        r = await http.post(f"/api/docs/rerun/layers/nope/{action}?user=bob")
        assert r.status_code == 404 and "'nope'" in r.json()["message"], (action, r.text)
        r = await http.post(f"/api/docs/rerun/layers/{base}/{action}?user=bob")
        assert r.status_code == 409, (action, r.text)
        assert base in r.json()["message"] and r.json()["error"] in (
            "not_a_proposal",
            "not_rerunnable",
        )
    assert (await http.post("/api/docs/none/layers/x/accept?user=bob")).status_code == 404

    # Accept one over REST: one undo step of the caller's, named in the history.
    r = await http.post(f"/api/docs/rerun/layers/{second['layer_id']}/accept?user=cleo&name=Cleo")
    assert r.status_code == 200, r.text
    assert r.json()["layer"]["proposal"] is None and r.json()["can_undo"]
    assert (
        await http.post(f"/api/docs/rerun/layers/{second['layer_id']}/accept?user=cleo")
    ).status_code == 409
    history = _history(running, "rerun")
    assert history[-1]["user"] == "cleo" and history[-1]["name"] == "Cleo"
    assert history[-1]["label"] == f"accept proposal {_quoted(new.name)}"
    # Discard the other: the export has no pixel of it.
    r = await http.post(f"/api/docs/rerun/layers/{old_layer}/discard?user=cleo")
    assert r.status_code == 200 and r.json()["name"] == old.name
    assert _history(running, "rerun")[-1]["label"] == f"remove layer {_quoted(old.name)}"
    with_new = await _export(http, "rerun")
    assert await _export(http, "rerun", "?proposals=1") == with_new != before
    # Cleo's undo brings the discarded proposal back, the next one un-accepts: the export
    # is the document without any AI result again.
    assert (await http.post("/api/docs/rerun/undo?user=cleo")).json()["done"]
    assert old_layer in [x["id"] for x in (await http.get("/api/docs/rerun")).json()["layers"]]
    assert (await http.post("/api/docs/rerun/undo?user=cleo")).json()["done"]
    ai = [x for x in (await http.get("/api/docs/rerun")).json()["layers"] if x["provenance"]]
    assert len(ai) == 2 and all(x["proposal"] is not None for x in ai)
    assert await _export(http, "rerun") == plain
    for layer in ai:
        r = await http.post(f"/api/docs/rerun/layers/{layer['id']}/discard?user=cleo")
        assert r.status_code == 200, r.text
    assert await _export(http, "rerun", "?proposals=1") == plain


async def test_stage_must_be_a_boolean_and_a_hand_made_layer_cannot_be_rerun(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    await _document(http, "bad")
    r = await http.post(
        FILL.format(doc="bad"),
        json={"mask_png": _mask((96, 64), (1, 1, 20, 20)), "stage": "yes"},
    )
    assert r.status_code == 422 and "stage must be true or false, got 'yes'" in r.json()["message"]
    assert await running.server.jobs.queue.size() == 0
    # A proposal a foreign client staged by hand can be accepted, but not re-run.
    async with CanvasClient(running.url, "bad", user="ann") as ann:
        await ann.wait_synced()
        layer = ann.canvas.add_layer("By hand", proposal={"note": "try this"})
        fake = ann.canvas.add_layer("Old AI", provenance={"kind": "generative_fill", "seed": 1})
        await eventually(lambda: fake in _live_ids(running, "bad"))
    r = await http.post(f"/api/docs/bad/layers/{layer}/rerun?user=ann")
    assert r.status_code == 409 and "not made by an AI job" in r.json()["message"]
    r = await http.post(f"/api/docs/bad/layers/{fake}/rerun?user=ann")
    assert r.status_code == 409 and "records no mask" in r.json()["message"]
    r = await http.post(f"/api/docs/bad/layers/{layer}/accept?user=ann")
    assert r.status_code == 200 and r.json()["layer"]["name"] == "By hand"


class TestTokenMode:
    SECRET = "proposals-test-secret-" + "k" * 32

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return settings_for(tmp_path, auth_secret=self.SECRET, jobs_embedded_worker=False)

    async def test_a_viewer_may_not_accept_discard_or_rerun(
        self, running: RunningServer, http: httpx.AsyncClient
    ) -> None:
        owner = bearer(await register(http, "olga"))
        viewer = bearer(await register(http, "vic"))
        assert (await http.post("/api/docs", json={"id": "v"}, headers=owner)).status_code == 201
        r = await http.post(
            "/api/docs/v/members", json={"user": "vic", "role": "viewer"}, headers=owner
        )
        assert r.status_code == 200, r.text
        room = await running.server.rooms.acquire("v")
        try:
            layer = room.edit(_principal(), lambda c: c.add_layer("Fill", proposal={"job_id": "j"}))
        finally:
            running.server.rooms.release("v")
        for action in ("accept", "discard", "rerun"):
            r = await http.post(f"/api/docs/v/layers/{layer}/{action}", headers=viewer)
            assert r.status_code == 403, (action, r.text)
        r = await http.post(f"/api/docs/v/layers/{layer}/accept", headers=owner)
        assert r.status_code == 200, r.text


def _principal() -> Principal:
    return Principal("seed", "Seed")


def _live_ids(running: RunningServer, doc: str) -> list[str]:
    room = running.server.rooms.rooms.get(doc)
    return [] if room is None else Canvas(room.doc).layer_ids()


def _history(running: RunningServer, doc: str) -> list[dict[str, Any]]:
    return Canvas(running.server.rooms.rooms[doc].doc).history()


def _quoted(name: str) -> str:
    return f"'{name[:60]}'"


def _layer_args(data: dict[str, Any]) -> dict[str, Any]:
    """GET /api/docs/{id}'s layer as Layer's arguments (strokes are counted there)."""
    return {k: v for k, v in data.items() if k != "strokes"}
