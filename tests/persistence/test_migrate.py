"""The Postgres migration runner and the ``nexus-canvas migrate`` command."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from collab.cli import main
from persistence.migrate import LOCK_KEY, Migration, available_migrations, migrate
from persistence.postgres import migrate_url
from tests.support.services import require_postgres

TABLES = {
    "schema_migrations", "documents", "updates", "snapshots", "blobs", "ai_tasks",
    "users", "document_members", "share_links", "snapshot_fences",
}  # fmt: skip
ALL = [m.version for m in available_migrations()]


async def connect(url: str, schema: str) -> Any:
    return await asyncpg.connect(url, server_settings={"search_path": schema})


async def tables(conn: Any, schema: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
    )
    return {row["table_name"] for row in rows}


@pytest.fixture
async def conn(pg_schema: tuple[str, str]) -> AsyncIterator[Any]:
    url, schema = pg_schema
    connection = await connect(url, schema)
    try:
        yield connection
    finally:
        await connection.close()


def test_migrations_ship_in_order() -> None:
    migrations = available_migrations()
    versions = [m.version for m in migrations]
    assert versions[0] == "0001_initial"
    assert versions == sorted(versions)
    assert "CREATE TABLE documents" in migrations[0].sql


async def test_migrate_applies_once(pg_schema: tuple[str, str], conn: Any) -> None:
    _, schema = pg_schema
    assert await migrate(conn) == ALL
    assert await tables(conn, schema) == TABLES
    assert await migrate(conn) == []
    rows = await conn.fetch("SELECT version, applied_at FROM schema_migrations")
    assert [row["version"] for row in rows] == ALL


async def test_migrate_through_a_pool(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    async with asyncpg.create_pool(
        url, min_size=1, max_size=2, server_settings={"search_path": schema}
    ) as pool:
        assert await migrate(pool) == ALL
        assert await migrate(pool) == []


async def test_concurrent_runners_apply_each_migration_once(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    conns = [await connect(url, schema) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
    finally:
        for c in conns:
            await c.close()
    assert sorted(results) == [[], [], [], ALL]


async def test_a_failing_migration_leaves_the_earlier_ones(
    pg_schema: tuple[str, str], conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, schema = pg_schema
    broken = [
        *available_migrations(),
        Migration("9999_half", "CREATE TABLE half (x int); SELECT no_such_column FROM half;"),
    ]
    monkeypatch.setattr("persistence.migrate.available_migrations", lambda: broken)
    with pytest.raises(asyncpg.UndefinedColumnError):
        await migrate(conn)
    # The real ones committed; the broken one rolled back whole, its first statement included.
    assert await tables(conn, schema) == TABLES
    assert await conn.fetchval("SELECT array_agg(version) FROM schema_migrations") == ALL
    # The advisory lock was released.
    held = await conn.fetchval(
        "SELECT count(*) FROM pg_locks"
        " WHERE locktype = 'advisory' AND classid::bigint = $1 AND objid::bigint = $2",
        LOCK_KEY >> 32,
        LOCK_KEY & 0xFFFFFFFF,
    )
    assert held == 0


async def test_migrate_url_with_search_path_parameter(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    assert await migrate_url(f"{url}?search_path={schema}") == ALL
    assert await migrate_url(f"{url}?search_path={schema}") == []


# -- nexus-canvas migrate --------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("NEXUS_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def cli_database(clean_env: None) -> Iterator[str]:
    """A database URL whose ``search_path`` query parameter points at a fresh schema.

    The CLI runs its own event loop (asyncio.run), so these tests and fixtures are sync.
    """
    url = require_postgres()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    asyncio.run(_admin(url, f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}?search_path={schema}"
    finally:
        asyncio.run(_admin(url, f'DROP SCHEMA "{schema}" CASCADE'))


def test_cli_migrate_applies_then_reports_up_to_date(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--database-url", cli_database]) == 0
    assert capsys.readouterr().out == "".join(f"applied {v}\n" for v in ALL)
    assert main(["migrate", "--database-url", cli_database]) == 0
    assert "schema is up to date" in capsys.readouterr().out


def test_cli_migrate_reads_database_url(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", cli_database)
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == "".join(f"applied {v}\n" for v in ALL)


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["migrate"], "got none (the embedded SQLite store needs none)"),
        (["migrate", "--database-url", "sqlite:///tmp/x.db"], "got 'sqlite:///tmp/x.db'"),
        (["migrate", "--database-url", "memory://"], "got 'memory://'"),
    ],
)
def test_cli_migrate_needs_postgres(
    clean_env: None, argv: list[str], shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "needs a Postgres URL" in err
    assert shown in err


def test_cli_migrate_unreachable_server(
    clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--database-url", "postgresql://postgres:s3cret@127.0.0.1:1/db"]) == 2
    err = capsys.readouterr().err
    assert "127.0.0.1:1" in err
    assert "is unavailable" in err
    assert "s3cret" not in err


def test_cli_migrate_malformed_url(clean_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--database-url", "postgresql://u:pw@host:port/db"]) == 2
    err = capsys.readouterr().err
    assert "bad database URL 'postgresql://u:***@host:port/db'" in err
