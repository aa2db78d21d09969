"""Real Redis and Postgres for the tests that cover them.

Under CI (``CI`` set) a missing service is a loud failure; on a laptop without it the test is
skipped with the reason. Addresses come from ``TEST_REDIS_URL`` / ``TEST_DATABASE_URL``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _require(name: str, url: str, default_port: int) -> str:
    if _reachable(url, default_port):
        return url
    message = f"{name} is not reachable at {url}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: required under CI (.ci/run starts it)", pytrace=False)
    pytest.skip(f"{message}; start it (see docs/operations.md) to run this test")


def require_redis() -> str:
    return _require("Redis", REDIS_URL, 6379)


def require_postgres() -> str:
    return _require("Postgres", DATABASE_URL, 5432)


@asynccontextmanager
async def postgres_schema(url: str) -> AsyncIterator[str]:
    """A fresh, empty schema for one test, dropped with everything in it afterwards."""
    import asyncpg

    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE SCHEMA "{name}"')
        try:
            yield name
        finally:
            await admin.execute(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        await admin.close()
