"""A tiny migration runner for the Postgres schema.

Migrations are the numbered files ``persistence/migrations/postgres/NNNN_name.sql`` (package
data, read with :mod:`importlib.resources`); the version of a file is its name without
``.sql``. Applied versions are recorded in ``schema_migrations``. Each pending file runs in its
own transaction, in number order, so a failing migration leaves the ones before it applied and
nothing of itself. A session-level advisory lock serializes runners: instances starting at
once wait for each other, and the later ones find nothing left to apply.

Tables are created in the connection's ``search_path`` (its first schema). A migration must
be able to run inside a transaction (no ``CREATE INDEX CONCURRENTLY``).

This module knows asyncpg only, not the store: :class:`~persistence.postgres.PostgresStore`
calls :func:`migrate` at start, and :func:`~persistence.postgres.migrate_url` migrates a
database by URL.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg  # type: ignore[import-untyped]

MIGRATIONS_PACKAGE = "persistence.migrations"
DIALECT = "postgres"

# One key for every runner in the database; bigint-sized, derived from a readable tag.
LOCK_KEY = int.from_bytes(b"nx-migr8", "big")

_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: str  # file name without ".sql", e.g. "0001_initial"
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration file shipped with the package, in number order."""
    folder = resources.files(MIGRATIONS_PACKAGE).joinpath(DIALECT)
    found: dict[str, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise ValueError(
                f"bad migration file name {entry.name!r}: expected NNNN_lowercase_name.sql"
            )
        number = match.group(1)
        if number in found:
            raise ValueError(
                f"migrations {found[number].version!r} and {entry.name!r} share number {number}"
            )
        found[number] = Migration(entry.name.removesuffix(".sql"), entry.read_text("utf-8"))
    return [found[number] for number in sorted(found)]


async def migrate(target: Any) -> list[str]:
    """Apply the pending migrations through ``target`` (an asyncpg connection or pool).

    Returns the versions applied, oldest first (empty when the schema is up to date).
    asyncpg errors propagate unchanged; :class:`~persistence.postgres.PostgresStore` (and
    with it :func:`~persistence.postgres.migrate_url`) translates them into
    :class:`~persistence.errors.StoreError`.
    """
    if isinstance(target, asyncpg.Pool):
        async with target.acquire() as conn:
            return await _migrate(conn)
    return await _migrate(target)


async def _migrate(conn: Any) -> list[str]:
    pending = available_migrations()
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        rows = await conn.fetch("SELECT version FROM schema_migrations")
        done = {row["version"] for row in rows}
        applied: list[str] = []
        for migration in pending:
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)", migration.version
                )
            applied.append(migration.version)
        return applied
    finally:
        # A broken session has released its lock with it; don't mask the original error.
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            if not conn.is_closed():
                await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
