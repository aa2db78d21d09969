from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from persistence import Store, store_from_url

StoreFactory = Callable[..., Store]

KINDS = ["memory", "sqlite"]


@pytest.fixture(params=KINDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds unstarted stores of one kind; SQLite ones share one file per test."""
    kind: str = request.param

    def make(**kwargs: object) -> Store:
        url = "memory://" if kind == "memory" else f"sqlite://{tmp_path / 'db' / 'store.db'}"
        return store_from_url(url, **kwargs)

    return make


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[Store]:
    async with make_store(keep_auto_snapshots=3) as s:
        yield s
