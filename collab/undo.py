"""Per-user, server-side undo for one room.

The room applies each user's updates in a transaction whose origin is that user's id; each
user gets a pycrdt ``UndoManager`` that tracks only that origin, so undo reverts only the
caller's own changes (Yjs semantics when someone else has since edited on top). Changes of one
user closer together than ``capture_ms`` merge into one step (a brush stroke's many point
appends undo at once). The stack depth is bounded: past ``max_depth`` (plus a little slack,
to amortise the cost) the manager is rebuilt around the newest ``max_depth`` items.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, Doc, Map, UndoManager

_TRIM_SLACK = 16


class _Clock:
    """Milliseconds for one user's UndoManager; ``cut`` jumps ahead so the next change starts
    a new undo step (pycrdt has no ``stop_capturing``)."""

    def __init__(self, capture_ms: int) -> None:
        self._offset = 0
        self._capture_ms = capture_ms

    def __call__(self) -> int:
        return time.monotonic_ns() // 1_000_000 + self._offset

    def cut(self) -> None:
        self._offset += self._capture_ms + 1


@dataclass
class _UserUndo:
    manager: UndoManager
    clock: _Clock


@dataclass(frozen=True)
class UndoState:
    can_undo: bool
    can_redo: bool


class RoomUndo:
    """The undo managers of every user of one document."""

    def __init__(self, doc: Doc[Any], *, max_depth: int, capture_ms: int) -> None:
        self._scopes = [doc.get("meta", type=Map), doc.get("layers", type=Array)]
        self._max_depth = max_depth
        self._capture_ms = capture_ms
        self._users: dict[str, _UserUndo] = {}

    def track(self, user_id: str) -> None:
        """Make sure ``user_id``'s changes are recorded (call before applying them)."""
        if user_id not in self._users:
            clock = _Clock(self._capture_ms)
            self._users[user_id] = _UserUndo(self._new_manager(user_id, clock), clock)

    def after_change(self, user_id: str) -> None:
        """Bound the user's stack after one of their changes was applied."""
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

    def undo(self, user_id: str) -> bool:
        entry = self._users.get(user_id)
        if entry is None:
            return False
        entry.clock.cut()
        return entry.manager.undo()

    def redo(self, user_id: str) -> bool:
        entry = self._users.get(user_id)
        if entry is None:
            return False
        entry.clock.cut()
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
