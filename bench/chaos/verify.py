"""The end-of-run checks: the painters converged, every instance serves the same document,
the documents loaded fresh from Postgres hold every edit, every job ended once with one layer,
and no instance kept a room or a connection after the clients left."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from pycrdt import Array, Doc, Map

from bench.chaos.jobs import Submission
from bench.chaos.ledger import Edit, Ledger, decode_state_vector
from bench.chaos.painters import Painter
from bench.chaos.topology import Instance
from canvasdoc.canvas import Canvas
from client import CanvasClient
from persistence.postgres import PostgresStore


def fingerprint(doc: Doc[Any]) -> str:
    """A digest of what a user sees (meta, layers, history) and of the job board."""
    view = {"canvas": Canvas(doc).to_dict(), "jobs": doc.get("jobs", type=Map).to_py() or {}}
    return hashlib.sha256(json.dumps(view, sort_keys=True, default=repr).encode()).hexdigest()


def replica_state(doc: Doc[Any]) -> tuple[dict[int, int], str]:
    return decode_state_vector(doc.get_state()), fingerprint(doc)


def _painters_agree(painters: Sequence[Painter]) -> bool:
    by_doc: dict[str, list[Painter]] = {}
    for painter in painters:
        if not painter.client.synced:
            return False
        by_doc.setdefault(painter.doc_id, []).append(painter)
    for group in by_doc.values():
        first = replica_state(group[0].client.doc)
        if any(replica_state(p.client.doc) != first for p in group[1:]):
            return False
    return True


async def wait_painters_converged(painters: Sequence[Painter], timeout: float) -> float | None:
    """Seconds until every painter is connected and identical to the painters of its
    document (None: not within ``timeout``)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            while not _painters_agree(painters):
                await asyncio.sleep(0.2)
    except TimeoutError:
        return None
    return time.monotonic() - started


async def instance_mismatches(
    instances: Sequence[Instance], expected: dict[str, tuple[dict[int, int], str]], wait: float
) -> list[str]:
    """Connect a fresh replica to every instance for every document; each must become
    identical to ``expected`` within ``wait`` seconds (an instance that had unloaded the room
    loads it again from Postgres and its peers)."""
    problems: list[str] = []

    async def check(instance: Instance, doc_id: str) -> None:
        want = expected[doc_id]
        checker = CanvasClient(f"ws://127.0.0.1:{instance.port}", doc_id, user="checker")
        try:
            await checker.start()
            await checker.wait_synced(timeout=wait)
            try:
                await checker.wait_for(lambda: replica_state(checker.doc) == want, timeout=wait)
            except TimeoutError:
                got = replica_state(checker.doc)
                problems.append(
                    f"{instance.name} serves {doc_id} differently: state {got[0]} vs "
                    f"{want[0]}, content {'same' if got[1] == want[1] else 'differs'}"
                )
        except (TimeoutError, ConnectionError) as exc:
            problems.append(f"{instance.name} did not serve {doc_id}: {exc}")
        finally:
            await checker.stop()

    await asyncio.gather(*(check(i, d) for i in instances for d in expected))
    return problems


async def load_fresh(database_url: str, schema: str, doc_ids: Sequence[str]) -> dict[str, Doc[Any]]:
    """Each document as a new instance would load it: latest snapshot plus the log tail."""
    docs: dict[str, Doc[Any]] = {}
    async with PostgresStore(database_url, schema=schema, migrate=False, max_size=2) as store:
        for doc_id in doc_ids:
            loaded = await store.load(doc_id)
            doc: Doc[Any] = Doc()
            if loaded.snapshot is not None:
                doc.apply_update(loaded.snapshot)
            for update in loaded.updates:
                doc.apply_update(update)
            docs[doc_id] = doc
    return docs


def missing_edits(ledger: Ledger, docs: dict[str, Doc[Any]]) -> list[Edit]:
    """The edits a document does not hold: its layer, or the point it wrote on its stroke."""
    present: dict[str, tuple[set[str], set[tuple[str, str, float]]]] = {}
    for doc_id, doc in docs.items():
        layers = Canvas(doc).read_layers()
        points = {
            (layer.id, stroke.id, stroke.points[i])
            for layer in layers
            for stroke in layer.strokes
            for i in range(0, len(stroke.points) - 1, 2)
        }
        present[doc_id] = ({layer.id for layer in layers}, points)
    missing: list[Edit] = []
    for edit in ledger.edits:
        layer_ids, points = present.get(edit.doc_id, (set(), set()))
        if edit.kind == "layer":
            found = edit.layer_id in layer_ids
        else:
            assert edit.stroke_id is not None
            found = (edit.layer_id, edit.stroke_id, float(edit.seq)) in points
        if not found:
            missing.append(edit)
    return missing


def layer_copies(doc: Doc[Any], layer_id: str) -> int:
    """Entries of the raw layers array with this id (readers would show one of them)."""
    layers = doc.get("layers", type=Array)
    return sum(1 for item in layers if isinstance(item, Map) and item.get("id") == layer_id)


async def task_states(database_url: str, schema: str) -> dict[str, str]:
    """``ai_tasks``: job id -> status, as the instances recorded them."""
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        rows = await conn.fetch("SELECT id, status FROM ai_tasks")
    finally:
        await conn.close()
    return {row["id"]: row["status"] for row in rows}


def job_problems(
    submissions: Sequence[Submission], docs: dict[str, Doc[Any]], tasks: dict[str, str]
) -> list[str]:
    """Each accepted job ended done, with exactly one layer, recorded done in ai_tasks."""
    problems: list[str] = []
    for sub in submissions:
        copies = layer_copies(docs[sub.doc_id], f"ai-{sub.job_id}")
        if sub.state != "done":
            problems.append(f"job {sub.job_id} ({sub.kind}) ended {sub.state}: {sub.error}")
        if copies != (1 if sub.state == "done" else 0):
            problems.append(f"job {sub.job_id} ({sub.state}) has {copies} layers in Postgres")
        if tasks.get(sub.job_id) != sub.state:
            problems.append(
                f"job {sub.job_id}: ai_tasks says {tasks.get(sub.job_id)}, the API {sub.state}"
            )
    return problems


def unknown_job_layers(submissions: Sequence[Submission], docs: dict[str, Doc[Any]]) -> list[str]:
    """AI layers of jobs the run never saw accepted (a submission whose answer was lost)."""
    known = {f"ai-{sub.job_id}" for sub in submissions}
    return [
        f"{doc_id}/{layer.id}"
        for doc_id, doc in docs.items()
        for layer in Canvas(doc).read_layers()
        if layer.id.startswith("ai-") and layer.id not in known
    ]


async def leaked(instances: Sequence[Instance], timeout: float) -> dict[str, dict[str, int]]:
    """Rooms and connections each instance still has once ``timeout`` has passed without
    them all reaching zero (an empty dict: none left anywhere)."""
    last: dict[str, dict[str, int]] = {}
    deadline = time.monotonic() + timeout
    while True:
        last = {}
        for instance in instances:
            health = await instance.health()
            counts = {"rooms": int(health["rooms"]), "connections": int(health["connections"])}
            counts["pending_updates"] = int(health.get("pending_updates", 0))
            if any(counts.values()):
                last[instance.name] = counts
        if not last or time.monotonic() > deadline:
            return last
        await asyncio.sleep(0.5)
