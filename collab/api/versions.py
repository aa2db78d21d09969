"""Versions: snapshots listed as automatic or named versions, naming the current state, and
restoring one as a new change (undoable by whoever restored it; the log is never rewritten)."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from canvasdoc.canvas import Canvas
from collab.api._common import existing_doc_id, json_body, principal_of, room_for, server_of
from collab.api.errors import ApiError
from persistence.base import SnapshotInfo

_MAX_LABEL = 200
_MAX_VERSION_ID = 2**63 - 1


def _version_json(info: SnapshotInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "label": info.label,
        "kind": "named" if info.label else "auto",
        "created_at": info.created_at,
        "seq": info.seq,
        "size": info.size,
    }


async def list_versions(request: Request) -> JSONResponse:
    doc_id = await existing_doc_id(request)
    snapshots = await server_of(request).store.list_snapshots(doc_id)
    return JSONResponse({"versions": [_version_json(s) for s in snapshots]})


async def create_version(request: Request) -> JSONResponse:
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    body = await json_body(request)
    label = body.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > _MAX_LABEL:
        raise ApiError(
            422,
            "invalid",
            f"label must be a non-empty string of at most {_MAX_LABEL} characters, got {label!r}",
        )
    server = server_of(request)
    async with room_for(request, doc_id):
        version_id = await server.rooms.create_version(doc_id, label.strip())
    info = next(s for s in await server.store.list_snapshots(doc_id) if s.id == version_id)
    return JSONResponse({**_version_json(info), "created_by": principal.user_id}, status_code=201)


async def restore_version(request: Request) -> JSONResponse:
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    raw_id = request.path_params["version_id"]
    try:
        version_id = int(raw_id)
    except ValueError:
        raise ApiError(
            400, "bad_request", f"version id must be an integer, got {raw_id!r}"
        ) from None
    if not 0 <= version_id <= _MAX_VERSION_ID:  # stores keep 64-bit ids; SQLite overflows
        raise ApiError(404, "not_found", f"document {doc_id!r} has no version {version_id}")
    store = server_of(request).store
    state = await store.read_snapshot(doc_id, version_id)
    label = next((s.label for s in await store.list_snapshots(doc_id) if s.id == version_id), None)
    version_doc: Doc[Any] = Doc()
    version_doc.apply_update(state)
    async with room_for(request, doc_id) as room:
        undo = room.restore(
            principal, Canvas(version_doc), repr(label) if label else f"#{version_id}"
        )
    return JSONResponse(
        {
            "restored": version_id,
            "can_undo": undo.can_undo,
            "can_redo": undo.can_redo,
            "user": principal.user_id,
        }
    )


routes = [
    Route("/api/docs/{doc_id}/versions", list_versions, methods=["GET"]),
    Route("/api/docs/{doc_id}/versions", create_version, methods=["POST"]),
    Route("/api/docs/{doc_id}/versions/{version_id}/restore", restore_version, methods=["POST"]),
]
