"""Fan-out of document traffic between server instances (memory hub or Redis pub/sub).

The Redis implementation lives in :mod:`collab.replication.broker.redis` and is imported
only when used.
"""

from collab.replication.broker.base import (
    AlreadyStarted,
    Broker,
    BrokerError,
    BrokerUnavailable,
    Envelope,
    EnvelopeKind,
    Handler,
    NotStarted,
    ReconnectCallback,
)
from collab.replication.broker.factory import broker_from_url
from collab.replication.broker.memory import MemoryBroker, MemoryHub

__all__ = [
    "AlreadyStarted",
    "Broker",
    "BrokerError",
    "BrokerUnavailable",
    "Envelope",
    "EnvelopeKind",
    "Handler",
    "MemoryBroker",
    "MemoryHub",
    "NotStarted",
    "ReconnectCallback",
    "broker_from_url",
]
