"""Broker fixtures: a "network" of brokers of one kind, with a way to cut one off."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from collab.replication.broker import Broker, Envelope, EnvelopeKind, MemoryBroker, MemoryHub
from tests.support.services import require_redis

KINDS = ["memory", "redis"]

# Fast reconnects, but slow enough that a test sees the unhealthy window.
REDIS_TIMINGS: dict[str, Any] = {
    "ping_interval": 0.3,
    "ping_timeout": 0.6,
    "connect_timeout": 2.0,
    "reconnect_min": 0.3,
    "reconnect_max": 1.0,
}


class Inbox:
    """A handler that records envelopes and lets a test wait for them."""

    def __init__(self) -> None:
        self.items: list[Envelope] = []
        self._changed = asyncio.Event()

    def __call__(self, envelope: Envelope) -> None:
        self.items.append(envelope)
        self._changed.set()

    @property
    def payloads(self) -> list[bytes]:
        return [e.payload for e in self.items]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Envelope]:
        async with asyncio.timeout(timeout):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.items


def env(
    broker: Broker,
    doc_id: str,
    payload: bytes,
    kind: EnvelopeKind = EnvelopeKind.UPDATE,
    *,
    user: str | None = "alice",
    target: str | None = None,
) -> Envelope:
    return Envelope(doc_id, broker.instance_id, user, kind, payload, target)


@dataclass
class Network:
    """Makes started brokers that reach each other; ``cut`` simulates losing the connection."""

    kind: str
    hub: MemoryHub = field(default_factory=MemoryHub)
    url: str = ""
    namespace: str = ""
    admin: Any = None  # redis.asyncio.Redis for the Redis network
    brokers: list[Broker] = field(default_factory=list)

    async def make(self, **kwargs: Any) -> Broker:
        broker: Broker
        if self.kind == "memory":
            broker = MemoryBroker(self.hub, **kwargs)
        else:
            from collab.replication.broker.redis import RedisBroker

            broker = RedisBroker(self.url, namespace=self.namespace, **{**REDIS_TIMINGS, **kwargs})
        await broker.start()
        self.brokers.append(broker)
        return broker

    async def cut(self, broker: Broker) -> None:
        """Take the broker's connection away (memory: until ``restore``)."""
        if self.kind == "memory":
            assert isinstance(broker, MemoryBroker)
            self.hub.disconnect(broker)
        else:
            await kill_subscriber(self.admin, broker)

    async def restore(self, broker: Broker) -> None:
        if self.kind == "memory":
            assert isinstance(broker, MemoryBroker)
            self.hub.reconnect(broker)
        # Redis: the broker reconnects by itself.


async def kill_subscriber(admin: Any, broker: Broker) -> None:
    """``CLIENT KILL TYPE pubsub`` narrowed to this broker's subscriber connection.

    Redis counts a connection as "pubsub" only while it has subscriptions; without any, the
    connection is killed by its id alone.
    """
    name = broker.subscriber_name  # type: ignore[attr-defined]
    found = [c for c in await admin.client_list() if c.get("name") == name]
    assert len(found) == 1, f"expected one connection named {name}, found {found}"
    client = found[0]
    command: tuple[str, ...]
    if int(client["sub"]) > 0:
        command = ("CLIENT", "KILL", "TYPE", "pubsub", "ID", str(client["id"]))
    else:
        command = ("CLIENT", "KILL", "ID", str(client["id"]))
    assert await admin.execute_command(*command) == 1


@pytest.fixture(params=KINDS)
async def net(request: pytest.FixtureRequest) -> AsyncIterator[Network]:
    kind: str = request.param
    network = Network(kind)
    if kind == "redis":
        import redis.asyncio as aioredis

        network.url = require_redis()
        network.namespace = f"test-{uuid.uuid4().hex}"
        network.admin = aioredis.Redis.from_url(network.url)
    try:
        yield network
    finally:
        for broker in network.brokers:
            await broker.stop()
        if network.admin is not None:
            await network.admin.aclose()


# -- a private redis-server, for tests that stop or freeze the server ------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PrivateRedis:
    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def wait_ready(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    await writer.wait_closed()
                    return
                await asyncio.sleep(0.02)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server binary not found; needed to restart a private Redis")
    server = PrivateRedis(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.process.send_signal(signal.SIGCONT)  # in case a test froze it
        server.kill()
