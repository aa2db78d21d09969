"""Exclusive expiring leases (one snapshot writer per document): memory or Redis.

The Redis implementation lives in :mod:`collab.replication.lease.redis` and is imported
only when used.
"""

from collab.replication.lease.base import (
    AlreadyStarted,
    Lease,
    LeaseError,
    LeaseUnavailable,
    NotStarted,
)
from collab.replication.lease.factory import lease_from_url
from collab.replication.lease.memory import LeaseRegistry, MemoryLease

__all__ = [
    "AlreadyStarted",
    "Lease",
    "LeaseError",
    "LeaseRegistry",
    "LeaseUnavailable",
    "MemoryLease",
    "NotStarted",
    "lease_from_url",
]
