"""The ai_tasks contract, run against every Store implementation (see conftest.KINDS)."""

from __future__ import annotations

import dataclasses

import pytest

from persistence.base import Store, StoreNotStarted, TaskNotFound, TaskRecord
from tests.persistence.conftest import StoreFactory


def _task(task_id: str = "t1", **changes: object) -> TaskRecord:
    base = TaskRecord(
        id=task_id,
        doc_id="poster",
        type="generative_fill",
        status="queued",
        user_id="ann",
        prompt="a red sofa",
        params={"steps": 30, "seed": 7, "nested": {"ok": [1, 2.5, None, "x"]}},
        input_bytes=1234,
        created_at=1_700_000_000.25,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _same(a: TaskRecord, b: TaskRecord) -> None:
    """Equal, with times compared to the microsecond (Postgres keeps microseconds)."""
    times = ("created_at", "started_at", "finished_at")
    left, right = dataclasses.asdict(a), dataclasses.asdict(b)
    for name in times:
        x, y = left.pop(name), right.pop(name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x == pytest.approx(y, abs=1e-5), name
    assert left == right


async def test_record_then_get_round_trips_every_field(store: Store) -> None:
    record = _task()
    await store.record_task(record)
    _same(await store.get_task("t1"), record)
    with pytest.raises(TaskNotFound, match="'nope'"):
        await store.get_task("nope")


async def test_recording_again_replaces_the_row(store: Store) -> None:
    await store.record_task(_task())
    done = _task(
        status="done",
        model="opencv-telea",
        output_bytes=999,
        attempts=2,
        started_at=1_700_000_001.5,
        finished_at=1_700_000_003.0,
        latency_ms=2750.0,
        params={"backend": "fallback:opencv-telea"},
    )
    await store.record_task(done)
    await store.record_task(done)  # idempotent: a retried report records the same row
    _same(await store.get_task("t1"), done)
    assert len(await store.list_tasks()) == 1


async def test_a_final_status_is_never_replaced_by_a_running_one(store: Store) -> None:
    await store.record_task(_task(status="running", attempts=1))
    await store.record_task(_task(status="cancelled", attempts=1, error="cancelled by ann"))
    await store.record_task(_task(status="running", attempts=1))  # a late report
    assert (await store.get_task("t1")).status == "cancelled"
    await store.record_task(_task(status="failed", attempts=1, error="boom"))
    got = await store.get_task("t1")
    assert (got.status, got.error) == ("failed", "boom")


async def test_list_is_newest_first_filtered_and_paged(store: Store) -> None:
    for i in range(5):
        await store.record_task(_task(f"t{i}", doc_id="a" if i % 2 else "b", created_at=1000.0 + i))
    assert [t.id for t in await store.list_tasks()] == ["t4", "t3", "t2", "t1", "t0"]
    assert [t.id for t in await store.list_tasks(doc_id="a")] == ["t3", "t1"]
    assert [t.id for t in await store.list_tasks(limit=2, offset=1)] == ["t3", "t2"]
    assert await store.list_tasks(doc_id="none") == []
    with pytest.raises(ValueError, match="limit"):
        await store.list_tasks(limit=-1)


async def test_tasks_outlive_their_document(store: Store) -> None:
    await store.ensure_document("poster")
    await store.record_task(_task())
    await store.delete_document("poster")
    assert (await store.get_task("t1")).doc_id == "poster"


async def test_tasks_survive_a_restart(make_store: StoreFactory) -> None:
    async with make_store() as first:
        await first.record_task(_task())
    async with make_store() as second:
        if second.kind == "memory":
            pytest.skip("a memory store's data lives only as long as the object")
        _same(await second.get_task("t1"), _task())


async def test_calls_outside_start_stop_are_refused(make_store: StoreFactory) -> None:
    store = make_store()
    with pytest.raises(StoreNotStarted):
        await store.record_task(_task())
    with pytest.raises(StoreNotStarted):
        await store.list_tasks()
