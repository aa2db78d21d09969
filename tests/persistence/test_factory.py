from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from persistence import MemoryStore, SQLiteStore, store_from_url
from persistence.postgres import PostgresStore


def test_memory_url() -> None:
    store = store_from_url("memory://")
    assert isinstance(store, MemoryStore)
    assert store.kind == "memory"


def test_kwargs_reach_the_constructor() -> None:
    assert store_from_url("memory://", keep_auto_snapshots=7).keep_auto_snapshots == 7
    store = store_from_url("sqlite:///tmp/x.db", keep_auto_snapshots=2)
    assert store.keep_auto_snapshots == 2


def test_sqlite_absolute_url(tmp_path: Path) -> None:
    store = store_from_url(f"sqlite://{tmp_path}/canvas.db")
    assert isinstance(store, SQLiteStore)
    assert store.kind == "sqlite"
    assert store.path == tmp_path / "canvas.db"


def test_sqlite_relative_url() -> None:
    store = store_from_url("sqlite:data/canvas.db")
    assert isinstance(store, SQLiteStore)
    assert store.path == Path("data/canvas.db")
    assert not store.path.is_absolute()


def test_sqlite_url_is_percent_decoded() -> None:
    store = store_from_url("sqlite:///tmp/my%20canvas.db")
    assert isinstance(store, SQLiteStore)
    assert store.path == Path("/tmp/my canvas.db")


@pytest.mark.parametrize("url", ["sqlite:", "sqlite://", "sqlite://host/x.db"])
def test_bad_sqlite_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite:///abs/path\.db"):
        store_from_url(url)


async def test_sqlite_url_creates_parent_dirs(tmp_path: Path) -> None:
    async with store_from_url(f"sqlite://{tmp_path}/a/b/canvas.db") as store:
        await store.append_updates([("d", b"1")])
    assert (tmp_path / "a" / "b" / "canvas.db").exists()


async def test_sqlite_relative_url_is_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with store_from_url("sqlite:rel/canvas.db") as store:
        await store.ensure_document("d")
    assert (tmp_path / "rel" / "canvas.db").exists()


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "PostgreSQL"])
def test_postgres_url(scheme: str) -> None:
    url = f"{scheme}://canvas:s3cret@db:5432/canvas"
    store = store_from_url(url, keep_auto_snapshots=4, schema="tenant1", max_size=3)
    assert isinstance(store, PostgresStore)
    assert store.kind == "postgres"
    assert store.url == url
    assert (store.keep_auto_snapshots, store.schema, store.max_size) == (4, "tenant1", 3)
    assert "s3cret" not in repr(store)
    assert "canvas:***@db:5432" in repr(store)


def test_only_the_postgres_branch_imports_asyncpg() -> None:
    code = (
        "import sys; from persistence import store_from_url; "
        "store_from_url('memory://'); store_from_url('sqlite:///tmp/x.db'); "
        "assert 'asyncpg' not in sys.modules, 'imported early'; "
        "store_from_url('postgresql://h/db'); assert 'asyncpg' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("url", ["redis://localhost", "file:///tmp/x", "canvas.db", ""])
def test_unknown_scheme(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported store URL") as info:
        store_from_url(url)
    assert repr(url) in str(info.value)
    assert "memory://" in str(info.value)
    assert "sqlite:///" in str(info.value)
    assert "postgresql://" in str(info.value)
