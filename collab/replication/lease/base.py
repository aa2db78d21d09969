"""Named, expiring, exclusive leases: one snapshot writer per document across instances.

A lease is held by one *owner* (an instance) until it is released or its TTL runs out; the
holder keeps it by renewing well within the TTL. Holding a lease is advisory: code that
writes under it must stop when ``renew`` returns False.

Because a holder can be paused past its TTL (GC, SIGSTOP, a stalled VM) and then finish a
write it started, ``acquire_fenced`` returns a *fencing token*: a number per lease name that
grows with every new holding (a renewal by the same owner keeps it). Writes carry the token
and the store refuses one older than the newest it has seen, so the late writer loses.
Counters start from the wall clock in milliseconds (see :func:`first_token`), so tokens keep
growing across restarts (of the process, or of a Redis without persistence) as long as the
clock does not go back and a name is taken less than a thousand times a second.

Exception tree::

    LeaseError
     ├── LeaseUnavailable  the backend cannot be reached (treat the lease as not held)
     ├── AlreadyStarted
     └── NotStarted
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from abc import abstractmethod

from foundation.lifecycle import Lifecycle

logger = logging.getLogger(__name__)


class LeaseError(Exception):
    """Base class of every lease error."""


class LeaseUnavailable(LeaseError):
    """The lease backend cannot be reached; whether the lease is held is unknown."""


class AlreadyStarted(LeaseError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is already started")


class NotStarted(LeaseError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not started; use 'async with' or await start() first")


def first_token() -> int:
    """Where a lease name's token counter starts: the wall clock in milliseconds."""
    return time.time_ns() // 1_000_000


def check_owner(owner: str | None) -> str:
    if owner is None:
        return uuid.uuid4().hex
    if not isinstance(owner, str) or not owner:
        raise ValueError(f"lease owner must be a non-empty string, got {owner!r}")
    return owner


def check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"lease name must be a non-empty string, got {name!r}")


def check_ttl(ttl: float) -> None:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl):
        raise ValueError(f"lease ttl must be a finite number of seconds, got {ttl!r}")
    if ttl <= 0:
        raise ValueError(f"lease ttl must be > 0 seconds, got {ttl}")


class Lease(Lifecycle):
    """Exclusive, expiring leases taken in the name of :attr:`owner`.

    Subclasses implement ``_open``/``_close`` and the ``_acquire``-style methods; this class
    owns the lifecycle and argument checks. Every method raises :class:`NotStarted` outside
    ``start()``..``stop()``; Redis failures raise :class:`LeaseUnavailable`.
    """

    kind: str
    already_started = AlreadyStarted
    not_started = NotStarted

    def __init__(self, *, owner: str | None = None) -> None:
        super().__init__()
        self.owner = check_owner(owner)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(owner={self.owner!r})"

    async def acquire(self, name: str, ttl: float) -> bool:
        """Take ``name`` for ``ttl`` seconds if it is free or expired, or renew it if this
        owner holds it already. False if another owner holds it."""
        return await self.acquire_fenced(name, ttl) is not None

    async def acquire_fenced(self, name: str, ttl: float) -> int | None:
        """:meth:`acquire` that returns the holding's fencing token, or None if another
        owner holds ``name``.

        A newly taken lease gets a token greater than every token of ``name`` handed out
        before (also by an earlier process: counters start from the wall clock in
        milliseconds); a renewal by the holder keeps its token.
        """
        self._check_started()
        check_name(name)
        check_ttl(ttl)
        return await self._acquire(name, ttl)

    async def renew(self, name: str, ttl: float) -> bool:
        """Extend the lease to ``ttl`` seconds from now, only if this owner still holds it.

        False means it expired (and may belong to someone else now): stop writing.
        """
        self._check_started()
        check_name(name)
        check_ttl(ttl)
        return await self._renew(name, ttl)

    async def release(self, name: str) -> None:
        """Give the lease up if this owner holds it; otherwise do nothing."""
        self._check_started()
        check_name(name)
        await self._release(name)

    async def holder(self, name: str) -> str | None:
        """The owner holding ``name`` now, or None (for tests and health pages)."""
        self._check_started()
        check_name(name)
        return await self._holder(name)

    @abstractmethod
    async def _acquire(self, name: str, ttl: float) -> int | None: ...

    @abstractmethod
    async def _renew(self, name: str, ttl: float) -> bool: ...

    @abstractmethod
    async def _release(self, name: str) -> None: ...

    @abstractmethod
    async def _holder(self, name: str) -> str | None: ...
