from __future__ import annotations

import pytest

from collab.replication.broker import MemoryBroker, MemoryHub, broker_from_url
from collab.replication.broker.redis import RedisBroker


@pytest.mark.parametrize("url", [None, "memory://", "MEMORY://"])
def test_memory(url: str | None) -> None:
    hub = MemoryHub()
    broker = broker_from_url(url, hub=hub, instance_id="i1")
    assert isinstance(broker, MemoryBroker)
    assert broker.hub is hub
    assert broker.instance_id == "i1"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://example.com:6380"])
def test_redis(url: str) -> None:
    broker = broker_from_url(url, namespace="ns")  # unstarted: no connection yet
    assert isinstance(broker, RedisBroker)
    assert broker.url == url
    assert broker.keys.doc_channel("d") == "ns:doc:d"


@pytest.mark.parametrize("url", ["postgres://x", "memory://extra", "redis:/nohost", "", "x"])
def test_unsupported_url_is_named(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported broker URL"):
        broker_from_url(url)


def test_error_hides_the_password() -> None:
    with pytest.raises(ValueError) as info:
        broker_from_url("amqp://user:secret@host/")
    assert "secret" not in str(info.value)
    assert "user:***@host" in str(info.value)


def test_bad_instance_id() -> None:
    with pytest.raises(ValueError, match="instance_id must be a non-empty string"):
        broker_from_url(None, instance_id="has space")


def test_redis_broker_needs_exactly_one_of_url_and_conn() -> None:
    with pytest.raises(ValueError, match="exactly one of url or conn"):
        RedisBroker()
