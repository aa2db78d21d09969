"""Keepalive pings for every WebSocket of the process from one timer (docs/performance.md, S3).

uvicorn schedules a ping per connection with ``loop.call_later`` and, once the ping is sent, a
pong deadline the same way: each idle connection holds a ``TimerHandle``, uvloop's timer and a
copied ``Context``, ~0.8 KiB. Here a connection is only an entry in the set of the second its
next ping or pong deadline falls in; one timer, armed while any entry exists, handles each
second's set as that second ends. A ping or a deadline is at most a second (``TICK``) late,
never early.
"""

from __future__ import annotations

import asyncio
import math
from typing import Protocol

TICK = 1.0  # seconds: how late a ping or a pong deadline may be handled


class Keepalive(Protocol):
    """What the wheel needs of a connection: where it is filed, and what to do when due."""

    keepalive_tick: int  # the tick it is filed under, -1: none

    def keepalive_due(self) -> None:
        """Its next ping or pong deadline has come."""


class KeepaliveWheel:
    """Connections filed by the tick their keepalive is next due in, for one event loop."""

    __slots__ = ("_handle", "_next", "_ticks", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._ticks: dict[int, set[Keepalive]] = {}
        self._next = 0  # the first tick not handled yet
        self._handle: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return sum(map(len, self._ticks.values()))

    def add(self, conn: Keepalive, delay: float) -> None:
        """Call ``conn.keepalive_due()`` ``delay`` seconds from now (up to ``TICK`` later);
        replaces what ``conn`` was filed for."""
        self.remove(conn)
        tick = max(math.ceil((self.loop.time() + delay) / TICK), self._next)
        filed = self._ticks.get(tick)
        if filed is None:
            filed = self._ticks[tick] = set()
        filed.add(conn)
        conn.keepalive_tick = tick
        if self._handle is None:
            self._next = min(self._ticks)
            self._arm()

    def remove(self, conn: Keepalive) -> None:
        tick = conn.keepalive_tick
        if tick < 0:
            return
        conn.keepalive_tick = -1
        filed = self._ticks.get(tick)
        if filed is not None:
            filed.discard(conn)
            if not filed:
                del self._ticks[tick]

    def _arm(self) -> None:
        self._handle = self.loop.call_at(self._next * TICK, self._run)

    def _run(self) -> None:
        # ``_handle`` stays set meanwhile: what ``keepalive_due`` files again arms no timer.
        now = math.floor(self.loop.time() / TICK)
        while self._ticks and self._next <= now:
            filed = self._ticks.pop(self._next, None)
            self._next += 1
            for conn in filed or ():
                conn.keepalive_tick = -1
                conn.keepalive_due()  # may file it again, under a later tick
            if self._ticks and self._next <= now:
                self._next = max(self._next, min(self._ticks))
        self._handle = None
        if self._ticks:
            self._next = max(self._next, min(self._ticks))
            self._arm()


_wheel: KeepaliveWheel | None = None


def wheel(loop: asyncio.AbstractEventLoop) -> KeepaliveWheel:
    """The wheel of ``loop`` (the server runs one loop; tests run several in turn)."""
    global _wheel
    if _wheel is None or _wheel.loop is not loop:
        _wheel = KeepaliveWheel(loop)
    return _wheel
