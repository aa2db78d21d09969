"""In-memory access store (tests, the memory store)."""

from __future__ import annotations

import dataclasses
import sys

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
from persistence.documents import DocumentKey, DocumentLog
from persistence.records import DocumentRecord


class MemoryAccess(AccessStore):
    """Access data in dicts; ``documents`` is the memory store whose documents it guards."""

    def __init__(self, documents: DocumentLog) -> None:
        self._documents = documents
        self._users: dict[str, UserRecord] = {}
        self._roles: dict[tuple[str, str], str] = {}
        self._links: dict[str, ShareLink] = {}

    async def create_user(self, user: UserRecord) -> None:
        if user.id in self._users or any(u.name == user.name for u in self._users.values()):
            raise DuplicateUser(user.name)
        self._users[user.id] = user

    async def user_by_name(self, name: str) -> UserRecord:
        for user in self._users.values():
            if user.name == name:
                return user
        raise UserNotFound(name)

    async def user_by_id(self, user_id: str) -> UserRecord:
        try:
            return self._users[user_id]
        except KeyError:
            raise UserNotFound(user_id) from None

    async def set_role(self, doc_id: str, user_id: str, role: str) -> None:
        self._roles[(doc_id, user_id)] = check_role(role)

    async def remove_member(self, doc_id: str, user_id: str) -> bool:
        return self._roles.pop((doc_id, user_id), None) is not None

    async def role_of(self, doc_id: str, user_id: str) -> str | None:
        return self._roles.get((doc_id, user_id))

    async def members(self, doc_id: str) -> dict[str, str]:
        return {u: r for (d, u), r in sorted(self._roles.items()) if d == doc_id}

    async def visible_documents(
        self,
        user_id: str,
        *,
        after: DocumentKey | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DocumentRecord]:
        check_page(limit, offset)
        records = await self._documents.list_documents_after(after, limit=sys.maxsize)
        visible = [r for r in records if r.owner == user_id or (r.id, user_id) in self._roles]
        return visible[offset : offset + limit]

    async def create_link(self, link: ShareLink) -> None:
        check_role(link.role)
        self._links[link.id] = link

    async def get_link(self, link_id: str) -> ShareLink:
        try:
            return self._links[link_id]
        except KeyError:
            raise LinkNotFound(link_id) from None

    async def revoke_link(self, link_id: str, at: float) -> ShareLink:
        link = await self.get_link(link_id)
        if link.revoked_at is None:
            link = dataclasses.replace(link, revoked_at=at)
            self._links[link_id] = link
        return link

    async def links(self, doc_id: str) -> list[ShareLink]:
        return sorted(
            (link for link in self._links.values() if link.doc_id == doc_id),
            key=lambda link: (link.created_at, link.id),
        )
