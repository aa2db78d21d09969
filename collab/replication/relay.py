"""Hands envelopes from the rooms' synchronous code to the broker, in order.

Rooms must never await the network inside an update; ``send`` only enqueues and one task
awaits ``broker.publish`` for each envelope in turn, so per-document order is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from collab.replication.broker.base import Broker, Envelope

log = logging.getLogger(__name__)


class EnvelopeRelay:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._queue: deque[Envelope] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def instance_id(self) -> str:
        return self.broker.instance_id

    def send(self, envelope: Envelope) -> None:
        if self.broker.alone:
            return  # no other instance has ever been there to receive it
        self._queue.append(envelope)
        self._wakeup.set()

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("relay already started")
        self._task = asyncio.create_task(self._run(), name="broker-relay")

    async def stop(self) -> None:
        """Publish what is queued (briefly), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while self._queue:
                    await asyncio.sleep(0.01)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def __aenter__(self) -> EnvelopeRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            envelope = self._queue.popleft()
            try:
                await self.broker.publish(envelope)
            except Exception:
                log.exception("publishing an envelope failed", extra={"doc_id": envelope.doc_id})
