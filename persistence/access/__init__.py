"""Who may do what: accounts, document members and share links.

One small interface (``AccessStore``) with implementations beside each Store: they reuse the
store's connection (SQLite's worker thread, Postgres' pool), so access data lives in the same
database as the documents it protects.
"""

from persistence.access.base import (
    AccessStore,
    DuplicateUser,
    LinkNotFound,
    ShareLink,
    UserNotFound,
    UserRecord,
)
from persistence.access.factory import access_for

__all__ = [
    "AccessStore",
    "DuplicateUser",
    "LinkNotFound",
    "ShareLink",
    "UserNotFound",
    "UserRecord",
    "access_for",
]
