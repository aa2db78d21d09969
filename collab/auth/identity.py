"""Who a connection belongs to.

Until real authentication lands, the principal comes from the ``user`` / ``name`` query
parameters or is generated; an authenticator later replaces ``principal_from_params`` without
touching the room code.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from canvasdoc.ids import DOC_ID as _DOC_ID
from canvasdoc.ids import USER_ID as _USER_ID
from collab.exceptions import InvalidDocumentId

ROLES = ("owner", "editor", "viewer")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is on the other end of a connection or request.

    ``role`` is the role granted regardless of the document (open mode: everyone edits);
    None means "resolve it per document" (accounts and their memberships). A share link's
    principal is bound to one document (``doc_scope``) through link ``link_id``; a service
    (AI worker, bot) may edit any document.
    """

    user_id: str
    name: str
    role: str | None = "editor"
    link_id: str | None = None
    doc_scope: str | None = None
    service: bool = False


class InvalidUser(ValueError):
    pass


def principal_from_params(params: Mapping[str, str]) -> Principal:
    user = params.get("user")
    if user is None or user == "":
        user = f"anon-{uuid.uuid4().hex[:12]}"
    elif not _USER_ID.fullmatch(user):
        raise InvalidUser(
            f"user must be 1-64 characters of letters, digits and _.@:-, got {user[:80]!r}"
        )
    name = (params.get("name") or user)[:64]
    return Principal(user_id=user, name=name)


def check_doc_id(doc_id: str) -> str:
    if not _DOC_ID.fullmatch(doc_id):
        raise InvalidDocumentId(
            "document id must be 1-128 characters of letters, digits and _.:- starting with a "
            f"letter or digit, got {doc_id[:140]!r}"
        )
    return doc_id
