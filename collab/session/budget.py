"""One bound on the frame bytes all connections of the process hold together.

Per-connection bounds (the frame size limit, the send queue's bound) let each connection hold
a few MiB; a few hundred connections that all do so at once (a frame left hanging just under
the size limit, a client that never reads its replies) hold gigabytes. ``FrameBudget`` sums
what every holder reports: bytes of partially received frames and of received messages not
yet handled (the WebSocket protocol, ``collab/asgi/uvicorn_ws.py``), and bytes queued or
buffered to be sent (``collab/session/connection.py``). When the sum passes the limit, the
holders holding the most are shed — closed by their own ``shed`` — until it is back under
the limit: the connection holding the most is the one hogging memory, not the honest ones,
which hold a few KiB at most for a moment.

Only holders holding something are tracked, so the common case (a small frame received and
handled in the same read) costs a dict lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collab.observability.logs import ThrottledLog

log = logging.getLogger(__name__)
_shed_log = ThrottledLog(log, logging.WARNING, 10)


class Holder(Protocol):
    """Something holding frame bytes that can be made to let go of them."""

    def shed(self, reason: str) -> None:
        """Close the connection now (the budget no longer counts this holder)."""


class FrameBudget(Collector):
    """The bytes ``holders`` hold, against ``limit``; also a Prometheus collector."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        self.limit = limit
        self.held = 0
        self.peak = 0  # high-water mark of ``held`` (after shedding: what stayed held)
        self.shed_count: dict[str, int] = {}
        self._holders: dict[Holder, int] = {}

    def __len__(self) -> int:
        return len(self._holders)

    def holding(self, holder: Holder) -> int:
        return self._holders.get(holder, 0)

    def set(self, holder: Holder, nbytes: int, kind: str) -> None:
        """``holder`` now holds ``nbytes`` (0: nothing); ``kind`` names what it holds
        ("receive" or "send"), for the log and the shed counter."""
        old = self._holders.get(holder, 0)
        if nbytes == old:
            return
        if nbytes > 0:
            self._holders[holder] = nbytes
        else:
            del self._holders[holder]
        self.held += nbytes - old
        if self.held > self.limit:
            self._shed(holder, kind)
        if self.held > self.peak:
            self.peak = self.held

    def release(self, holder: Holder) -> None:
        """``holder`` holds nothing any more (closed)."""
        old = self._holders.pop(holder, 0)
        self.held -= old

    def _shed(self, trigger: Holder, kind: str) -> None:
        # Largest first; rare (only over the limit), so a sort of the holders is fine.
        for holder, nbytes in sorted(self._holders.items(), key=lambda hn: -hn[1]):
            if self.held <= self.limit:
                return
            self.release(holder)
            what = kind if holder is trigger else "largest"
            self.shed_count[what] = self.shed_count.get(what, 0) + 1
            reason = (
                f"server frame memory budget exhausted ({self.held + nbytes} of {self.limit} "
                f"bytes held; this connection held {nbytes}): retry later"
            )
            _shed_log.log(
                "connection shed: frame budget exhausted",
                {"held": nbytes, "total": self.held + nbytes, "limit": self.limit, "kind": what},
            )
            holder.shed(reason)

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "nexus_frame_budget_bytes",
            "Bytes of partially received, unhandled and unsent frames held by all connections",
            value=self.held,
        )
        yield GaugeMetricFamily(
            "nexus_frame_budget_peak_bytes",
            "High-water mark of nexus_frame_budget_bytes since start",
            value=self.peak,
        )
        yield GaugeMetricFamily(
            "nexus_frame_budget_limit_bytes", "NEXUS_FRAME_BUDGET_BYTES", value=self.limit
        )
        shed = CounterMetricFamily(
            "nexus_frame_budget_shed",
            "Connections closed because the frame budget was exhausted",
            labels=["kind"],
        )
        for kind, count in sorted(self.shed_count.items()):
            shed.add_metric([kind], count)
        yield shed
