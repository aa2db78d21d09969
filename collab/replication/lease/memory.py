"""In-process leases: instances in one process share a :class:`LeaseRegistry`."""

from __future__ import annotations

import time
from collections.abc import Callable

from collab.replication.lease.base import Lease, first_token


class LeaseRegistry:
    """Lease holders and expiry times, shared by the :class:`MemoryLease` objects using it.

    Leases sharing a registry must share a clock (expiry times are compared across them).
    """

    def __init__(self) -> None:
        self.entries: dict[str, tuple[str, float]] = {}  # name -> (owner, expires_at)
        self.fences: dict[str, int] = {}  # name -> the newest fencing token handed out

    def holder(self, name: str, now: float) -> str | None:
        entry = self.entries.get(name)
        if entry is None:
            return None
        if entry[1] <= now:
            del self.entries[name]
            return None
        return entry[0]


class MemoryLease(Lease):
    """:class:`Lease` over a :class:`LeaseRegistry` (a private one unless given)."""

    kind = "memory"

    def __init__(
        self,
        registry: LeaseRegistry | None = None,
        *,
        owner: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(owner=owner)
        self.registry = LeaseRegistry() if registry is None else registry
        self._clock = clock

    async def _open(self) -> None:
        pass

    async def _close(self) -> None:
        pass

    # No awaits below: each operation is atomic on the event loop.

    async def _acquire(self, name: str, ttl: float) -> int | None:
        now = self._clock()
        holder = self.registry.holder(name, now)
        if holder not in (None, self.owner):
            return None
        if holder is None:  # newly taken: a new token
            fences = self.registry.fences
            fences[name] = max(fences.get(name, 0) + 1, first_token())
        self.registry.entries[name] = (self.owner, now + ttl)
        return self.registry.fences[name]

    async def _renew(self, name: str, ttl: float) -> bool:
        now = self._clock()
        if self.registry.holder(name, now) != self.owner:
            return False
        self.registry.entries[name] = (self.owner, now + ttl)
        return True

    async def _release(self, name: str) -> None:
        if self.registry.holder(name, self._clock()) == self.owner:
            del self.registry.entries[name]

    async def _holder(self, name: str) -> str | None:
        return self.registry.holder(name, self._clock())
