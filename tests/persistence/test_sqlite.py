"""SQLite-only behaviour: the file survives reopening and the process being killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from persistence import SQLiteStore, StoreError

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "canvas.db"
    async with SQLiteStore(path) as store:
        await store.append_updates([("a", b"1"), ("a", b"2"), ("a", b"3")])
        snapshot_id = await store.write_snapshot("a", b"s2", up_to_seq=2, label="v1")
    async with SQLiteStore(path) as reopened:
        loaded = await reopened.load("a")
        assert (loaded.snapshot, loaded.snapshot_seq, loaded.updates) == (b"s2", 2, [b"3"])
        assert await reopened.read_snapshot("a", snapshot_id) == b"s2"
        assert await reopened.append_updates([("a", b"4")]) == {"a": 4}


async def test_uses_wal_and_one_worker_thread(tmp_path: Path) -> None:
    before = {t.name for t in threading.enumerate()}
    async with SQLiteStore(tmp_path / "canvas.db") as store:
        await store.ensure_document("a")
        workers = {t.name for t in threading.enumerate()} - before
        assert len([n for n in workers if n.startswith("sqlite-store")]) == 1
    assert not {t.name for t in threading.enumerate()} - before
    with sqlite3.connect(tmp_path / "canvas.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_in_memory_database() -> None:
    async with SQLiteStore(":memory:") as store:
        await store.append_updates([("a", b"1")])
        assert (await store.load("a")).updates == [b"1"]


async def test_failed_start_releases_the_thread(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    store = SQLiteStore(blocker / "canvas.db")
    before = set(threading.enumerate())
    with pytest.raises(OSError):
        await store.start()
    assert set(threading.enumerate()) == before
    assert not store.started


async def test_sqlite_errors_become_store_errors(tmp_path: Path) -> None:
    path = tmp_path / "canvas.db"
    async with SQLiteStore(path) as store:
        await store.ensure_document("a")
        with sqlite3.connect(path) as other:
            other.execute("DROP TABLE updates")
        other.close()
        with pytest.raises(StoreError, match="no such table: updates"):
            await store.append_updates([("a", b"1")])


_CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from persistence import SQLiteStore

    async def main():
        store = SQLiteStore(sys.argv[1])
        await store.start()
        last = {}
        for i in range(20):
            last = await store.append_updates([("a", b"a%d" % i), ("b", b"b%d" % i)])
        await store.write_snapshot("a", b"snap", up_to_seq=10)
        last = await store.append_updates([("a", b"after")])
        print("ok", last["a"], flush=True)
        time.sleep(120)  # never closes the store: the parent kills us here

    asyncio.run(main())
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
async def test_committed_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "canvas.db"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        str(path),
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        assert line.split() == [b"ok", b"21"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        await proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / "canvas.db-wal").exists()  # never checkpointed by a clean close

    async with SQLiteStore(path) as store:
        a = await store.load("a")
        assert (a.snapshot, a.snapshot_seq, a.last_seq) == (b"snap", 10, 21)
        assert a.updates == [b"a%d" % i for i in range(10, 20)] + [b"after"]
        b = await store.load("b")
        assert b.updates == [b"b%d" % i for i in range(20)]
