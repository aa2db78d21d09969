"""Prometheus metrics of one server instance (served as text on ``/metrics``).

Each app owns its registry, so several apps in one process (tests) never share counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("nexus_connections", "Open WebSocket connections", registry=r)
        self.rooms = Gauge("nexus_rooms", "Rooms loaded in memory", registry=r)
        self.updates_applied = Counter(
            "nexus_updates_applied", "Document updates applied to rooms", registry=r
        )
        self.connections_refused = Counter(
            "nexus_connections_refused",
            "WebSocket upgrades refused by the per-address limits",
            registry=r,
        )
        self.updates_denied = Counter(
            "nexus_updates_denied", "Updates refused because the sender is a viewer", registry=r
        )
        self.bytes_in = Counter("nexus_bytes_in", "WebSocket bytes received", registry=r)
        self.bytes_out = Counter("nexus_bytes_out", "WebSocket bytes sent", registry=r)
        self.connections_closed = Counter(
            "nexus_connections_closed",
            "Connections closed, by close code",
            ["code"],
            registry=r,
        )
        self.fanout_latency = Histogram(
            "nexus_fanout_latency_seconds",
            "Time from receiving a frame to handing it to each receiving socket",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.store_pending = Gauge(
            "nexus_store_pending_updates", "Updates waiting for the group commit", registry=r
        )
        self.snapshots = Counter("nexus_snapshots", "Snapshots written", registry=r)
        self.room_load_failures = Counter(
            "nexus_room_load_failures", "Rooms that failed to load", registry=r
        )

    def on_sent(self, size: int, latency: float) -> None:
        self.bytes_out.inc(size)
        self.fanout_latency.observe(latency)

    def render(self) -> bytes:
        return generate_latest(self.registry)
