"""Pages of the documents a caller may see, for ``GET /api/docs``.

Access is applied in the store's query, not to a page after it was read, so every page is
full until the last. Pages are keyset pages: a cursor names the last document of the page
before (its ``(created_at, id)``), so documents created or deleted meanwhile never shift the
others. The rule of who may see what is :meth:`collab.auth.access.AccessControl.role_for`'s:
open mode and services see every document, a share link's principal the link's document
while the link is active, an account the documents it owns or is a member of.
"""

from __future__ import annotations

import re

from collab.api.errors import ApiError
from collab.auth.identity import Principal
from collab.server import Server
from persistence.documents import DocumentKey, document_key
from persistence.errors import DocumentNotFound
from persistence.records import DocumentRecord

# A cursor is "<created_at as float.hex(), without '+'>~<id>": exact (a decimal float could
# round to a neighbouring key), URL-safe as it is, and every string the pattern accepts is a
# key, so a client can only name a place in the order, never break the query. The exponent's
# three digits keep the time finite. GET /api/docs's OpenAPI parameter repeats the pattern.
CURSOR_PATTERN = re.compile(
    r"^(-?0x[01]\.[0-9a-f]{1,13}p-?[0-9]{1,3})~([A-Za-z0-9][A-Za-z0-9_.:-]{0,127})$"
)


def encode_cursor(record: DocumentRecord) -> str:
    """The cursor of the page that starts after ``record``."""
    return f"{float(record.created_at).hex().replace('+', '')}~{record.id}"


def decode_cursor(cursor: str) -> DocumentKey:
    """The key a cursor from :func:`encode_cursor` names; a 422 ``ApiError`` otherwise."""
    match = CURSOR_PATTERN.fullmatch(cursor)
    if match is None:
        raise ApiError(
            422,
            "invalid",
            f"cursor must be a next_cursor from GET /api/docs, got {cursor[:80]!r}",
        )
    return (float.fromhex(match.group(1)), match.group(2))


async def visible_page(
    server: Server,
    principal: Principal,
    *,
    limit: int,
    after: DocumentKey | None = None,
    offset: int = 0,
) -> list[DocumentRecord]:
    """Up to ``limit`` documents ``principal`` may see, in ``(created_at, id)`` order: those
    after ``after`` (from the first when None), the first ``offset`` of them skipped."""
    if principal.doc_scope is not None:
        return await _link_page(server, principal, limit=limit, after=after, offset=offset)
    if principal.role is not None:  # open mode or a service: every document
        if after is None:
            return await server.store.list_documents(limit=limit, offset=offset)
        records = await server.store.list_documents_after(after, limit=offset + limit)
        return records[offset:]
    return await server.access_store.visible_documents(
        principal.user_id, after=after, limit=limit, offset=offset
    )


async def _link_page(
    server: Server, principal: Principal, *, limit: int, after: DocumentKey | None, offset: int
) -> list[DocumentRecord]:
    """A share link's principal sees its one document, while the link is active."""
    assert principal.doc_scope is not None
    if await server.access.role_for(principal, principal.doc_scope) is None:
        return []
    try:
        record = await server.store.get_document(principal.doc_scope)
    except DocumentNotFound:
        return []
    listed = [record] if after is None or document_key(record) > after else []
    return listed[offset : offset + limit]
