"""One server instance's long-lived components, started and stopped together."""

from __future__ import annotations

import logging
import uuid
from contextlib import AsyncExitStack

from collab.ai.host import JobsHost
from collab.auth import Authenticator, OpenAuthenticator
from collab.auth.access import AccessControl
from collab.auth.tokens import TokenIssuer
from collab.auth.tokens_auth import TokenAuthenticator
from collab.exceptions import SettingsError
from collab.observability.metrics import Metrics
from collab.render.pool import RenderPool
from collab.replication.access_audit import AccessAudit
from collab.replication.broker.base import Broker
from collab.replication.broker.factory import broker_from_url
from collab.replication.lease.base import Lease
from collab.replication.lease.factory import lease_from_url
from collab.replication.relay import EnvelopeRelay
from collab.session.budget import FrameBudget
from collab.session.limits import AddressGuard
from collab.session.rooms import RoomManager
from collab.settings import Settings
from persistence.access import access_for
from persistence.base import Store
from persistence.factory import is_postgres_url, store_from_url
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
        broker: Broker | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.settings = settings
        self.issuer: TokenIssuer | None = None
        if settings.auth_secret:
            self.issuer = TokenIssuer(settings.auth_secret, access_ttl=settings.access_token_ttl)
        elif not settings.loopback and not settings.allow_open:
            raise SettingsError(
                f"refusing open mode (no authentication) on the non-loopback address "
                f"{settings.host!r}: set NEXUS_AUTH_SECRET (32+ bytes) to require tokens, bind "
                "127.0.0.1, or set NEXUS_ALLOW_OPEN=1 to force it"
            )
        self.authenticator: Authenticator = authenticator or (
            TokenAuthenticator(self.issuer) if self.issuer else OpenAuthenticator()
        )
        self.metrics = Metrics()
        self.address_guard = AddressGuard(
            max_concurrent=settings.max_connections_per_ip,
            attempts_per_second=settings.connection_attempts_per_second,
            burst=2 * settings.connection_attempts_per_second,
        )
        # Bytes of frames held by all connections together (collab/session/budget.py).
        self.frame_budget = FrameBudget(settings.frame_budget_bytes)
        self.metrics.registry.register(self.frame_budget)
        self.instance_id = settings.instance_id or uuid.uuid4().hex[:12]
        self.store = store if store is not None else _store_for(settings)
        self.access_store = access_for(self.store)
        self.access = AccessControl(self.store, self.access_store)
        self.writer = GroupCommitWriter(
            self.store, window=settings.flush_window, max_pending=settings.store_max_pending
        )
        redis = {"namespace": settings.redis_namespace} if settings.redis_url else {}
        self.broker = broker or broker_from_url(
            settings.redis_url, instance_id=self.instance_id, **redis
        )
        self.lease = lease or lease_from_url(settings.redis_url, owner=self.instance_id, **redis)
        self.relay = EnvelopeRelay(self.broker)
        # Rendering runs in worker processes: skia holds the GIL for each draw call.
        self.render_pool = RenderPool(settings.render_workers, mode=settings.render_mode)
        self.rooms = RoomManager(
            self.store,
            self.writer,
            settings,
            self.metrics,
            broker=self.broker,
            relay=self.relay,
            lease=self.lease,
            keep_unedited=self._has_sharing,
        )
        # AI jobs: the queue, the workers' reports, and in embedded mode the worker itself.
        # Access changes lost while cut off from the broker: re-checked after each reconnect.
        self.access_audit = AccessAudit(self.broker, lambda: self.rooms.rooms, self.access)
        self.jobs = JobsHost(settings, self.store, self.rooms, metrics=self.metrics.jobs)
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        if self._stack is not None:
            raise RuntimeError("server already started")
        stack = AsyncExitStack()
        try:
            await stack.enter_async_context(self.store)
            await self.access_store.prepare()
            await stack.enter_async_context(self.writer)
            await stack.enter_async_context(self.broker)
            await stack.enter_async_context(self.lease)
            await stack.enter_async_context(self.relay)
            await stack.enter_async_context(self.rooms)
            await stack.enter_async_context(self.access_audit)
            await stack.enter_async_context(self.render_pool)
            await stack.enter_async_context(self.jobs)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        for problem in self.problems():
            log.warning("degraded at start-up", extra={"problem": problem})
        log.info(
            "server started",
            extra={
                "instance": self.instance_id,
                "store": self.store.kind,
                "broker": self.broker.kind,
                "auth": self.auth_mode,
                "flush_window_s": self.settings.flush_window,
            },
        )

    async def _has_sharing(self, doc_id: str) -> bool:
        """Members or share links were set up: keep the document's row though it is empty."""
        if await self.access_store.members(doc_id):
            return True
        return bool(await self.access_store.links(doc_id))

    @property
    def auth_mode(self) -> str:
        return "tokens" if self.issuer else "open"

    def problems(self) -> list[str]:
        """Degraded states, for /health: empty when all is well."""
        found = []
        if self.issuer is None and not self.settings.loopback:
            found.append(
                f"open mode (no authentication) forced on {self.settings.host}: anyone who "
                "can reach this port can edit every document"
            )
        if self.writer.failing:
            found.append(
                f"store unavailable ({self.writer.last_error}); buffering "
                f"{self.writer.pending} updates in memory"
            )
        if self._stack is not None and not self.broker.healthy:
            found.append("broker unavailable: other instances do not see this one's edits")
        return found

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


def _store_for(settings: Settings) -> Store:
    url = settings.store_url
    if is_postgres_url(url):
        return store_from_url(url, migrate=settings.migrate_on_start)
    return store_from_url(url)
