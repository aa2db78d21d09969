"""``POST /api/docs/{doc_id}/undo`` and ``/redo``: the caller's own server-side undo."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from collab.api._common import existing_doc_id, principal_of, room_for, server_of
from collab.api.errors import ApiError


async def undo(request: Request) -> JSONResponse:
    return await _step(request, "undo")


async def redo(request: Request) -> JSONResponse:
    return await _step(request, "redo")


async def _step(request: Request, op: str) -> JSONResponse:
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    async with room_for(request, doc_id) as room:
        state = room.undo.state(principal.user_id)
        possible = state.can_undo if op == "undo" else state.can_redo
        if not possible:
            raise ApiError(
                409,
                f"nothing_to_{op}",
                f"{principal.name!r} has nothing to {op} in document {doc_id!r}",
            )
        action = room.undo_for if op == "undo" else room.redo_for
        done, state = action(principal)
    return JSONResponse(
        {
            "done": done,
            "can_undo": state.can_undo,
            "can_redo": state.can_redo,
            "user": principal.user_id,
        }
    )


async def undo_state(request: Request) -> JSONResponse:
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request)
    room = server_of(request).rooms.rooms.get(doc_id)
    if room is None:
        return JSONResponse({"can_undo": False, "can_redo": False, "user": principal.user_id})
    state = room.undo.state(principal.user_id)
    return JSONResponse(
        {"can_undo": state.can_undo, "can_redo": state.can_redo, "user": principal.user_id}
    )


routes = [
    Route("/api/docs/{doc_id}/undo", undo, methods=["POST"]),
    Route("/api/docs/{doc_id}/redo", redo, methods=["POST"]),
    Route("/api/docs/{doc_id}/undo-state", undo_state, methods=["GET"]),
]
