from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from persistence import Store, store_from_url
from tests.support.services import postgres_schema, require_postgres

StoreFactory = Callable[..., Store]

KINDS = ["memory", "sqlite", "postgres"]


@pytest.fixture
async def pg_schema() -> AsyncIterator[tuple[str, str]]:
    """``(url, schema)``: the test database and a schema of this test's own."""
    url = require_postgres()
    async with postgres_schema(url) as schema:
        yield url, schema


@pytest.fixture(params=KINDS)
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Builds unstarted stores of one kind; the stores of one test share their data (one
    SQLite file, one Postgres schema)."""
    kind: str = request.param
    if kind == "postgres":
        url = require_postgres()
        async with postgres_schema(url) as schema:
            yield lambda **kwargs: store_from_url(url, schema=schema, **kwargs)
        return
    url = "memory://" if kind == "memory" else f"sqlite://{tmp_path / 'db' / 'store.db'}"
    yield lambda **kwargs: store_from_url(url, **kwargs)


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[Store]:
    async with make_store(keep_auto_snapshots=3) as s:
        yield s
