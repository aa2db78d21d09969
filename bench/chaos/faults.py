"""The fault injector: after a warm-up, one fault after another in a fixed cycle (SIGKILL and
restart an instance, restart Redis, cut Postgres, SIGSTOP/SIGCONT an instance, drop an
instance's client connections), with quiet load in between; after each fault ends, the time
until every painter holds every edit made before that moment (convergence)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bench.chaos.config import FAULT_CYCLE, ChaosConfig, FaultKind
from bench.chaos.ledger import Ledger, Phase
from bench.chaos.proxy import ProxyProcess
from bench.chaos.services import PrivateRedis
from bench.chaos.topology import Cluster

log = logging.getLogger(__name__)

_OFFSET = {FaultKind.KILL_INSTANCE: 0, FaultKind.PAUSE_INSTANCE: 1, FaultKind.DROP_CLIENTS: 2}


@dataclass
class FaultEvent:
    kind: FaultKind
    target: str
    started: float  # time.monotonic()
    ended: float | None = None
    converged_after: float | None = None  # seconds from ``ended``; None: not within the limit
    error: str | None = None


class FaultInjector:
    """Injects faults into ``cluster``, ``redis`` and the ``proxy`` paths until ``duration``
    has passed since ``run`` began (the fault under way is finished, never left half-done)."""

    def __init__(
        self, config: ChaosConfig, cluster: Cluster, redis: PrivateRedis, proxy: ProxyProcess
    ) -> None:
        self.config = config
        self.cluster = cluster
        self.redis = redis
        self.proxy = proxy
        self.events: list[FaultEvent] = []
        self.ledger: Ledger | None = None
        self._watchers: set[asyncio.Task[None]] = set()

    def phase_of(self, sent: float, arrived: float) -> Phase:
        """An edit in flight from ``sent`` to ``arrived`` travelled during a fault if one was
        under way at any moment of that, after a fault if one ended shortly before it was
        sent, and in steady state otherwise."""
        after = False
        for event in self.events:
            if event.started <= arrived and (event.ended is None or sent <= event.ended):
                return Phase.FAULT
            if event.ended is not None and 0 < sent - event.ended <= self.config.after_window:
                after = True
        return Phase.AFTER if after else Phase.STEADY

    def down(self) -> set[str]:
        """Instances that cannot answer now (killed or paused)."""
        return {i.name for i in self.cluster.instances if i.process.paused or not i.process.running}

    async def run(self) -> None:
        config = self.config
        deadline = time.monotonic() + config.duration
        await asyncio.sleep(config.warmup)
        turn = 0
        while time.monotonic() < deadline or turn < len(FAULT_CYCLE):  # every kind at least once
            kind = FAULT_CYCLE[turn % len(FAULT_CYCLE)]
            turn += 1
            event = FaultEvent(kind, self._target(kind), time.monotonic())
            self.events.append(event)
            log.info("fault", extra={"kind": str(kind), "target": event.target})
            try:
                await self._inject(kind, event.target)
            except Exception as exc:
                event.error = repr(exc)
                log.exception("fault injection failed", extra={"kind": str(kind)})
            event.ended = time.monotonic()
            self._watch(event)
            await asyncio.sleep(config.quiet)
        await self.settle()

    def _target(self, kind: FaultKind) -> str:
        if kind is FaultKind.RESTART_REDIS:
            return "redis"
        if kind is FaultKind.CUT_POSTGRES:
            return "postgres"
        # Each kind moves on to the next instance; the kinds start on different ones.
        done = sum(1 for event in self.events if event.kind is kind)
        instances = self.cluster.instances
        return instances[(done + _OFFSET[kind]) % len(instances)].name

    async def _inject(self, kind: FaultKind, target: str) -> None:
        config = self.config
        instance = next((i for i in self.cluster.instances if i.name == target), None)
        if kind is FaultKind.KILL_INSTANCE:
            assert instance is not None
            await instance.process.kill()
            await asyncio.sleep(config.kill_down)
            await instance.start()
        elif kind is FaultKind.PAUSE_INSTANCE:
            assert instance is not None
            instance.process.pause()
            try:
                await asyncio.sleep(config.pause)
            finally:
                instance.process.resume()
        elif kind is FaultKind.RESTART_REDIS:
            await self.redis.restart(config.redis_down)
        elif kind is FaultKind.CUT_POSTGRES:
            await self.proxy.cut("pg")
            try:
                await asyncio.sleep(config.postgres_cut)
            finally:
                await self.proxy.restore("pg")
        elif kind is FaultKind.DROP_CLIENTS:
            await self.proxy.cut(f"c{target[1:]}")
            try:
                await asyncio.sleep(config.drop_down)
            finally:
                await self.proxy.restore(f"c{target[1:]}")

    def _watch(self, event: FaultEvent) -> None:
        if self.ledger is None:
            return
        task = asyncio.create_task(self._converge(event, self.ledger))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _converge(self, event: FaultEvent, ledger: Ledger) -> None:
        assert event.ended is not None
        targets = ledger.targets()
        try:
            async with asyncio.timeout(self.config.converge_timeout):
                while not ledger.reached(targets):
                    await asyncio.sleep(0.05)
        except TimeoutError:
            log.warning("no convergence after fault", extra={"kind": str(event.kind)})
            return
        event.converged_after = time.monotonic() - event.ended

    async def settle(self) -> None:
        """Wait for the convergence watchers of the faults so far."""
        if self._watchers:
            await asyncio.gather(*self._watchers, return_exceptions=True)
