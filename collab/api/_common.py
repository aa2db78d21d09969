"""Helpers shared by the REST endpoints."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse

from canvasdoc.canvas import Canvas, LayerNotFound
from collab.api.errors import ApiError
from collab.auth.identity import Principal, check_doc_id
from collab.server import Server
from collab.session.room import Room
from persistence.access import UserNotFound
from persistence.errors import DocumentNotFound

T = TypeVar("T")


def server_of(request: Request) -> Server:
    server: Server = request.app.state.server
    return server


async def principal_of(request: Request) -> Principal:
    return await server_of(request).authenticator.authenticate(request)


async def existing_doc_id(request: Request, need: str = "viewer") -> str:
    """The path's document id, validated, of a document that exists (else 400 / 404), on
    which the caller has at least role ``need`` (else 401 / 403)."""
    doc_id = check_doc_id(request.path_params["doc_id"])
    server = server_of(request)
    principal = await principal_of(request)
    try:
        await server.store.get_document(doc_id)
    except DocumentNotFound:
        # A document's row is written with its first edit: commit a pending one first.
        with contextlib.suppress(TimeoutError):
            await server.writer.flush(doc_id, timeout=5.0)
        await server.store.get_document(doc_id)
    await server.access.require(principal, doc_id, need)
    return doc_id


async def display_names(request: Request, user_ids: Iterable[str | None]) -> dict[str, str]:
    """Each user id's display name: the account's name (token mode); the id itself where no
    account has it (open mode, where callers name themselves, services, share links). None
    (a document without an owner) is skipped."""
    store = server_of(request).access_store
    names: dict[str, str] = {}
    for user_id in user_ids:
        if user_id is None or user_id in names:
            continue
        try:
            names[user_id] = (await store.user_by_id(user_id)).name
        except UserNotFound:
            names[user_id] = user_id
    return names


@asynccontextmanager
async def room_for(request: Request, doc_id: str) -> AsyncIterator[Room]:
    """The live room of ``doc_id`` (loaded for the duration of the request if needed)."""
    rooms = server_of(request).rooms
    room = await rooms.acquire(doc_id)
    try:
        yield room
    finally:
        rooms.release(doc_id)


async def json_body(request: Request, *, max_bytes: int = 64 * 1024) -> dict[str, Any]:
    """The request's JSON object body; an empty body is ``{}``."""
    raw = await request.body()
    if len(raw) > max_bytes:
        raise ApiError(413, "too_large", f"request body of {len(raw)} bytes exceeds {max_bytes}")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
        # A \ud800-\udfff escape alone is valid JSON but no character: nothing downstream
        # (SQLite, the CRDT) can store it.
        json.dumps(body, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ApiError(
            400, "bad_json", "request body holds a lone UTF-16 surrogate escape, not a character"
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "bad_json", f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "bad_json", "request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(
            400, "bad_json", f"request body must be a JSON object, got {type(body).__name__}"
        )
    return body


def layer_id_of(request: Request) -> str:
    """The path's ``layer_id`` (the layer itself is looked up by the edit, 404 when unknown)."""
    return str(request.path_params["layer_id"])


def edit_as_caller(
    room: Room, principal: Principal, doc_id: str, change: Callable[[Canvas], T]
) -> T:
    """``change`` as one undo step of the caller's: the capture is cut before and after, so it
    never merges with an edit they made a moment ago. An unknown layer answers 404."""
    user = principal.user_id
    room.undo.track(user)
    room.undo.cut(user)
    try:
        return room.edit(principal, change)
    except LayerNotFound as exc:
        raise ApiError(404, "not_found", f"{exc} in document {doc_id!r}") from None
    finally:
        room.undo.cut(user)


def undo_answer(
    room: Room, principal: Principal, body: dict[str, Any], status: int = 200
) -> JSONResponse:
    """``body`` with the caller's undo state (``can_undo``, ``can_redo``, ``user``)."""
    state = room.undo.state(principal.user_id)
    return JSONResponse(
        {**body, "can_undo": state.can_undo, "can_redo": state.can_redo, "user": principal.user_id},
        status_code=status,
    )
