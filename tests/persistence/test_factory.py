from __future__ import annotations

from pathlib import Path

import pytest

from persistence import MemoryStore, SQLiteStore, StoreError, store_from_url


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


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_is_not_there_yet(scheme: str) -> None:
    with pytest.raises(StoreError, match="scale-out") as info:
        store_from_url(f"{scheme}://canvas:s3cret@db:5432/canvas")
    assert "s3cret" not in str(info.value)
    assert "canvas:***@db:5432" in str(info.value)


@pytest.mark.parametrize("url", ["redis://localhost", "file:///tmp/x", "canvas.db", ""])
def test_unknown_scheme(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported store URL") as info:
        store_from_url(url)
    assert repr(url) in str(info.value)
    assert "memory://" in str(info.value)
    assert "sqlite:///" in str(info.value)
