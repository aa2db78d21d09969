"""The serving process's garbage-collection policy, and its pauses on ``/metrics``.

CPython's cyclic collector stops the event loop while it runs. Young collections are short
(they look at the objects allocated since the last one). A full collection walks every tracked
object of the process; under a connection storm (hundreds of connections' protocol objects
turning long-lived at once) CPython's own policy runs one every few seconds, each 30-150 ms
on this project's 2-core machines, and those pauses were the honest clients' p99 in the STARVE
benchmark (docs/performance.md).

``GcPolicy`` for a server process (``nexus-canvas serve``):

- once started, it collects and freezes (``gc.freeze``) what start-up imported and built, which
  lives as long as the process: no later collection walks it again;
- with ``full_interval`` > 0, automatic full collections are off (generation 2's threshold is
  raised out of reach) and one runs every ``full_interval`` seconds instead, from the event
  loop, so a storm cannot trigger a series of them. Young collections stay automatic and
  still free the cycles of short-lived objects (a refused upgrade, a request); only cycles
  among objects that had already become long-lived (a connection open for a while, then
  closed) wait for the scheduled collection. So that such garbage cannot pile up under heavy
  churn, a full collection also runs early when the process's RSS has grown by
  ``growth_trigger`` bytes since the last one (checked every second).
  ``full_interval`` = 0 keeps CPython's policy.

Every collection's pause is counted in ``nexus_gc_pause_seconds{generation}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any

from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

_PAUSE_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
_OUT_OF_REACH = 1 << 30  # generation 2's threshold while full collections are scheduled


class GcPauses(Collector):
    """Times every collection through ``gc.callbacks`` (plain ints; read when scraped)."""

    def __init__(self) -> None:
        self.buckets = [[0] * (len(_PAUSE_BUCKETS) + 1) for _ in range(3)]
        self.sums = [0.0, 0.0, 0.0]
        self._started = 0.0

    def callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        generation = info["generation"]
        self.buckets[generation][bisect_left(_PAUSE_BUCKETS, pause)] += 1
        self.sums[generation] += pause

    def count(self, generation: int) -> int:
        return sum(self.buckets[generation])

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "nexus_gc_pause_seconds",
            "How long each garbage collection stopped the process, by generation",
            labels=["generation"],
        )
        bounds = [*(repr(b) for b in _PAUSE_BUCKETS), "+Inf"]
        for generation in range(3):
            cumulative = list(accumulate(self.buckets[generation]))
            family.add_metric(
                [str(generation)],
                list(zip(bounds, cumulative, strict=True)),
                self.sums[generation],
            )
        yield family


class GcPolicy:
    """Applies the policy above for the lifetime of ``async with``; restores CPython's
    thresholds and unfreezes on exit."""

    def __init__(
        self,
        *,
        full_interval: float,
        freeze: bool = True,
        growth_trigger: int = 64 * 1024 * 1024,
        check_every: float = 1.0,
        rss: Callable[[], int] | None = None,
    ) -> None:
        if full_interval < 0:
            raise ValueError(f"full_interval must be >= 0 seconds, got {full_interval}")
        self.full_interval = full_interval
        self.freeze = freeze
        self.growth_trigger = growth_trigger
        self.check_every = min(check_every, full_interval) if full_interval else check_every
        self.early_full = 0  # full collections run early because the RSS grew
        self._rss = rss or rss_bytes
        self.pauses = GcPauses()
        self.scheduled_full = 0  # full collections run by the schedule
        self._thresholds: tuple[int, int, int] | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> GcPolicy:
        gc.callbacks.append(self.pauses.callback)
        if self.freeze:
            gc.collect()
            gc.freeze()
        if self.full_interval > 0:
            self._thresholds = gc.get_threshold()
            young, middle, _ = self._thresholds
            gc.set_threshold(young, middle, _OUT_OF_REACH)
            self._task = asyncio.create_task(
                self._collect_periodically(asyncio.get_running_loop().time(), self._rss()),
                name="gc-full",
            )
        log.info(
            "garbage collection policy",
            extra={
                "frozen_objects": gc.get_freeze_count(),
                "full_interval_s": self.full_interval or "automatic",
            },
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        if self.freeze:
            gc.unfreeze()
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self.pauses.callback)

    async def _collect_periodically(self, last: float, baseline: int) -> None:
        """``last``: when the last full collection ran, ``baseline``: the RSS after it."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.check_every)
            now, rss = loop.time(), self._rss()
            if now - last >= self.full_interval:
                self.scheduled_full += 1
            elif rss - baseline >= self.growth_trigger:
                self.early_full += 1
            else:
                continue
            gc.collect(2)
            last, baseline = loop.time(), self._rss()


_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """This process's resident set size (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0
