"""Small asyncio primitives for objects every connection holds (memory per connection counts:
docs/performance.md, S3)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class LightEvent:
    """``asyncio.Event``'s API (``set``, ``clear``, ``is_set``, ``wait``) without the deque
    an Event allocates up front (~760 B with the Event): waiters are listed only while some
    coroutine actually waits."""

    __slots__ = ("_callbacks", "_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None
        self._callbacks: list[Callable[[], None]] | None = None

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
        callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks or ():
            callback()

    def call_when_set(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once, from ``set`` (at once if already set): what a waiting
        coroutine would do, without a suspended coroutine (and its task) per waiter."""
        if self._set:
            callback()
            return
        if self._callbacks is None:
            self._callbacks = []
        self._callbacks.append(callback)

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
