"""The access store that goes with a document store."""

from __future__ import annotations

from persistence.access.base import AccessStore
from persistence.base import Store


def access_for(store: Store) -> AccessStore:
    """The AccessStore sharing ``store``'s database (imports only what that store needs)."""
    if store.kind == "sqlite":
        from persistence.access.sqlite import SQLiteAccess
        from persistence.sqlite import SQLiteStore

        assert isinstance(store, SQLiteStore)
        return SQLiteAccess(store)
    if store.kind == "postgres":
        from persistence.access.postgres import PostgresAccess
        from persistence.postgres import PostgresStore

        assert isinstance(store, PostgresStore)
        return PostgresAccess(store)
    from persistence.access.memory import MemoryAccess

    return MemoryAccess(store)
