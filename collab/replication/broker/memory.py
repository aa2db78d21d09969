"""In-process broker: several instances in one process (tests, embedded mode) share a hub."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from collab.replication.broker.base import Broker, Envelope


class MemoryHub:
    """The "network" between :class:`MemoryBroker` objects of one process.

    Delivery is asynchronous (``loop.call_soon``), so handlers never run inside ``publish``
    and envelopes from one publisher keep their order. Envelopes cross the hub encoded and
    decoded again, as they would over Redis, but only to the other brokers that hold the
    document: unlike Redis, the hub never sends a publisher its own envelopes back.
    """

    def __init__(self) -> None:
        self._brokers: set[MemoryBroker] = set()
        self._disconnected: set[MemoryBroker] = set()
        self.shared = False  # two brokers were attached at once, at some point

    def disconnect(self, broker: MemoryBroker) -> None:
        """Test hook: cut ``broker`` off. Traffic to and from it is lost until reconnect."""
        self._disconnected.add(broker)

    def reconnect(self, broker: MemoryBroker) -> None:
        """Test hook: end an outage; the broker's on_reconnect callbacks run soon after."""
        if broker not in self._disconnected:
            return
        self._disconnected.discard(broker)
        if broker.started:
            asyncio.get_running_loop().call_soon(broker._fire_reconnect)

    def is_connected(self, broker: MemoryBroker) -> bool:
        return broker not in self._disconnected

    def _attach(self, broker: MemoryBroker) -> None:
        self._brokers.add(broker)
        self.shared = self.shared or len(self._brokers) > 1

    def _detach(self, broker: MemoryBroker) -> None:
        self._brokers.discard(broker)

    def _send(self, sender: MemoryBroker, envelopes: Sequence[Envelope]) -> None:
        """One message: an envelope, or a batch of one document's (as over Redis)."""
        doc_id = envelopes[0].doc_id
        receivers = [r for r in self._brokers if r is not sender and r._listens(doc_id)]
        if not receivers:
            return  # alone (the embedded mode): nothing to encode
        wire = Envelope.decode_all(Envelope.encode_message(envelopes))
        loop = asyncio.get_running_loop()
        for receiver in receivers:
            loop.call_soon(self._arrive, receiver, wire)

    def _arrive(self, receiver: MemoryBroker, envelopes: list[Envelope]) -> None:
        # Checked again on arrival: an outage or unsubscribe in between loses the message.
        if receiver in self._brokers and receiver not in self._disconnected:
            receiver.messages += 1
            receiver.received += len(envelopes)
            # decoded once for every receiver, as Redis would per instance
            receiver.decoded += len(envelopes)
            for envelope in envelopes:
                receiver._deliver(envelope)


class MemoryBroker(Broker):
    """:class:`Broker` over a :class:`MemoryHub` (a private one unless ``hub`` is given)."""

    kind = "memory"

    def __init__(self, hub: MemoryHub | None = None, *, instance_id: str | None = None) -> None:
        super().__init__(instance_id=instance_id)
        self.hub = MemoryHub() if hub is None else hub

    @property
    def healthy(self) -> bool:
        return self._started and self.hub.is_connected(self)

    @property
    def alone(self) -> bool:
        return not self.hub.shared

    async def _open(self) -> None:
        self.hub._attach(self)

    async def _close(self) -> None:
        self.hub._detach(self)

    def _listens(self, doc_id: str) -> bool:
        return self._started and doc_id in self._handlers

    async def _subscribe(self, doc_id: str, is_new: bool) -> None:
        pass

    async def _unsubscribe(self, doc_id: str) -> None:
        pass

    async def _publish(self, envelope: Envelope) -> None:
        self._offer(envelope)

    def _offer_many(self, envelopes: Sequence[Envelope]) -> bool:
        if not self.hub.is_connected(self):
            self._count_drop("disconnected from the memory hub", len(envelopes))
            return True
        self.hub._send(self, envelopes)
        return True
