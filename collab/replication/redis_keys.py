"""Every Redis key, channel and client name the server uses, in one place.

Names are ``{namespace}:{kind}:{id}``. The namespace defaults to ``nexus``; tests pass a random
one so that they can share a database with other tests without flushing it, and two
deployments can share one Redis by choosing different namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NAMESPACE = "nexus"


def check_namespace(namespace: str) -> str:
    """Return ``namespace`` if it is usable in key and client names, else raise ValueError."""
    if not isinstance(namespace, str) or not namespace:
        raise ValueError(f"Redis namespace must be a non-empty string, got {namespace!r}")
    if any(c.isspace() for c in namespace):
        # Client names (CLIENT SETNAME) may not contain spaces; keys would work but look odd.
        raise ValueError(f"Redis namespace must not contain whitespace, got {namespace!r}")
    return namespace


@dataclass(frozen=True, slots=True)
class RedisKeys:
    """Builds the names under one namespace."""

    namespace: str = DEFAULT_NAMESPACE

    def __post_init__(self) -> None:
        check_namespace(self.namespace)

    def doc_channel(self, doc_id: str) -> str:
        """Pub/sub channel carrying one document's broker envelopes."""
        return f"{self.namespace}:doc:{doc_id}"

    def lease(self, name: str) -> str:
        """String key holding the owner of a lease (with a PX expiry)."""
        return f"{self.namespace}:lease:{name}"

    def client_name(self, role: str, instance_id: str) -> str:
        """CLIENT SETNAME value, so ``CLIENT LIST`` shows which instance holds a connection."""
        return f"{self.namespace}:{role}:{instance_id}"
