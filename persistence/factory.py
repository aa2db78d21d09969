"""Pick a :class:`Store` implementation from a URL (``DATABASE_URL``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from foundation.urls import redact_url
from persistence.base import Store

SUPPORTED_SCHEMES = (
    "memory://",
    "sqlite:///abs/path.db",
    "sqlite:relative/path.db",
    "postgresql://user@host:5432/db",
)


def store_from_url(url: str, **kwargs: Any) -> Store:
    """Build an unstarted store; ``kwargs`` go to its constructor (``keep_auto_snapshots``,
    and for Postgres ``schema``, ``min_size``, ``max_size``, ``migrate``, ...).

    - ``memory://`` → :class:`~persistence.memory.MemoryStore`
    - ``sqlite:///abs/path.db`` or ``sqlite:relative/path.db`` →
      :class:`~persistence.sqlite.SQLiteStore` (``sqlite::memory:`` for an in-memory database)
    - ``postgres://`` / ``postgresql://`` → :class:`~persistence.postgres.PostgresStore`
      (asyncpg is imported only then)
    """
    scheme, sep, rest = url.partition(":")
    scheme = scheme.lower()
    if not sep:
        scheme = ""
    if scheme == "memory" and rest in ("", "//"):
        from persistence.memory import MemoryStore

        return MemoryStore(**kwargs)
    if scheme == "sqlite":
        from persistence.sqlite import SQLiteStore

        return SQLiteStore(_sqlite_path(url, rest), **kwargs)
    if is_postgres_url(url):
        from persistence.postgres import PostgresStore

        return PostgresStore(url, **kwargs)
    raise ValueError(
        f"unsupported store URL {redact_url(url)!r}; supported: {', '.join(SUPPORTED_SCHEMES)}"
    )


def is_postgres_url(url: str) -> bool:
    return url.partition(":")[0].lower() in ("postgres", "postgresql")


def _sqlite_path(url: str, rest: str) -> str:
    if rest.startswith("//"):
        rest = rest[2:]
        if not rest.startswith("/"):  # sqlite://host/x: a host makes no sense for a file
            raise ValueError(
                f"bad SQLite URL {url!r}: use sqlite:///abs/path.db (three slashes) "
                "or sqlite:relative/path.db"
            )
    path = unquote(rest.split("?", 1)[0])
    if not path:
        raise ValueError(f"SQLite URL {url!r} names no file; e.g. sqlite:///abs/path.db")
    return path
