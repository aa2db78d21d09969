"""A stroke is one undo step however slowly its points arrive (collab/session/undo.py).

The clock is a fake that moves two seconds per reading, far past the capture window, so every
change arrives "late": only the stroke-continuation rule can merge them.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pycrdt import Array, Doc

from canvasdoc.canvas import Canvas
from collab.session import undo as undo_module
from collab.session.undo import RoomUndo


@pytest.fixture
def late_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    now = [0]

    def monotonic_ns() -> int:
        now[0] += 2_000_000_000
        return now[0]

    monkeypatch.setattr(undo_module, "time", types.SimpleNamespace(monotonic_ns=monotonic_ns))
    yield


@pytest.fixture
def room() -> tuple[Doc[Any], Canvas, RoomUndo, str]:
    doc: Doc[Any] = Doc()
    canvas = Canvas(doc)
    undo = RoomUndo(doc, max_depth=100, capture_ms=500)
    with doc.transaction(origin="setup"):
        layer = canvas.add_layer("Ink", kind="paint")
    return doc, canvas, undo, layer


def _as(doc: Doc[Any], undo: RoomUndo, user: str, change: Callable[[], Any]) -> Any:
    undo.track(user)
    try:
        with doc.transaction(origin=user):
            return change()
    finally:
        undo.after_change(user)


def _points(canvas: Canvas) -> list[tuple[float, ...]]:
    return [stroke.points for stroke in canvas.read_layers()[0].strokes]


@pytest.mark.usefixtures("late_clock")
def test_a_slow_stroke_undoes_in_one_step(room: Any) -> None:
    doc, canvas, undo, layer = room
    stroke = _as(doc, undo, "ann", lambda: canvas.begin_stroke(layer, points=[1, 1]))
    for i in range(2, 6):
        _as(doc, undo, "ann", lambda i=i: canvas.append_points(layer, stroke, [i, i]))
    assert undo.depth("ann") == 1
    assert undo.undo("ann")
    assert _points(canvas) == []
    assert not undo.state("ann").can_undo
    assert undo.redo("ann")
    assert _points(canvas) == [(1, 1, 2, 2, 3, 3, 4, 4, 5, 5)]


@pytest.mark.usefixtures("late_clock")
def test_anything_else_in_between_ends_the_stroke_step(room: Any) -> None:
    doc, canvas, undo, layer = room
    first = _as(doc, undo, "ann", lambda: canvas.begin_stroke(layer, points=[1, 1]))
    _as(doc, undo, "ann", lambda: canvas.update_layer(layer, opacity=50))
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, first, [2, 2]))
    second = _as(doc, undo, "ann", lambda: canvas.begin_stroke(layer, points=[9, 9]))
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, first, [3, 3]))  # not the last one
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, second, [8, 8]))
    assert undo.depth("ann") == 6  # every change its own step: none continued the last stroke
    undo.undo("ann")
    assert _points(canvas) == [(1, 1, 2, 2, 3, 3), (9, 9)]
    undo.undo("ann")
    assert _points(canvas) == [(1, 1, 2, 2), (9, 9)]


@pytest.mark.usefixtures("late_clock")
def test_another_users_stroke_in_between_does_not_split_mine(room: Any) -> None:
    doc, canvas, undo, layer = room
    mine = _as(doc, undo, "ann", lambda: canvas.begin_stroke(layer, points=[1, 1]))
    theirs = _as(doc, undo, "bob", lambda: canvas.begin_stroke(layer, points=[5, 5]))
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, mine, [2, 2]))
    _as(doc, undo, "bob", lambda: canvas.append_points(layer, theirs, [6, 6]))
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, mine, [3, 3]))
    assert undo.depth("ann") == 1 and undo.depth("bob") == 1
    undo.undo("ann")
    assert _points(canvas) == [(5, 5, 6, 6)]
    undo.cut("ann")  # an undo or an explicit cut ends the stroke: a late point is its own step
    undo.redo("ann")
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, mine, [4, 4]))
    assert undo.depth("ann") == 2


@pytest.mark.usefixtures("late_clock")
def test_a_stroke_that_moved_is_not_taken_for_the_one_now_at_its_index(room: Any) -> None:
    """Stroke ids are cached by (layer, stroke) index between changes; a deletion before a
    stroke moves it, and the stroke that takes its old index is another one."""
    doc, canvas, undo, layer = room
    theirs = _as(doc, undo, "bob", lambda: canvas.begin_stroke(layer, points=[0, 0]))
    mine = _as(doc, undo, "ann", lambda: canvas.begin_stroke(layer, points=[1, 1]))  # index 1
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, mine, [2, 2]))
    assert undo.depth("ann") == 1

    def erase_theirs() -> None:
        strokes = doc.get("layers", type=Array)[0]["strokes"]
        del strokes[0]  # ann's stroke moves to index 0

    _as(doc, undo, "bob", erase_theirs)
    carols = _as(doc, undo, "carol", lambda: canvas.begin_stroke(layer, points=[5, 5]))
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, carols, [6, 6]))  # now index 1
    assert undo.depth("ann") == 2  # not a continuation of ann's own stroke
    _as(doc, undo, "ann", lambda: canvas.append_points(layer, mine, [3, 3]))
    assert undo.depth("ann") == 3  # her stroke's step ended when she drew elsewhere
    assert theirs not in {s.id for s in canvas.read_layers()[0].strokes}
