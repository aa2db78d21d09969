"""Access store on the SQLite store's connection and worker thread."""

from __future__ import annotations

import sqlite3

from persistence._checks import check_page
from persistence.access.base import (
    AccessStore,
    DuplicateUser,
    LinkNotFound,
    ShareLink,
    UserNotFound,
    UserRecord,
    check_role,
)
from persistence.documents import DocumentKey
from persistence.records import DocumentRecord
from persistence.sqlite import _DOC_COLUMNS, SQLiteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS document_members (
    doc_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (doc_id, user_id)
);
CREATE INDEX IF NOT EXISTS document_members_user ON document_members (user_id, doc_id);
CREATE TABLE IF NOT EXISTS share_links (
    id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL
);
CREATE INDEX IF NOT EXISTS share_links_doc ON share_links (doc_id, created_at);
"""
_LINK_COLUMNS = "id, doc_id, role, created_by, created_at, expires_at, revoked_at"
# Walks documents in key order (index documents_created), probing the members' primary key.
_VISIBLE = (
    f"SELECT {_DOC_COLUMNS} FROM documents WHERE (owner = ? OR EXISTS ("
    "SELECT 1 FROM document_members m WHERE m.doc_id = documents.id AND m.user_id = ?))"
)


class SQLiteAccess(AccessStore):
    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    async def prepare(self) -> None:
        await self._store.run(lambda conn: conn.executescript(_SCHEMA))

    async def create_user(self, user: UserRecord) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO users (id, name, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (user.id, user.name, user.password_hash, user.created_at),
                )
            except sqlite3.IntegrityError:
                raise DuplicateUser(user.name) from None

        await self._store.run(insert)

    async def _user(self, column: str, value: str) -> UserRecord:
        def select(conn: sqlite3.Connection) -> tuple[str, str, str, float] | None:
            row = conn.execute(
                f"SELECT id, name, password_hash, created_at FROM users WHERE {column} = ?",
                (value,),
            ).fetchone()
            return None if row is None else (row[0], row[1], row[2], row[3])

        row = await self._store.run(select)
        if row is None:
            raise UserNotFound(value)
        return UserRecord(*row)

    async def user_by_name(self, name: str) -> UserRecord:
        return await self._user("name", name)

    async def user_by_id(self, user_id: str) -> UserRecord:
        return await self._user("id", user_id)

    async def set_role(self, doc_id: str, user_id: str, role: str) -> None:
        check_role(role)
        await self._store.run(
            lambda conn: conn.execute(
                "INSERT INTO document_members (doc_id, user_id, role) VALUES (?, ?, ?) "
                "ON CONFLICT (doc_id, user_id) DO UPDATE SET role = excluded.role",
                (doc_id, user_id, role),
            )
        )

    async def remove_member(self, doc_id: str, user_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "DELETE FROM document_members WHERE doc_id = ? AND user_id = ?", (doc_id, user_id)
            )
            return cur.rowcount > 0

        return await self._store.run(delete)

    async def role_of(self, doc_id: str, user_id: str) -> str | None:
        def select(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT role FROM document_members WHERE doc_id = ? AND user_id = ?",
                (doc_id, user_id),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._store.run(select)

    async def members(self, doc_id: str) -> dict[str, str]:
        def select(conn: sqlite3.Connection) -> dict[str, str]:
            rows = conn.execute(
                "SELECT user_id, role FROM document_members WHERE doc_id = ? ORDER BY user_id",
                (doc_id,),
            ).fetchall()
            return {str(u): str(r) for u, r in rows}

        return await self._store.run(select)

    async def visible_documents(
        self,
        user_id: str,
        *,
        after: DocumentKey | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DocumentRecord]:
        check_page(limit, offset)
        keyset, key = ("", ()) if after is None else (" AND (created_at, id) > (?, ?)", after)

        def select(conn: sqlite3.Connection) -> list[DocumentRecord]:
            rows = conn.execute(
                f"{_VISIBLE}{keyset} ORDER BY created_at, id LIMIT ? OFFSET ?",
                (user_id, user_id, *key, limit, offset),
            ).fetchall()
            return [DocumentRecord(*row) for row in rows]

        return await self._store.run(select)

    async def create_link(self, link: ShareLink) -> None:
        check_role(link.role)
        await self._store.run(
            lambda conn: conn.execute(
                f"INSERT INTO share_links ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    link.id, link.doc_id, link.role, link.created_by, link.created_at,
                    link.expires_at, link.revoked_at,
                ),
            )
        )  # fmt: skip

    async def get_link(self, link_id: str) -> ShareLink:
        def select(conn: sqlite3.Connection) -> ShareLink | None:
            row = conn.execute(
                f"SELECT {_LINK_COLUMNS} FROM share_links WHERE id = ?", (link_id,)
            ).fetchone()
            return None if row is None else ShareLink(*row)

        link = await self._store.run(select)
        if link is None:
            raise LinkNotFound(link_id)
        return link

    async def revoke_link(self, link_id: str, at: float) -> ShareLink:
        await self._store.run(
            lambda conn: conn.execute(
                "UPDATE share_links SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (at, link_id),
            )
        )
        return await self.get_link(link_id)

    async def links(self, doc_id: str) -> list[ShareLink]:
        def select(conn: sqlite3.Connection) -> list[ShareLink]:
            rows = conn.execute(
                f"SELECT {_LINK_COLUMNS} FROM share_links WHERE doc_id = ? ORDER BY created_at, id",
                (doc_id,),
            ).fetchall()
            return [ShareLink(*row) for row in rows]

        return await self._store.run(select)
