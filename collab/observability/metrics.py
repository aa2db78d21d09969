"""Prometheus metrics of one server instance (served as text on ``/metrics``).

Each app owns its registry, so several apps in one process (tests) never share counters.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class PlainCounter(Collector):
    """A counter for the hot path (every frame): a plain int, exported when scraped.
    ``prometheus_client.Counter.inc`` takes a lock each time; the event loop is the only
    writer here."""

    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self.name, self.documentation, value=self.value)


class FanoutStats(Collector):
    """Bytes sent and fan-out latency, counted with plain ints on the hot path (every frame to
    every receiver) and turned into Prometheus families only when scraped: prometheus_client's
    ``Counter.inc`` and ``Histogram.observe`` take a lock each, 3-4 % of the server's CPU under
    painting load. The event loop is the only writer, so no lock is needed."""

    def __init__(self) -> None:
        self.bytes_out = 0
        self.buckets = [0] * (len(_LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.latency_sum = 0.0

    def on_sent(self, size: int, latency: float) -> None:
        self.bytes_out += size
        self.buckets[bisect_left(_LATENCY_BUCKETS, latency)] += 1
        self.latency_sum += latency

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily("nexus_bytes_out", "WebSocket bytes sent", value=self.bytes_out)
        cumulative = list(accumulate(self.buckets))
        bounds = [*(repr(b) for b in _LATENCY_BUCKETS), "+Inf"]
        yield HistogramMetricFamily(
            "nexus_fanout_latency_seconds",
            "Time from receiving a frame to handing it to each receiving socket",
            buckets=list(zip(bounds, cumulative, strict=True)),
            sum_value=self.latency_sum,
        )


# seconds an AI job runs: a CPU fallback takes well under a second, a diffusion minutes
_JOB_SECONDS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class JobMetrics:
    """AI jobs: the queue's depth and running jobs (as last read from the queue, which is
    shared by every instance in distributed mode), and the jobs this instance ended, by kind
    and final state, with the run time of their last attempt."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.queued = Gauge("nexus_jobs_queued", "AI jobs waiting for a worker", registry=r)
        self.running = Gauge("nexus_jobs_running", "AI jobs running on a worker", registry=r)
        self.finished = Counter(
            "nexus_jobs_finished", "AI jobs that ended, by kind and state", ["kind", "state"],
            registry=r,
        )  # fmt: skip
        self.run_seconds = Histogram(
            "nexus_job_run_seconds",
            "Run time of an AI job's last attempt, from its start to its end, by kind",
            ["kind"],
            buckets=_JOB_SECONDS_BUCKETS,
            registry=r,
        )

    def depth(self, queued: int, running: int) -> None:
        self.queued.set(queued)
        self.running.set(running)

    def ended(self, kind: str, state: str, run_seconds: float | None) -> None:
        """A job ended in ``state``; ``run_seconds`` is None when it never ran."""
        self.finished.labels(kind=kind, state=state).inc()
        if run_seconds is not None:
            self.run_seconds.labels(kind=kind).observe(max(0.0, run_seconds))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("nexus_connections", "Open WebSocket connections", registry=r)
        self.rooms = Gauge("nexus_rooms", "Rooms loaded in memory", registry=r)
        self.updates_applied = PlainCounter(
            "nexus_updates_applied", "Document updates applied to rooms"
        )
        r.register(self.updates_applied)
        self.connections_refused = Counter(
            "nexus_connections_refused",
            "WebSocket upgrades refused by the per-address limits",
            registry=r,
        )
        self.updates_denied = Counter(
            "nexus_updates_denied", "Updates refused because the sender is a viewer", registry=r
        )
        self.bytes_in = PlainCounter("nexus_bytes_in", "WebSocket bytes received")
        r.register(self.bytes_in)
        self.connections_closed = Counter(
            "nexus_connections_closed",
            "Connections closed, by close code",
            ["code"],
            registry=r,
        )
        self.fanout = FanoutStats()
        r.register(self.fanout)
        self.on_sent = self.fanout.on_sent  # called for every frame to every receiver
        self.store_pending = Gauge(
            "nexus_store_pending_updates", "Updates waiting for the group commit", registry=r
        )
        self.snapshots = Counter("nexus_snapshots", "Snapshots written", registry=r)
        self.room_load_failures = Counter(
            "nexus_room_load_failures", "Rooms that failed to load", registry=r
        )
        self.jobs = JobMetrics(r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
