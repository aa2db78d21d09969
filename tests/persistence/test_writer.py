from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import pytest

import persistence.writer as writer_module
from persistence import AlreadyStarted, GroupCommitWriter, MemoryStore, StoreNotStarted


class CountingStore(MemoryStore):
    """Records every append_updates call; the first ``failures`` calls raise."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.calls: list[list[tuple[str, bytes]]] = []
        self.attempts = 0
        self.failures = failures

    async def append_updates(self, items: Sequence[tuple[str, bytes]]) -> dict[str, int]:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError(f"store down (attempt {self.attempts})")
        self.calls.append(list(items))
        return await super().append_updates(items)


@pytest.fixture
async def store() -> AsyncIterator[CountingStore]:
    async with CountingStore() as s:
        yield s


async def log_of(store: MemoryStore, doc_id: str) -> list[bytes]:
    return (await store.load(doc_id)).updates


async def test_many_appends_make_one_commit(store: CountingStore) -> None:
    async with GroupCommitWriter(store, window=10) as writer:
        for i in range(500):
            writer.append("a" if i % 2 else "b", b"%d" % i)
        assert writer.pending == 500
        await writer.flush(timeout=5)
        assert writer.pending == 0
    assert len(store.calls) == 1
    assert await log_of(store, "a") == [b"%d" % i for i in range(1, 500, 2)]
    assert await log_of(store, "b") == [b"%d" % i for i in range(0, 500, 2)]


async def test_max_batch_splits_commits(store: CountingStore) -> None:
    async with GroupCommitWriter(store, window=10, max_batch=100) as writer:
        for i in range(450):
            writer.append("a", b"%d" % i)
        await writer.flush(timeout=5)
        assert writer.last_seq("a") == 450
    assert [len(c) for c in store.calls] == [100, 100, 100, 100, 50]
    assert await log_of(store, "a") == [b"%d" % i for i in range(450)]


async def test_full_batch_commits_without_flush(store: CountingStore) -> None:
    committed = asyncio.Event()
    async with GroupCommitWriter(
        store, window=60, max_batch=10, on_commit=lambda doc, seq: committed.set()
    ) as writer:
        for i in range(10):
            writer.append("a", b"%d" % i)
        await asyncio.wait_for(committed.wait(), timeout=5)
        assert writer.last_seq("a") == 10


async def test_commit_happens_within_the_window(store: CountingStore) -> None:
    commits: list[tuple[str, int]] = []
    committed = asyncio.Event()

    def on_commit(doc_id: str, last_seq: int) -> None:
        commits.append((doc_id, last_seq))
        committed.set()

    async with GroupCommitWriter(store, window=0.05, on_commit=on_commit) as writer:
        loop = asyncio.get_running_loop()
        started = loop.time()
        writer.append("a", b"1")
        writer.append("b", b"1")
        writer.append("a", b"2")
        await asyncio.wait_for(committed.wait(), timeout=5)
        elapsed = loop.time() - started
        assert 0.04 <= elapsed < 2
        assert commits == [("a", 2), ("b", 1)]
        assert (writer.last_seq("a"), writer.last_seq("b"), writer.last_seq("c")) == (2, 1, 0)
        assert writer.pending == 0
    assert len(store.calls) == 1


async def test_flush_commits_at_once_instead_of_waiting(store: CountingStore) -> None:
    async with GroupCommitWriter(store, window=3600) as writer:
        writer.append("a", b"1")
        await writer.flush("a", timeout=5)
        assert await log_of(store, "a") == [b"1"]
        # Nothing pending: flush returns at once, for a known or an unknown document.
        await writer.flush(timeout=0.001)
        await writer.flush("never-seen", timeout=0.001)


async def test_flush_of_one_document_does_not_wait_for_others() -> None:
    async with CountingStore(failures=10**9) as store:
        writer = GroupCommitWriter(store, window=3600, retry_backoff=0.001, retry_backoff_max=0.01)
        await writer.start()
        writer.append("b", b"1")
        await writer.flush("a", timeout=1)  # "a" has nothing pending
        with pytest.raises(TimeoutError, match=r"document 'b' not committed within 0\.05s"):
            await writer.flush("b", timeout=0.05)
        assert writer.pending == 1
        store.failures = 0  # the store recovers; the queued update is not lost
        await writer.flush("b", timeout=5)
        await writer.stop()
        assert await log_of(store, "b") == [b"1"]


async def test_retry_keeps_everything_in_order(
    store: CountingStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.failures = 5
    caplog.set_level(logging.WARNING, logger="persistence.writer")
    async with GroupCommitWriter(
        store, window=0, max_batch=4, retry_backoff=0.001, retry_backoff_max=0.005
    ) as writer:
        for i in range(6):
            writer.append("a", b"a%d" % i)
        writer.append("b", b"b0")
        waiter = asyncio.create_task(writer.flush(timeout=5))
        await asyncio.sleep(0)
        for i in range(6, 10):  # appended while the first batch is failing
            writer.append("a", b"a%d" % i)
        await waiter
        await writer.flush(timeout=5)
        assert writer.last_seq("a") == 10
    assert store.attempts == 5 + len(store.calls)
    assert await log_of(store, "a") == [b"a%d" % i for i in range(10)]
    assert await log_of(store, "b") == [b"b0"]
    # One error (with its stack) for the outage, warnings at retries 2 and 4 (not one line
    # per retry), and a warning when it is over.
    lines = [r for r in caplog.records if r.name == "persistence.writer"]
    levels = [r.levelname for r in lines]
    assert levels == ["ERROR", "WARNING", "WARNING", "WARNING"]
    assert "4 updates for docs ['a']" in lines[0].getMessage()
    assert "store down (attempt 1)" in lines[0].getMessage()
    assert lines[0].exc_info is not None
    assert getattr(lines[0], "doc_ids") == ["a"]  # noqa: B009 - set through `extra`
    assert [getattr(r, "attempt") for r in lines[1:3]] == [2, 4]  # noqa: B009
    assert "recovered after 6 attempts" in lines[3].getMessage()


async def test_a_long_outage_is_still_logged_every_so_often(
    store: CountingStore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the powers of two, a retry is logged when the last line is older than
    _RETRY_LOG_SECONDS (here 0: every retry)."""
    monkeypatch.setattr(writer_module, "_RETRY_LOG_SECONDS", 0.0)
    store.failures = 5
    caplog.set_level(logging.WARNING, logger="persistence.writer")
    async with GroupCommitWriter(
        store, window=0, retry_backoff=0.001, retry_backoff_max=0.002
    ) as writer:
        writer.append("a", b"a")
        await writer.flush(timeout=5)
    lines = [r for r in caplog.records if r.name == "persistence.writer"]
    assert [getattr(r, "attempt", None) for r in lines] == [1, 2, 3, 4, 5, None]


async def test_stop_flushes_pending_updates(store: CountingStore) -> None:
    writer = GroupCommitWriter(store, window=3600)
    await writer.start()
    for i in range(5):
        writer.append("a", b"%d" % i)
    await writer.stop()
    assert writer.pending == 0
    assert await log_of(store, "a") == [b"%d" % i for i in range(5)]
    await writer.stop()  # idempotent


async def test_stop_bounded_by_timeout_drops_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    async with CountingStore(failures=10**9) as store:
        writer = GroupCommitWriter(store, window=0, retry_backoff=0.001, retry_backoff_max=0.01)
        await writer.start()
        writer.append("a", b"1")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await writer.stop()
        assert writer.pending == 0
        assert "stopped with 1 uncommitted updates for docs ['a']" in caplog.text
        await writer.flush(timeout=0.01)  # nothing left to wait for


async def test_lifecycle_errors(store: CountingStore) -> None:
    writer = GroupCommitWriter(store)
    with pytest.raises(StoreNotStarted, match="GroupCommitWriter"):
        writer.append("a", b"1")
    async with writer:
        with pytest.raises(AlreadyStarted, match="GroupCommitWriter"):
            await writer.start()
    with pytest.raises(StoreNotStarted):
        writer.append("a", b"1")


async def test_on_commit_errors_do_not_stop_the_writer(
    store: CountingStore, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(doc_id: str, last_seq: int) -> None:
        raise RuntimeError("metrics down")

    async with GroupCommitWriter(store, window=0, on_commit=broken) as writer:
        writer.append("a", b"1")
        await writer.flush(timeout=5)
        writer.append("a", b"2")
        await writer.flush(timeout=5)
    assert await log_of(store, "a") == [b"1", b"2"]
    assert "on_commit callback failed for document 'a'" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"window": -1}, "window must be >= 0 seconds, got -1"), ({"max_batch": 0}, "got 0")],
)
def test_bad_arguments(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GroupCommitWriter(MemoryStore(), **kwargs)  # type: ignore[arg-type]


async def test_buffer_is_bounded_while_the_store_is_down_and_nothing_is_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pycrdt import Doc, Map

    caplog.set_level(logging.WARNING, logger="persistence.writer")
    async with CountingStore(failures=10**9) as store:
        writer = GroupCommitWriter(
            store, window=0, max_batch=50, retry_backoff=0.01, retry_backoff_max=0.02,
            max_pending=100,
        )  # fmt: skip
        async with writer:
            docs = {name: Doc() for name in ("a", "b", "c")}
            for name, doc in docs.items():
                doc.observe(lambda event, name=name: writer.append(name, event.update))
            for i in range(3000):  # far more than max_pending, while every commit fails
                name = "abc"[i % 3]
                docs[name].get("meta", type=Map)[f"k{i}"] = i
                if i % 100 == 0:
                    await asyncio.sleep(0)
            assert writer.failing and writer.last_error is not None
            assert writer.pending <= 2 * 100 + 50  # bounded, not 3000
            assert writer.compactions > 0
            store.failures = 0  # the store comes back
            await writer.flush(timeout=10)
            assert not writer.failing
        for name, doc in docs.items():
            replica: Doc = Doc()
            for update in await log_of(store, name):
                replica.apply_update(update)
            assert replica.get("meta", type=Map).to_py() == doc.get("meta", type=Map).to_py()
    assert any("merged" in r.getMessage() for r in caplog.records)
