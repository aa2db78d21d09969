"""Access store on the Postgres store's pool (tables from migration 0002_access)."""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]

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
from persistence.postgres import _DOC_COLUMNS, PostgresStore, _listing_key
from persistence.records import DocumentRecord

_LINK_COLUMNS = "id, doc_id, role, created_by, created_at, expires_at, revoked_at"
# Walks documents in key order (index documents_created), probing the members' primary key.
_VISIBLE = (
    f"SELECT {_DOC_COLUMNS} FROM documents WHERE (owner = $1 OR EXISTS ("
    "SELECT 1 FROM document_members m WHERE m.doc_id = documents.id AND m.user_id = $1))"
)


def _link(row: Any) -> ShareLink:
    return ShareLink(*(row[i] for i in range(7)))


class PostgresAccess(AccessStore):
    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    @property
    def _pool(self) -> Any:
        return self._store.pool

    async def create_user(self, user: UserRecord) -> None:
        try:
            await self._pool.execute(
                "INSERT INTO users (id, name, password_hash, created_at) VALUES ($1, $2, $3, $4)",
                user.id, user.name, user.password_hash, user.created_at,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise DuplicateUser(user.name) from None

    async def _user(self, column: str, value: str) -> UserRecord:
        row = await self._pool.fetchrow(
            f"SELECT id, name, password_hash, created_at FROM users WHERE {column} = $1", value
        )
        if row is None:
            raise UserNotFound(value)
        return UserRecord(row[0], row[1], row[2], row[3])

    async def user_by_name(self, name: str) -> UserRecord:
        return await self._user("name", name)

    async def user_by_id(self, user_id: str) -> UserRecord:
        return await self._user("id", user_id)

    async def set_role(self, doc_id: str, user_id: str, role: str) -> None:
        check_role(role)
        await self._pool.execute(
            "INSERT INTO document_members (doc_id, user_id, role) VALUES ($1, $2, $3) "
            "ON CONFLICT (doc_id, user_id) DO UPDATE SET role = excluded.role",
            doc_id, user_id, role,
        )  # fmt: skip

    async def remove_member(self, doc_id: str, user_id: str) -> bool:
        result: str = await self._pool.execute(
            "DELETE FROM document_members WHERE doc_id = $1 AND user_id = $2", doc_id, user_id
        )
        return result != "DELETE 0"

    async def role_of(self, doc_id: str, user_id: str) -> str | None:
        role = await self._pool.fetchval(
            "SELECT role FROM document_members WHERE doc_id = $1 AND user_id = $2",
            doc_id, user_id,
        )  # fmt: skip
        return None if role is None else str(role)

    async def members(self, doc_id: str) -> dict[str, str]:
        rows = await self._pool.fetch(
            "SELECT user_id, role FROM document_members WHERE doc_id = $1 ORDER BY user_id",
            doc_id,
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def visible_documents(
        self,
        user_id: str,
        *,
        after: DocumentKey | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DocumentRecord]:
        check_page(limit, offset)
        keyset, key = (
            ("", ())
            if after is None
            else (" AND (created_at, id) > (to_timestamp($4), $5)", _listing_key(after))
        )
        rows = await self._pool.fetch(
            f"{_VISIBLE}{keyset} ORDER BY created_at, id LIMIT $2 OFFSET $3",
            user_id, limit, offset, *key,
        )  # fmt: skip
        return [DocumentRecord(*row) for row in rows]

    async def create_link(self, link: ShareLink) -> None:
        check_role(link.role)
        await self._pool.execute(
            f"INSERT INTO share_links ({_LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            link.id, link.doc_id, link.role, link.created_by, link.created_at,
            link.expires_at, link.revoked_at,
        )  # fmt: skip

    async def get_link(self, link_id: str) -> ShareLink:
        row = await self._pool.fetchrow(
            f"SELECT {_LINK_COLUMNS} FROM share_links WHERE id = $1", link_id
        )
        if row is None:
            raise LinkNotFound(link_id)
        return _link(row)

    async def revoke_link(self, link_id: str, at: float) -> ShareLink:
        await self._pool.execute(
            "UPDATE share_links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            at, link_id,
        )  # fmt: skip
        return await self.get_link(link_id)

    async def links(self, doc_id: str) -> list[ShareLink]:
        rows = await self._pool.fetch(
            f"SELECT {_LINK_COLUMNS} FROM share_links WHERE doc_id = $1 ORDER BY created_at, id",
            doc_id,
        )
        return [_link(r) for r in rows]
