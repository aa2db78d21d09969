"""Per-user, server-side undo for one room.

The room applies each user's updates in a transaction whose origin hashes as that user's id (a
``Change``, collab/session/room.py); each user gets a pycrdt ``UndoManager`` that tracks only
that origin, so undo reverts only the
caller's own changes (Yjs semantics when someone else has since edited on top). Changes of one
user closer together than ``capture_ms`` merge into one step (a brush stroke's many point
appends undo at once). A stroke is one step however slowly its points arrive: a change that
only appends points to the stroke the same user began last (with nothing else of theirs in
between) joins that stroke's step, so a slow pointer or a busy client never splits a stroke
into several undos. The stack depth is bounded: past ``max_depth`` (plus a little slack,
to amortise the cost) the manager is rebuilt around the newest ``max_depth`` items.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map, UndoManager

from collab.session.layer_events import LayerEvent, observe_layers, unobserve_layers

log = logging.getLogger(__name__)

_TRIM_SLACK = 16


class _Clock:
    """Milliseconds for one user's UndoManager; ``cut`` jumps ahead so the next change starts
    a new undo step (pycrdt has no ``stop_capturing``)."""

    def __init__(self, capture_ms: int) -> None:
        self._offset = 0
        self._capture_ms = capture_ms
        self._last = 0
        self._hold = False

    def __call__(self) -> int:
        if self._hold:  # the change joins the previous step: no time has passed for it
            self._hold = False
            return self._last
        self._last = time.monotonic_ns() // 1_000_000 + self._offset
        return self._last

    def cut(self) -> None:
        self._hold = False
        self._offset += self._capture_ms + 1

    def hold(self) -> None:
        """The next change merges with the previous one, however late it comes."""
        self._hold = True


@dataclass
class _UserUndo:
    manager: UndoManager
    clock: _Clock
    # (layer id, stroke id) of the stroke this user began in their latest change, if any
    stroke: tuple[str, str] | None = None


@dataclass(frozen=True)
class UndoState:
    can_undo: bool
    can_redo: bool


class RoomUndo:
    """The undo managers of every user of one document. With ``observe=False`` the owner
    feeds it the layers' events (``on_layers``) from an observer it shares (the room's)."""

    def __init__(
        self, doc: Doc[Any], *, max_depth: int, capture_ms: int, observe: bool = True
    ) -> None:
        self._scopes = [doc.get("meta", type=Map), doc.get("layers", type=Array)]
        self._max_depth = max_depth
        self._capture_ms = capture_ms
        self._users: dict[str, _UserUndo] = {}
        self._layers: Array[Any] = doc.get("layers", type=Array)
        self._applying: _UserUndo | None = None  # whose change is being applied now
        self._strokes = _StrokeIds(self._layers)
        # Deep observers run before the undo managers read their clocks (end of transaction).
        self._subscription = observe_layers(doc, self._layers, self.on_layers) if observe else None

    def close(self) -> None:
        if self._subscription is not None:
            unobserve_layers(self._subscription)
            self._subscription = None

    def track(self, user_id: str) -> None:
        """Make sure ``user_id``'s changes are recorded (call before applying them)."""
        if user_id not in self._users:
            clock = _Clock(self._capture_ms)
            self._users[user_id] = _UserUndo(self._new_manager(user_id, clock), clock)
        self._applying = self._users[user_id]

    def finish(self) -> None:
        """The change ``track`` announced is applied (or failed): later changes are not it."""
        self._applying = None

    def on_layers(self, events: list[LayerEvent]) -> None:
        entry = self._applying
        if entry is None:
            self._strokes.forget_if_shifted(events)
            return
        try:
            began, appended = self._strokes.changes(events)
        except Exception:  # only a grouping hint: it must never break applying an update
            log.exception("could not inspect a layers change for undo")
            began, appended = None, None
        if appended is not None and appended == entry.stroke:
            entry.clock.hold()
        else:
            entry.stroke = began

    def after_change(self, user_id: str) -> None:
        """Bound the user's stack after one of their changes was applied."""
        self.finish()
        entry = self._users.get(user_id)
        if entry is None:
            return
        stack = entry.manager.undo_stack
        if len(stack) > self._max_depth + _TRIM_SLACK:
            redo = entry.manager.redo_stack
            entry.manager = self._new_manager(
                user_id,
                entry.clock,
                undo_stack=stack[-self._max_depth :],
                redo_stack=redo[-self._max_depth :],
            )

    def cut(self, user_id: str) -> None:
        """End the current capture: the user's next change is a separate undo step."""
        entry = self._users.get(user_id)
        if entry is not None:
            entry.clock.cut()
            entry.stroke = None

    def undo(self, user_id: str) -> bool:
        entry = self._users.get(user_id)
        if entry is None:
            return False
        entry.clock.cut()
        entry.stroke = None
        return entry.manager.undo()

    def redo(self, user_id: str) -> bool:
        entry = self._users.get(user_id)
        if entry is None:
            return False
        entry.clock.cut()
        entry.stroke = None
        return entry.manager.redo()

    def state(self, user_id: str) -> UndoState:
        entry = self._users.get(user_id)
        if entry is None:
            return UndoState(can_undo=False, can_redo=False)
        return UndoState(entry.manager.can_undo(), entry.manager.can_redo())

    def depth(self, user_id: str) -> int:
        entry = self._users.get(user_id)
        return 0 if entry is None else len(entry.manager.undo_stack)

    def _new_manager(
        self,
        user_id: str,
        clock: _Clock,
        *,
        undo_stack: list[Any] | None = None,
        redo_stack: list[Any] | None = None,
    ) -> UndoManager:
        manager = UndoManager(
            scopes=list(self._scopes),
            capture_timeout_millis=self._capture_ms,
            timestamp=clock,
            undo_stack=undo_stack,
            redo_stack=redo_stack,
        )
        manager.include_origin(user_id)
        return manager


class _StrokeIds:
    """Which stroke a change began or appended points to, by (layer id, stroke id).

    Reading ids through pycrdt's wrappers costs several transactions per read, and a point
    append (nine updates in ten while painting) would need one every time; so the ids found
    at a (layer index, stroke index) are cached until a change may have moved what those
    indexes point at (anything but point edits and strokes appended at the end of a layer).
    """

    def __init__(self, layers: Array[Any]) -> None:
        self._layers = layers
        self._cache: dict[tuple[int, int], tuple[str, str] | None] = {}

    def forget_if_shifted(self, events: list[LayerEvent]) -> None:
        if self._cache and any(not _is_points_event(e) for e in events):
            self._cache.clear()

    def changes(
        self, events: list[LayerEvent]
    ) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        """(the stroke a transaction began, the stroke it only appended points to): each None
        unless the whole transaction is exactly that."""
        if len(events) != 1:
            self.forget_if_shifted(events)
            return None, None
        event = events[0]
        path = event.path
        if _is_points_event(event):
            if any(set(d) - {"insert", "retain"} for d in event.delta):
                return None, None
            return None, self._ids(path[0], path[2])
        appended_at = _appended_stroke(event)
        if appended_at is None:
            self._cache.clear()
            return None, None
        layer_index, stroke_index = appended_at
        if not self._is_last(layer_index, stroke_index):
            self._cache.clear()  # an insert before other strokes shifts their indexes
        return self._ids(layer_index, stroke_index), None

    def _is_last(self, layer_index: Any, stroke_index: int) -> bool:
        if not isinstance(layer_index, int) or not 0 <= layer_index < len(self._layers):
            return False
        layer = self._layers[layer_index]
        strokes = layer.get("strokes") if isinstance(layer, Map) else None
        return isinstance(strokes, Array) and stroke_index == len(strokes) - 1

    def _ids(self, layer_index: Any, stroke_index: Any) -> tuple[str, str] | None:
        if not isinstance(layer_index, int) or not isinstance(stroke_index, int):
            return None
        key = (layer_index, stroke_index)
        if key not in self._cache:
            self._cache[key] = _ids(self._layers, layer_index, stroke_index)
        return self._cache[key]


def _is_points_event(event: LayerEvent) -> bool:
    path = event.path
    return event.is_array and len(path) == 4 and path[1] == "strokes" and path[3] == "points"


def _appended_stroke(event: LayerEvent) -> tuple[Any, int] | None:
    """(layer index, stroke index) when ``event`` inserts exactly one stroke and nothing else."""
    path = event.path
    if not (event.is_array and len(path) == 2 and path[1] == "strokes"):
        return None
    delta = event.delta
    if any(set(d) - {"insert", "retain"} for d in delta):
        return None
    inserted = [item for d in delta for item in d.get("insert", [])]
    if len(inserted) != 1:
        return None
    return path[0], sum(d.get("retain", 0) for d in delta)


def _ids(layers: Array[Any], layer_index: Any, stroke_index: Any) -> tuple[str, str] | None:
    """(layer id, stroke id) of ``layers[layer_index].strokes[stroke_index]``, if both exist."""
    if not isinstance(layer_index, int) or not 0 <= layer_index < len(layers):
        return None
    layer = layers[layer_index]
    strokes = layer.get("strokes") if isinstance(layer, Map) else None
    if not isinstance(strokes, Array) or not isinstance(stroke_index, int):
        return None
    if not 0 <= stroke_index < len(strokes):
        return None
    stroke = strokes[stroke_index]
    layer_id, stroke_id = layer.get("id"), stroke.get("id") if isinstance(stroke, Map) else None
    if isinstance(layer_id, str) and isinstance(stroke_id, str):
        return layer_id, stroke_id
    return None
