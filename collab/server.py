"""One server instance's long-lived components, started and stopped together."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

from collab.auth import Authenticator, OpenAuthenticator
from collab.metrics import Metrics
from collab.rooms import RoomManager
from collab.settings import Settings
from persistence.base import Store
from persistence.factory import store_from_url
from persistence.writer import GroupCommitWriter

log = logging.getLogger(__name__)


class Server:
    """Store → group-commit writer → rooms; stopped in reverse order, flushing on the way."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.settings = settings
        self.authenticator: Authenticator = authenticator or OpenAuthenticator()
        self.metrics = Metrics()
        self.store = store if store is not None else store_from_url(settings.store_url)
        self.writer = GroupCommitWriter(self.store, window=settings.flush_window)
        self.rooms = RoomManager(self.store, self.writer, settings, self.metrics)
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        if self._stack is not None:
            raise RuntimeError("server already started")
        stack = AsyncExitStack()
        try:
            await stack.enter_async_context(self.store)
            await stack.enter_async_context(self.writer)
            await stack.enter_async_context(self.rooms)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        log.info(
            "server started",
            extra={"store": self.store.kind, "flush_window_s": self.settings.flush_window},
        )

    async def stop(self) -> None:
        if self._stack is None:
            return
        stack, self._stack = self._stack, None
        await stack.aclose()
        log.info("server stopped")

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
