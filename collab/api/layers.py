"""Layers over REST: what the browser's Layers panel does, for integrations without a Yjs
client.

- ``POST /api/docs/{doc_id}/paint-layers``: add an empty paint layer (named, at an index);
- ``PATCH /api/docs/{doc_id}/layers/{layer_id}``: change any of name, blend mode, opacity,
  visibility, lock and position;
- ``POST /api/docs/{doc_id}/layers/{layer_id}/reorder``: move the layer to an index of the
  z-order (bottom first, as ``GET /api/docs/{doc_id}`` lists the layers);
- ``DELETE /api/docs/{doc_id}/layers/{layer_id}``: remove the layer.

Each change is made with ``room.edit`` as the caller, so it is broadcast, logged, named in the
history and one undo step of the caller's (nobody else's undo reverts it), like the same edit
made in the browser. Locks hold as in the browser: a locked layer can be renamed, shown,
hidden, re-blended and reordered, but not moved (``x``, ``y``) or deleted until it is
unlocked (409 ``layer_locked``); a PATCH that unlocks may move in the same request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match, Route
from starlette.types import Scope

from canvasdoc.canvas import (
    BLEND_MODES,
    Canvas,
    Layer,
    SchemaError,
    validate_blend_mode,
    validate_bool,
    validate_coordinate,
    validate_opacity,
    validate_text,
)
from collab.api._common import (
    edit_as_caller,
    existing_doc_id,
    json_body,
    layer_id_of,
    principal_of,
    room_for,
    undo_answer,
)
from collab.api.docs import layer_json
from collab.api.errors import ApiError

Handler = TypeVar("Handler", bound=Callable[..., Any])

# What PATCH may change, with the schema's own validators (id, kind, blob, provenance and
# proposal are not the panel's to change).
_PROPS: dict[str, Callable[[Any], Any]] = {
    "name": lambda v: validate_text(v, "name"),
    "blend_mode": validate_blend_mode,
    "opacity": validate_opacity,
    "visible": lambda v: validate_bool(v, "visible"),
    "locked": lambda v: validate_bool(v, "locked"),
    "x": lambda v: validate_coordinate(v, "x"),
    "y": lambda v: validate_coordinate(v, "y"),
}
_NEW_FIELDS = ("name", "index", *(name for name in _PROPS if name != "name"))
_DEFAULT_NAME = re.compile(r"Layer (\d+)")


def _with_blend_modes(handler: Handler) -> Handler:
    """Writes the schema's blend modes into the handler's OpenAPI YAML, so the description
    cannot drift from ``BLEND_MODES`` (YAML reads the JSON list as it is)."""
    handler.__doc__ = (handler.__doc__ or "").replace("BLEND_MODES", json.dumps(BLEND_MODES))
    return handler


def _validated(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """The body's layer properties, validated (422 naming an unknown or a bad field)."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ApiError(
            422,
            "invalid",
            f"unknown field(s) {', '.join(map(repr, unknown))}; expected some of "
            + ", ".join(allowed),
        )
    return {name: _PROPS[name](v) for name, v in body.items() if name in _PROPS}


def _index(value: object, high: int) -> object:
    """``value`` for the schema's index check, which reads null as "the top" (a REST caller
    must name an index)."""
    if value is None:
        raise SchemaError("index", value, f"an integer from 0 to {high}")
    return value


def _next_name(layers: list[Layer]) -> str:
    """'Layer N' above every 'Layer k' and the layer count, as the browser names a new layer
    (``nextLayerName`` in client/web/src/ui/layers/reorder.ts)."""
    highest = len(layers)
    for layer in layers:
        match = _DEFAULT_NAME.fullmatch(layer.name.strip())
        if match:
            highest = max(highest, int(match[1]))
    return f"Layer {highest + 1}"


def _refuse_locked(layer: Layer, doing: str) -> NoReturn:
    shown = f"{layer.id!r} ({layer.name!r})" if layer.name else repr(layer.id)
    raise ApiError(
        409,
        "layer_locked",
        f"layer {shown} is locked and cannot be {doing}; unlock it first "
        '(PATCH {"locked": false})',
    )


@_with_blend_modes
async def add_paint_layer(request: Request) -> JSONResponse:
    """Add an empty paint layer.
    ---
    summary: Add an empty paint layer, as the Layers panel's add button does
    description: >
      One change of the caller's: broadcast to everyone, in the history ("add layer
      '<name>'"), one undo step that only the caller's undo reverts. Every field is
      optional: `name` defaults to "Layer N" as in the browser, `index` (bottom first, as
      `GET /api/docs/{doc_id}` lists the layers: 0 = bottom, the layer count = top) to the
      top. Strokes are drawn over the WebSocket.
    tags: [layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
    requestBody:
      required: false
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            properties:
              name: {type: string, maxLength: 1000}
              index: {type: integer, minimum: 0, description: "0 = bottom; default: the top"}
              blend_mode: {type: string, enum: BLEND_MODES, default: normal}
              opacity: {type: number, minimum: 0, maximum: 100, default: 100}
              visible: {type: boolean, default: true}
              locked: {type: boolean, default: false}
              x: {type: number, default: 0}
              y: {type: number, default: 0}
    responses:
      201:
        description: >
          {id, index, layer (as GET /api/docs/{doc_id} lists it), can_undo, can_redo, user};
          Location: the layer's pixels
      403: {description: the caller may not edit the document (a viewer)}
      404: {description: unknown document}
      422: {description: "invalid: an unknown or bad field, or an index above the top (named)"}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    body = await json_body(request)
    props = _validated(body, _NEW_FIELDS)
    name: str | None = props.pop("name", None)

    def change(canvas: Canvas) -> str:
        layers = canvas.read_layers()
        index = _index(body["index"], len(layers)) if "index" in body else None
        return canvas.add_layer(
            _next_name(layers) if name is None else name,
            kind="paint",
            index=index,  # type: ignore[arg-type]  # add_layer validates it
            **props,
        )

    async with room_for(request, doc_id) as room:
        layer_id = edit_as_caller(room, principal, doc_id, change)
        canvas = Canvas(room.doc)
        answer = {
            "id": layer_id,
            "index": canvas.layer_ids().index(layer_id),
            "layer": layer_json(canvas.get_layer(layer_id)),
        }
        response = undo_answer(room, principal, answer, 201)
    response.headers["Location"] = f"/api/docs/{doc_id}/layers/{layer_id}.png"
    return response


@_with_blend_modes
async def update_layer(request: Request) -> JSONResponse:
    """Change a layer's properties.
    ---
    summary: Change a layer's name, blend mode, opacity, visibility, lock or position
    description: >
      Any non-empty subset of the fields; those equal to the layer's values already are
      left alone (a request that changes nothing makes no history entry and no undo step).
      The rest is one change of the caller's: broadcast, in the history ("rename 'Sky' to
      'Sea'; set opacity of 'Sea' to 50"), one undo step that only the caller's undo
      reverts. A locked layer keeps its position (409 layer_locked) unless the same request
      unlocks it; everything else may change, as in the browser.
    tags: [layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: layer_id, in: path, required: true, schema: {type: string}}
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            minProperties: 1
            properties:
              name: {type: string, maxLength: 1000}
              blend_mode: {type: string, enum: BLEND_MODES}
              opacity: {type: number, minimum: 0, maximum: 100}
              visible: {type: boolean}
              locked: {type: boolean}
              x: {type: number}
              y: {type: number}
    responses:
      200:
        description: "{layer (as GET /api/docs/{doc_id} lists it), can_undo, can_redo, user}"
      403: {description: the caller may not edit the document (a viewer)}
      404: {description: unknown document or layer}
      409: {description: "layer_locked: a move of a locked layer"}
      422: {description: "invalid: no field, or an unknown or bad one (the message names it)"}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    layer_id = layer_id_of(request)
    body = await json_body(request)
    if not body:
        raise ApiError(422, "invalid", f"no field to change; expected some of {', '.join(_PROPS)}")
    values = _validated(body, tuple(_PROPS))

    def change(canvas: Canvas) -> None:
        layer = canvas.get_layer(layer_id)
        changed = {key: v for key, v in values.items() if getattr(layer, key) != v}
        if layer.locked and values.get("locked", True) and changed.keys() & {"x", "y"}:
            _refuse_locked(layer, "moved")
        if changed:
            canvas.update_layer(layer_id, **changed)

    async with room_for(request, doc_id) as room:
        edit_as_caller(room, principal, doc_id, change)
        layer = Canvas(room.doc).get_layer(layer_id)
        return undo_answer(room, principal, {"layer": layer_json(layer)})


async def reorder_layer(request: Request) -> JSONResponse:
    """Move a layer in the z-order.
    ---
    summary: Move a layer to another place in the stack (its index, bottom first)
    description: >
      `index` counts as `GET /api/docs/{doc_id}` lists the layers: 0 = bottom, the layer
      count - 1 = top; the other layers keep their order. Locked layers may be reordered,
      as in the browser. One change of the caller's: broadcast, in the history ("move layer
      '<name>'"), one undo step that only the caller's undo reverts; a layer already at
      `index` is left alone. (Yjs arrays cannot move items: the layer is removed and
      inserted again, so an edit someone makes to it at the same moment is lost.)
    tags: [layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: layer_id, in: path, required: true, schema: {type: string}}
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            required: [index]
            properties:
              index: {type: integer, minimum: 0}
    responses:
      200:
        description: >
          {index, layer (as GET /api/docs/{doc_id} lists it), can_undo, can_redo, user}
      403: {description: the caller may not edit the document (a viewer)}
      404: {description: unknown document or layer}
      422: {description: "invalid: a missing, unknown or out-of-range index (named)"}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    layer_id = layer_id_of(request)
    body = await json_body(request)
    _validated(body, ("index",))
    if "index" not in body:
        raise ApiError(422, "invalid", "index is required (0 = bottom)")

    def change(canvas: Canvas) -> None:
        canvas.get_layer(layer_id)  # an unknown layer is a 404 before any index check
        high = len(canvas.layer_ids()) - 1
        try:
            canvas.move_layer(layer_id, _index(body["index"], high))  # type: ignore[arg-type]
        except SchemaError as exc:
            if exc.field != "new_index":
                raise
            raise SchemaError("index", exc.value, exc.expected) from None

    async with room_for(request, doc_id) as room:
        edit_as_caller(room, principal, doc_id, change)
        canvas = Canvas(room.doc)
        answer = {
            "index": canvas.layer_ids().index(layer_id),
            "layer": layer_json(canvas.get_layer(layer_id)),
        }
        return undo_answer(room, principal, answer)


async def delete_layer(request: Request) -> JSONResponse:
    """Delete a layer.
    ---
    summary: Delete a layer
    description: >
      One change of the caller's: broadcast, in the history ("remove layer '<name>'"), one
      undo step (the caller's undo brings the layer back; nobody else's does). A locked
      layer is refused (409 layer_locked) until it is unlocked, as in the browser.
    tags: [layers]
    parameters:
      - {name: doc_id, in: path, required: true, schema: {type: string}}
      - {name: layer_id, in: path, required: true, schema: {type: string}}
    responses:
      200: {description: "{id, name (of the removed layer), can_undo, can_redo, user}"}
      403: {description: the caller may not edit the document (a viewer)}
      404: {description: unknown document or layer}
      409: {description: "layer_locked: the layer is locked"}
    """
    principal = await principal_of(request)
    doc_id = await existing_doc_id(request, "editor")
    layer_id = layer_id_of(request)

    def change(canvas: Canvas) -> Layer:
        layer = canvas.get_layer(layer_id)
        if layer.locked:
            _refuse_locked(layer, "deleted")
        canvas.remove_layer(layer_id)
        return layer

    async with room_for(request, doc_id) as room:
        removed = edit_as_caller(room, principal, doc_id, change)
        return undo_answer(room, principal, {"id": removed.id, "name": removed.name})


class _LayerRoute(Route):
    """A route on ``/layers/{layer_id}`` that leaves ``/layers/<id>.png`` (a layer's pixels,
    collab/api/exports.py) alone: a 405 there would otherwise advertise PATCH and DELETE, which
    that path does not offer. A layer whose id ends in ``.png`` is out of these routes' reach."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE and str(child["path_params"]["layer_id"]).endswith(".png"):
            return Match.NONE, {}
        return match, child


routes = [
    Route("/api/docs/{doc_id}/paint-layers", add_paint_layer, methods=["POST"]),
    _LayerRoute("/api/docs/{doc_id}/layers/{layer_id}", update_layer, methods=["PATCH"]),
    _LayerRoute("/api/docs/{doc_id}/layers/{layer_id}", delete_layer, methods=["DELETE"]),
    Route("/api/docs/{doc_id}/layers/{layer_id}/reorder", reorder_layer, methods=["POST"]),
]
