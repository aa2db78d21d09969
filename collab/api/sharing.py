"""Sharing a document: members by user name, and share links (owner only).

Removing a member, changing a member's role and revoking a link close the affected live
connections (4403) on every instance, through the broker (``RoomManager.revoke``)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collab.api._common import display_names, existing_doc_id, json_body, principal_of, server_of
from collab.api.errors import ApiError
from collab.replication.access import AccessChange
from persistence.access import LinkNotFound, ShareLink, UserNotFound
from persistence.access.base import check_role

_MAX_LINK_TTL = 365 * 86400.0


def _role(body: dict[str, Any], *, allowed: tuple[str, ...]) -> str:
    role = body.get("role")
    if role not in allowed:
        raise ApiError(422, "invalid", f"role must be one of {', '.join(allowed)}, got {role!r}")
    return check_role(str(role))


async def list_members(request: Request) -> JSONResponse:
    """
    ---
    summary: Members of a document and their roles (owner only)
    tags: [sharing]
    responses:
      200: {description: "{owner: {id, name}, members: [{id, name, role}]} (by name)"}
    """
    doc_id = await existing_doc_id(request, "owner")
    server = server_of(request)
    record = await server.store.get_document(doc_id)
    roles = await server.access_store.members(doc_id)
    names = await display_names(request, [record.owner, *roles])
    members = [{"id": uid, "name": names[uid], "role": role} for uid, role in roles.items()]
    return JSONResponse(
        {
            "owner": None
            if record.owner is None
            else {"id": record.owner, "name": names[record.owner]},
            "members": sorted(members, key=lambda m: (m["name"].lower(), m["id"])),
        }
    )


async def add_member(request: Request) -> JSONResponse:
    """
    ---
    summary: Share a document with a user by name, as editor or viewer (owner only)
    tags: [sharing]
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [user, role]
            properties:
              user: {type: string, description: the account's name}
              role: {type: string, enum: [editor, viewer]}
    responses:
      200: {description: "{user, role}"}
      404: {description: unknown user}
      422: {description: bad role}
    """
    doc_id = await existing_doc_id(request, "owner")
    body = await json_body(request)
    role = _role(body, allowed=("editor", "viewer"))
    name = body.get("user")
    server = server_of(request)
    try:
        user = await server.access_store.user_by_name(str(name))
    except UserNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    await server.access_store.set_role(doc_id, user.id, role)
    # A changed role takes effect on live connections at once, on every instance: they
    # reconnect with it.
    await server.rooms.revoke(AccessChange(doc_id, "your role changed", user_id=user.id))
    return JSONResponse({"user": {"id": user.id, "name": user.name}, "role": role})


async def remove_member(request: Request) -> Response:
    """
    ---
    summary: Stop sharing a document with a user (owner only); their connections close
    tags: [sharing]
    responses:
      204: {description: No longer shared}
      404: {description: "unknown document, or the user is not a member"}
    """
    doc_id = await existing_doc_id(request, "owner")
    user_id = request.path_params["user_id"]
    server = server_of(request)
    if not await server.access_store.remove_member(doc_id, user_id):
        name = (await display_names(request, [user_id]))[user_id]
        raise ApiError(404, "not_found", f"{name!r} is not a member of {doc_id!r}")
    await server.rooms.revoke(AccessChange(doc_id, "access revoked", user_id=user_id))
    return Response(status_code=204)


def _link_json(link: ShareLink, names: dict[str, str], token: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": link.id,
        "role": link.role,
        "created_by": link.created_by,
        "created_by_name": names.get(link.created_by, link.created_by),
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "revoked_at": link.revoked_at,
        "active": link.active(time.time()),
    }
    if token is not None:
        out["token"] = token
    return out


async def create_link(request: Request) -> JSONResponse:
    """
    ---
    summary: Create a share link (viewer or editor, optional expiry in seconds)
    tags: [sharing]
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [role]
            properties:
              role: {type: string, enum: [editor, viewer]}
              expires_in: {type: number, exclusiveMinimum: true, minimum: 0, maximum: 31536000}
    responses:
      201: {description: "{id, role, token, expires_at, ...}: the token is shown once"}
      409: {description: open mode (no tokens)}
      422: {description: bad role or expiry}
    """
    doc_id = await existing_doc_id(request, "owner")
    principal = await principal_of(request)
    server = server_of(request)
    if server.issuer is None:
        raise ApiError(409, "open_mode", "share links need token mode (NEXUS_AUTH_SECRET)")
    body = await json_body(request)
    role = _role(body, allowed=("editor", "viewer"))
    expires_in = body.get("expires_in")
    if expires_in is not None and (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int | float)
        or not 0 < expires_in <= _MAX_LINK_TTL
    ):
        raise ApiError(
            422,
            "invalid",
            f"expires_in must be 1..{int(_MAX_LINK_TTL)} seconds, got {expires_in!r}",
        )
    now = time.time()
    link = ShareLink(
        uuid.uuid4().hex, doc_id, role, principal.user_id, now,
        None if expires_in is None else now + float(expires_in), None,
    )  # fmt: skip
    await server.access_store.create_link(link)
    token = server.issuer.share(link.id, doc_id, role, expires_at=link.expires_at)
    names = await display_names(request, [link.created_by])
    return JSONResponse(_link_json(link, names, token), status_code=201)


async def list_links(request: Request) -> JSONResponse:
    """
    ---
    summary: A document's share links (tokens are not shown again)
    tags: [sharing]
    responses:
      200: {description: "{links: [{id, role, created_by, created_by_name, created_at, ...}]}"}
    """
    doc_id = await existing_doc_id(request, "owner")
    links = await server_of(request).access_store.links(doc_id)
    names = await display_names(request, (link.created_by for link in links))
    return JSONResponse({"links": [_link_json(link, names) for link in links]})


async def revoke_link(request: Request) -> JSONResponse:
    """
    ---
    summary: Revoke a share link; live connections that used it close at once, on every instance
    tags: [sharing]
    responses:
      200: {description: "The link, revoked: {id, ..., connections_closed (on this instance)}"}
      404: {description: unknown document or link}
    """
    doc_id = await existing_doc_id(request, "owner")
    link_id = request.path_params["link_id"]
    server = server_of(request)
    try:
        link = await server.access_store.get_link(link_id)
    except LinkNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    if link.doc_id != doc_id:
        raise ApiError(404, "not_found", f"share link {link_id!r} not found on {doc_id!r}")
    link = await server.access_store.revoke_link(link_id, time.time())
    closed = await server.rooms.revoke(AccessChange(doc_id, "share link revoked", link_id=link_id))
    names = await display_names(request, [link.created_by])
    return JSONResponse({**_link_json(link, names), "connections_closed": closed})


routes = [
    Route("/api/docs/{doc_id}/members", list_members, methods=["GET"]),
    Route("/api/docs/{doc_id}/members", add_member, methods=["POST"]),
    Route("/api/docs/{doc_id}/members/{user_id}", remove_member, methods=["DELETE"]),
    Route("/api/docs/{doc_id}/links", list_links, methods=["GET"]),
    Route("/api/docs/{doc_id}/links", create_link, methods=["POST"]),
    Route("/api/docs/{doc_id}/links/{link_id}", revoke_link, methods=["DELETE"]),
]
