"""Authorization: which role a principal has on a document (owner > editor > viewer)."""

from __future__ import annotations

import dataclasses
import time

from collab.auth.base import AuthenticationError
from collab.auth.identity import Principal
from persistence.access import AccessStore, LinkNotFound
from persistence.base import DocumentExists, DocumentNotFound, DocumentRecord
from persistence.documents import DocumentLog

_RANK = {"viewer": 1, "editor": 2, "owner": 3}
_VERB = {"viewer": "view", "editor": "edit", "owner": "administer"}


def at_least(role: str | None, need: str) -> bool:
    return role is not None and _RANK.get(role, 0) >= _RANK[need]


def rank(role: str | None) -> int:
    """Orders roles: none (0) < viewer < editor < owner."""
    return _RANK.get(role, 0) if role is not None else 0


class AccessControl:
    def __init__(self, store: DocumentLog, access: AccessStore) -> None:
        self._store = store
        self._access = access

    async def role_for(
        self, principal: Principal, doc_id: str, *, create: bool = False
    ) -> str | None:
        """The principal's role on ``doc_id`` (None: no access). With ``create``, a user who
        opens a document that does not exist yet creates it and owns it."""
        if principal.doc_scope is not None:
            if principal.doc_scope != doc_id or principal.link_id is None:
                return None
            try:
                link = await self._access.get_link(principal.link_id)
            except LinkNotFound:
                return None
            return link.role if link.active(time.time()) and link.doc_id == doc_id else None
        if principal.role is not None:  # open mode or a service
            return principal.role
        try:
            record = await self._store.get_document(doc_id)
        except DocumentNotFound:
            if not create:
                raise
            record = dataclasses.replace(DocumentRecord.default(doc_id), owner=principal.user_id)
            try:
                await self._store.create_document(record)
            except DocumentExists:  # created concurrently: the first creator owns it
                record = await self._store.get_document(doc_id)
        if record.owner == principal.user_id:
            return "owner"
        return await self._access.role_of(doc_id, principal.user_id)

    async def require(
        self, principal: Principal, doc_id: str, need: str, *, create: bool = False
    ) -> str:
        role = await self.role_for(principal, doc_id, create=create)
        if not at_least(role, need):
            if principal.doc_scope is not None and principal.doc_scope != doc_id:
                raise AuthenticationError(
                    f"this share link is for document {principal.doc_scope!r}, not {doc_id!r}",
                    status=403,
                )
            raise AuthenticationError(
                f"{principal.name!r} may not {_VERB[need]} document {doc_id!r} "
                f"(role: {role or 'none'}; needs {need})",
                status=403,
            )
        assert role is not None
        return role
