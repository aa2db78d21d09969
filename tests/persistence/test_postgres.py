"""PostgresStore beyond the shared contract: round trips, pools, connection failures."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from persistence import GroupCommitWriter, StoreError, StoreUnavailable
from persistence.postgres import PostgresStore
from tests.support.services import require_postgres

UNREACHABLE = "postgresql://postgres:s3cret@127.0.0.1:1/test"


async def wait_for_value(
    read: Callable[[], Awaitable[object]], expected: object, timeout: float = 10.0
) -> None:
    """Poll ``read`` until it returns ``expected`` (database state has no event to wait on)."""
    async with asyncio.timeout(timeout):
        while await read() != expected:
            await asyncio.sleep(0.02)


@pytest.fixture
async def admin(pg_schema: tuple[str, str]) -> AsyncIterator[Any]:
    """A connection of the test's own, on the test's schema."""
    url, schema = pg_schema
    conn = await asyncpg.connect(url, server_settings={"search_path": schema})
    try:
        yield conn
    finally:
        await conn.close()


def app_name() -> str:
    return f"nexus-test-{uuid.uuid4().hex[:12]}"


async def backends(admin: Any, application_name: str) -> int:
    count: int = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", application_name
    )
    return count


# -- round trips ------------------------------------------------------------------------------


async def test_append_updates_is_one_statement_per_batch(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    async with PostgresStore(url, schema=schema, min_size=1, max_size=1) as store:
        assert store.pool is not None
        queries: list[str] = []
        async with store.pool.acquire() as conn:  # the pool's only connection
            conn.add_query_logger(lambda record: queries.append(record.query))

        async def statements(call: Awaitable[object]) -> list[str]:
            queries.clear()
            await call
            await asyncio.sleep(0)  # query loggers are called soon, not at once
            return list(queries)

        # A connection's first use of the statement also fills asyncpg's caches (prepared
        # statement, bytea[] type introspection); from then on a batch is one statement.
        await store.append_updates([("warm-up", b"")])
        await store.load("warm-up")
        small = [("a", b"1"), ("b", b"1"), ("a", b"2")]
        big = [(f"doc{i % 50}", b"u%d" % i) for i in range(1000)]
        for batch in (small, big, small):
            executed = await statements(store.append_updates(batch))
            assert len(executed) == 1, executed  # no per-document or per-row statements
            assert "unnest" in executed[0]
        assert len(await statements(store.load("doc7"))) == 1
        # Releasing the connection to the pool costs no extra query either (no RESET ALL).
        assert len(await statements(store.get_document("a"))) == 1
        assert (await store.load("doc7")).updates == [b"u%d" % i for i in range(7, 1000, 50)]
        assert await store.append_updates([("a", b"3")]) == {"a": 5}


# -- pools and lifecycle ---------------------------------------------------------------------


async def test_injected_pool_is_used_and_not_closed(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    pool = await asyncpg.create_pool(
        url, min_size=1, max_size=2, server_settings={"search_path": schema}
    )
    try:
        store = PostgresStore(pool=pool, keep_auto_snapshots=2)
        assert repr(store) == "PostgresStore(pool=<injected>)"
        async with store:
            assert store.pool is pool
            await store.append_updates([("a", b"1")])
        assert store.pool is None
        assert not pool.is_closing()
        assert await pool.fetchval("SELECT count(*) FROM updates") == 1
        async with store:  # restartable on the same pool
            assert (await store.load("a")).updates == [b"1"]
    finally:
        await pool.close()


async def test_owned_pool_is_closed_on_stop(pg_schema: tuple[str, str], admin: Any) -> None:
    url, schema = pg_schema
    name = app_name()
    store = PostgresStore(
        url, schema=schema, min_size=2, server_settings={"application_name": name}
    )
    async with store:
        assert await backends(admin, name) == 2
    await wait_for_value(lambda: backends(admin, name), 0)


async def test_failed_start_closes_the_owned_pool(pg_schema: tuple[str, str], admin: Any) -> None:
    url, _ = pg_schema
    name = app_name()
    # The migration cannot create tables in a schema that does not exist: start fails after
    # the pool is up.
    store = PostgresStore(
        url, schema="no_such_schema", min_size=2, server_settings={"application_name": name}
    )
    with pytest.raises(StoreError, match="no schema has been selected") as info:
        await store.start()
    assert not isinstance(info.value, StoreUnavailable)
    assert not store.started
    assert store.pool is None
    await wait_for_value(lambda: backends(admin, name), 0)


async def test_unreachable_server_raises_store_unavailable() -> None:
    store = PostgresStore(UNREACHABLE, connect_timeout=5)
    with pytest.raises(StoreUnavailable) as info:
        await store.start()
    message = str(info.value)
    assert "127.0.0.1:1" in message
    assert "s3cret" not in message
    assert "postgres:***@" in message
    assert "ConnectionRefusedError" in message
    assert info.value.target == "Postgres at postgresql://postgres:***@127.0.0.1:1/test"
    assert isinstance(info.value.__cause__, OSError)
    assert not store.started
    await store.stop()  # nothing to release


async def test_unknown_database_is_unavailable() -> None:
    url = urlsplit(require_postgres())._replace(path="/no_such_database_here").geturl()
    store = PostgresStore(url)
    with pytest.raises(StoreUnavailable, match='database "no_such_database_here" does not exist'):
        await store.start()


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="exactly one of url or pool"):
        PostgresStore()
    with pytest.raises(ValueError, match="set them on the injected pool"):
        PostgresStore(pool=object(), schema="s")
    with pytest.raises(ValueError, match=r"max_size must be >= max\(1, min_size=5\), got 2"):
        PostgresStore("postgresql://h/db", min_size=5, max_size=2)
    with pytest.raises(ValueError, match="keep_auto_snapshots must be >= 1, got 0"):
        PostgresStore("postgresql://h/db", keep_auto_snapshots=0)


def test_session_settings() -> None:
    store = PostgresStore("postgresql://h/db", schema='we"ird')
    assert store.session_settings == {
        "application_name": "nexus-canvas",
        "search_path": '"we""ird"',
    }
    named = PostgresStore("postgresql://h/db?application_name=eu1")
    assert "application_name" not in named.session_settings  # the URL's wins
    explicit = PostgresStore("postgresql://h/db", server_settings={"application_name": "x"})
    assert explicit.session_settings == {"application_name": "x"}


async def test_schema_isolates_stores(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    async with PostgresStore(url, schema=schema) as store:
        await store.append_updates([("a", b"1")])
        assert store.pool is not None
        assert await store.pool.fetchval("SELECT current_schema()") == schema


# -- the group-commit writer over Postgres -------------------------------------------------------


class CountingPostgresStore(PostgresStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.failures: list[StoreError] = []

    async def append_updates(self, items: Sequence[tuple[str, bytes]]) -> dict[str, int]:
        self.calls += 1
        try:
            return await super().append_updates(items)
        except StoreError as exc:
            self.failures.append(exc)
            raise


async def test_writer_batches_and_survives_terminated_connections(
    pg_schema: tuple[str, str], admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url, schema = pg_schema
    name = app_name()
    caplog.set_level(logging.ERROR, logger="persistence.writer")
    store = CountingPostgresStore(
        url, schema=schema, max_size=2, server_settings={"application_name": name}
    )
    async with (
        store,
        GroupCommitWriter(store, window=3600, retry_backoff=0.01, retry_backoff_max=0.1) as writer,
    ):
        for i in range(200):
            writer.append("a" if i % 2 else "b", b"%d" % i)
        await writer.flush(timeout=10)
        assert store.calls == 1  # 200 appends, one commit

        # Hold document a's row, so that the next commit blocks inside the database, then
        # terminate the store's connections under it.
        lock = admin.transaction()
        await lock.start()
        await admin.execute("SELECT 1 FROM documents WHERE id = 'a' FOR UPDATE")
        writer.append("a", b"late-a")
        writer.append("b", b"late-b")
        flushed = asyncio.create_task(writer.flush(timeout=30))

        async def waiting_on_the_lock() -> int:
            count: int = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = $1 AND wait_event_type = 'Lock'",
                name,
            )
            return count

        await wait_for_value(waiting_on_the_lock, 1)
        killed = await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = $1",
            name,
        )
        assert len(killed) >= 1
        await lock.rollback()
        await flushed  # the writer retried on a fresh connection

        assert store.failures, "the commit in flight should have failed"
        assert all(isinstance(exc, StoreUnavailable) for exc in store.failures)
        assert store.calls == 2 + len(store.failures)
        assert writer.last_seq("a") == 101
        assert writer.last_seq("b") == 101
    assert "StoreUnavailable" in caplog.text

    async with PostgresStore(url, schema=schema) as check:
        a = await check.load("a")
        b = await check.load("b")
    # Nothing lost, nothing doubled: the failed attempt was rolled back with its connection.
    assert a.updates == [b"%d" % i for i in range(1, 200, 2)] + [b"late-a"]
    assert b.updates == [b"%d" % i for i in range(0, 200, 2)] + [b"late-b"]
    assert (a.last_seq, b.last_seq) == (101, 101)
