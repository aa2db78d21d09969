"""Small asyncio primitives for objects every connection holds (memory per connection counts:
docs/performance.md, S3)."""

from __future__ import annotations

import asyncio


class LightEvent:
    """``asyncio.Event``'s API (``set``, ``clear``, ``is_set``, ``wait``) without the deque
    an Event allocates up front (~760 B with the Event): waiters are listed only while some
    coroutine actually waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True
