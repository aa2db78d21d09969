"""Painting clients as a browser runs them: the project's ``CanvasClient`` (reconnect with
exponential backoff and full jitter, offline edits sent in the next handshake), each painting
on its own layer of a shared document and moving its cursor, every edit recorded in the
ledger."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from pycrdt import TransactionEvent

from bench.chaos.ledger import Ledger, decode_state_vector
from client import Backoff, CanvasClient

log = logging.getLogger(__name__)

_NEW_STROKE_SHARE = 0.3  # the other edits append points to the painter's current stroke
_COLORS = ("#d03030", "#30a040", "#3050d0", "#c0a020", "#8040c0")


class Painter:
    """Painter ``index`` on document ``doc_id`` through ``server_url``. Its edits write
    points whose x coordinate is the edit's sequence number (y: 10 for a new stroke, 20 for
    appended points), so a document shows which edits it holds."""

    def __init__(
        self, index: int, doc_id: str, server_url: str, ledger: Ledger, rng: random.Random
    ) -> None:
        self.index = index
        self.doc_id = doc_id
        self.name = f"p{index}"
        self.layer_id = f"layer-{self.name}"
        self.ledger = ledger
        self.rng = rng
        self.client = CanvasClient(
            server_url,
            doc_id,
            user=self.name,
            backoff=Backoff(base=0.2, cap=5.0, rng=random.Random(rng.random())),
        )
        self._seq = 0
        self._stroke: str | None = None
        self._subscription: Any = None

    @property
    def client_id(self) -> int:
        return int(self.client.doc.client_id)

    async def start(self) -> None:
        self.ledger.join(self.index, self.doc_id, self.client_id)
        self._subscription = self.client.doc.observe(self._on_change)
        await self.client.start()

    async def stop(self) -> None:
        await self.client.stop()
        if self._subscription is not None:
            self.client.doc.unobserve(self._subscription)
            self._subscription = None

    def _on_change(self, event: TransactionEvent) -> None:
        # pycrdt's stubs lack after_state; the doc itself cannot be read inside the callback.
        self.ledger.observe(self.index, event.after_state)  # type: ignore[attr-defined]

    def _own_clock(self) -> int:
        return decode_state_vector(self.client.doc.get_state()).get(self.client_id, 0)

    def edit(self) -> None:
        """One edit of the replica, connected or not (sent now, or in the next handshake)."""
        self._seq += 1
        seq = self._seq
        canvas = self.client.canvas
        if seq == 1:
            canvas.add_layer(self.name, kind="paint", layer_id=self.layer_id)
            self.ledger.record(self.index, "layer", self.layer_id, None, seq, self._own_clock())
            return
        if self._stroke is None or self.rng.random() < _NEW_STROKE_SHARE:
            stroke = f"s{self.index}-{seq}"
            color = self.rng.choice(_COLORS)
            canvas.begin_stroke(
                self.layer_id, stroke_id=stroke, color=color, size=4, points=[seq, 10]
            )
            self._stroke = stroke
            kind = "stroke"
        else:
            canvas.append_points(self.layer_id, self._stroke, [seq, 20])
            kind = "points"
        self.ledger.record(self.index, kind, self.layer_id, self._stroke, seq, self._own_clock())

    def move_cursor(self, side: int) -> None:
        cursor = {"x": self.rng.randrange(side), "y": self.rng.randrange(side)}
        self.client.set_presence({"user": self.name, "cursor": cursor})

    async def paint(
        self, stop: asyncio.Event, per_second: float, presence_every: float, side: int
    ) -> None:
        """Edit about ``per_second`` times a second (jittered) until ``stop`` is set."""
        next_presence = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self.edit()
            if loop.time() >= next_presence:
                self.move_cursor(side)
                next_presence = loop.time() + presence_every * self.rng.uniform(0.5, 1.5)
            delay = self.rng.expovariate(per_second)
            try:
                async with asyncio.timeout(min(delay, 5.0)):
                    await stop.wait()
            except TimeoutError:
                pass
