"""Real pycrdt updates shaped like painting, built before the measured window.

Every room starts from the same seed document (``meta`` and one paint layer with an empty
``strokes`` array, the schema of docs/protocol.md). Each simulated user holds a pycrdt replica
of the seed with its own client id and paints: a stroke begins with one update that appends a
stroke Map (``id``, ``tool``, ``color``, ``size``, ``hardness``, ``opacity``, ``points``) to the
layer's strokes, then ``POINTS_PER_STROKE`` updates each append two x,y pairs to that stroke's
``points`` -- what a drawing client sends while the pen moves. A replica never applies the
other users' updates (that would cost the generator a CRDT per client), so concurrent strokes
of a room are appended after each user's own last stroke, exactly as concurrent editors'.
"""

from __future__ import annotations

import random
from typing import Any

from pycrdt import Array, Doc, Map, TransactionEvent

from bench.load.wsclient import sync_message, update_key

SEED_CLIENT_ID = 1
POINTS_PER_STROKE = 9  # point-append updates after each stroke's first update
_COLORS = ("#3366ff", "#ff6633", "#22aa55", "#222222", "#ffcc00", "#aa33cc")


def _build_seed() -> tuple[bytes, bytes]:
    doc: Doc[Any] = Doc(client_id=SEED_CLIENT_ID)
    meta = doc.get("meta", type=Map)
    layers = doc.get("layers", type=Array)
    with doc.transaction():
        meta.update({"name": "bench", "width": 1920, "height": 1080, "dpi": 72})
        layers.append(
            Map(
                {
                    "id": "layer-1",
                    "name": "Paint",
                    "kind": "paint",
                    "blend_mode": "normal",
                    "opacity": 100,
                    "visible": True,
                    "locked": False,
                    "x": 0,
                    "y": 0,
                    "strokes": Array(),
                }
            )
        )
    return doc.get_update(), doc.get_state()


SEED_UPDATE, SEED_STATE = _build_seed()
SEED_MESSAGE = sync_message(2, SEED_UPDATE)


class Painter:
    """One user's replica; ``next_update`` returns the next painting update and its key."""

    def __init__(self, client_id: int, label: str, seed: int) -> None:
        self.client_id = client_id
        self._label = label
        self._rng = random.Random(seed)
        self._doc: Doc[Any] = Doc(client_id=client_id)
        self._doc.apply_update(SEED_UPDATE)
        self._strokes: Array[Any] = self._doc.get("layers", type=Array)[0]["strokes"]
        self._points: Array[Any] | None = None
        self._count = 0
        self._in_stroke = 0
        self._x = self._y = 0.0
        self._last: bytes = b""
        self._doc.observe(self._capture)

    def _capture(self, event: TransactionEvent) -> None:
        self._last = event.update

    def next_update(self) -> tuple[int, bytes]:
        rng = self._rng
        if self._points is None or self._in_stroke >= POINTS_PER_STROKE:
            self._x = round(rng.uniform(0, 1920), 1)
            self._y = round(rng.uniform(0, 1080), 1)
            stroke = Map(
                {
                    "id": f"{self._label}-s{self._count:06d}",
                    "tool": "brush",
                    "color": rng.choice(_COLORS),
                    "size": float(rng.choice((2, 4, 8, 12, 24))),
                    "hardness": 0.8,
                    "opacity": 100,
                    "points": Array([self._x, self._y]),
                }
            )
            with self._doc.transaction():
                self._strokes.append(stroke)
            self._points = stroke["points"]  # type: ignore[assignment]
            self._in_stroke = 0
        else:
            pts: list[float] = []
            for _ in range(2):
                self._x = round(self._x + rng.uniform(-6, 6), 1)
                self._y = round(self._y + rng.uniform(-6, 6), 1)
                pts += (self._x, self._y)
            with self._doc.transaction():
                self._points.extend(pts)
            self._in_stroke += 1
        self._count += 1
        update = self._last
        return update_key(update), update


def build_document(n_updates: int, client_id: int = 7) -> list[tuple[int, bytes]]:
    """``n_updates`` painting updates by one user on the seed (S4's big document)."""
    painter = Painter(client_id, "big", seed=20000)
    return [painter.next_update() for _ in range(n_updates)]
