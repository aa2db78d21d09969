"""The start/stop lifecycle shared by long-lived components.

:class:`AsyncContext` makes anything with ``start``/``stop`` an async context manager.
:class:`Lifecycle` is the full lifecycle of a backend component (broker, lease, store, job
queue): ``start`` opens the backend (``_open``) and, if that fails, releases whatever it opened
(``_close``) before re-raising; starting twice raises the component's ``AlreadyStarted``;
``stop`` is idempotent and the component may be started again; the component is an async
context manager.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from types import TracebackType
from typing import ClassVar, Self

logger = logging.getLogger(__name__)


class AsyncContext(ABC):
    """``async with component:`` starts the component and stops it on the way out."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class Lifecycle(AsyncContext):
    already_started: ClassVar[type[Exception]]
    not_started: ClassVar[type[Exception]]

    def __init__(self) -> None:
        self._started = False

    @property
    def started(self) -> bool:
        return self._started

    async def start(self) -> None:
        """Open the backend; raises ``already_started`` if running."""
        if self._started:
            raise self.already_started(repr(self))
        try:
            await self._open()
        except BaseException:
            try:
                await self._close()
            except Exception:
                logger.exception("cleanup after failed start of %r failed", self)
            raise
        self._started = True

    async def stop(self) -> None:
        """Release the backend. Idempotent; the component may be started again."""
        if not self._started:
            return
        self._started = False
        try:
            await self._close()
        finally:
            await self._after_close()

    def _check_started(self) -> None:
        if not self._started:
            raise self.not_started(repr(self))

    @abstractmethod
    async def _open(self) -> None: ...

    @abstractmethod
    async def _close(self) -> None:
        """Release whatever ``_open`` acquired; must cope with a partially opened state."""

    async def _after_close(self) -> None:
        """Optional hook: extra clean-up after ``_close`` (runs even when it failed)."""
