"""The broker's and relay's counters as Prometheus families (read when ``/metrics`` is scraped).

``nexus_broker_received`` counts every envelope the backend handed this instance (a batch
counts each of its envelopes; ``nexus_broker_messages`` counts messages); with Redis
that includes its own envelopes coming back, which are counted in ``nexus_broker_echoes`` and
never decoded, so ``received - echoes`` is the other instances' traffic this one handled, and
it is zero while the instance holds none of the documents they edit.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from collab.replication.broker.base import Broker
from collab.replication.relay import EnvelopeRelay


class ReplicationStats(Collector):
    """Exports the plain-int counters of a broker and its relay (no lock on the hot path)."""

    def __init__(self, broker: Broker, relay: EnvelopeRelay | None = None) -> None:
        self._broker = broker
        self._relay = relay

    def collect(self) -> Iterator[Metric]:
        b = self._broker
        for name, value, documentation in (
            ("published", b.published, "Envelopes this instance handed to the broker"),
            ("dropped", b.dropped, "Envelopes lost to a broker outage or a full send buffer"),
            ("messages", b.messages, "Broker messages (an envelope or a batch) received"),
            ("received", b.received, "Envelopes the broker backend delivered to this instance"),
            ("echoes", b.echoes, "This instance's own envelopes back from Redis, not decoded"),
            ("decoded", b.decoded, "Envelopes of other instances decoded"),
            ("delivered", b.delivered, "Envelopes handed to a room of this instance"),
        ):
            yield CounterMetricFamily(f"nexus_broker_{name}", documentation, value=value)
        if self._relay is not None:
            yield CounterMetricFamily(
                "nexus_broker_overflows",
                "Envelopes the full send buffer did not take (healed by a resync)",
                value=self._relay.overflows,
            )
