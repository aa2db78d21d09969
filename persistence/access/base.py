"""The access-control storage interface and its records."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from persistence.documents import DocumentKey
from persistence.errors import StoreError
from persistence.records import DocumentRecord

ROLES = ("owner", "editor", "viewer")


class UserNotFound(StoreError):
    def __init__(self, what: str) -> None:
        super().__init__(f"user {what!r} not found")


class DuplicateUser(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"user name {name!r} is taken")


class LinkNotFound(StoreError):
    def __init__(self, link_id: str) -> None:
        super().__init__(f"share link {link_id!r} not found")


@dataclass(frozen=True)
class UserRecord:
    id: str
    name: str
    password_hash: str
    created_at: float


@dataclass(frozen=True)
class ShareLink:
    id: str
    doc_id: str
    role: str
    created_by: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None

    def active(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return role


class AccessStore(ABC):
    """Accounts, per-document roles and share links. Used inside the owning Store's
    lifecycle (it shares its connection); ``prepare`` creates what it needs."""

    async def prepare(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Create tables if the backend needs it (idempotent)."""

    @abstractmethod
    async def create_user(self, user: UserRecord) -> None: ...

    @abstractmethod
    async def user_by_name(self, name: str) -> UserRecord: ...

    @abstractmethod
    async def user_by_id(self, user_id: str) -> UserRecord: ...

    @abstractmethod
    async def set_role(self, doc_id: str, user_id: str, role: str) -> None: ...

    @abstractmethod
    async def remove_member(self, doc_id: str, user_id: str) -> bool: ...

    @abstractmethod
    async def role_of(self, doc_id: str, user_id: str) -> str | None: ...

    @abstractmethod
    async def members(self, doc_id: str) -> dict[str, str]: ...

    @abstractmethod
    async def visible_documents(
        self,
        user_id: str,
        *,
        after: DocumentKey | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DocumentRecord]:
        """The documents ``user_id`` owns or is a member of (any role), in one query.

        In key order ``(created_at, id)``: those after ``after`` (all when None), the first
        ``offset`` of them skipped, at most ``limit``. Paging with ``after`` set to the last
        key of the previous page never repeats or skips a document that existed before the
        first page, however many are created meanwhile. Raises ValueError for a negative
        ``limit`` or ``offset``.
        """

    @abstractmethod
    async def create_link(self, link: ShareLink) -> None: ...

    @abstractmethod
    async def get_link(self, link_id: str) -> ShareLink: ...

    @abstractmethod
    async def revoke_link(self, link_id: str, at: float) -> ShareLink: ...

    @abstractmethod
    async def links(self, doc_id: str) -> list[ShareLink]: ...
