"""Two instances (real Redis and Postgres) behind a real nginx running the shipped
``deploy/nginx/nexus.conf``: the per-address limits apply to the real clients, a forged
``X-Forwarded-For`` from an untrusted peer changes nothing, and 1000 users behind one address
are all back within 30 s of an instance restart with the default limits.

The instances trust 127.0.0.1 only (nginx's source address towards them); every client binds
its own loopback source (all of 127/8 is local on Linux), so a client is never a trusted peer.
The clients are light y-sync peers (one pycrdt ``Doc`` each, ``websockets`` without
compression) that reconnect with the Python client's ``Backoff`` (full jitter), as
``CanvasClient`` does: a thousand ``CanvasClient`` would not fit beside two servers on 2 cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import websockets
from pycrdt import Doc, Map
from websockets.asyncio.client import ClientConnection, connect

from canvasdoc import wire
from client import Backoff
from tests.collab.test_distributed import Cluster
from tests.support.nginx import Nginx, require_nginx, running_nginx
from tests.support.servers import ServerProcess, free_port
from tests.support.services import postgres_schema, require_postgres, require_redis
from tests.support.waiting import eventually

pytestmark = pytest.mark.subprocess

log = logging.getLogger(__name__)
PROXY = "127.0.0.1"  # nginx connects to the instances from here; the only trusted peer
TRUST = {"NEXUS_TRUSTED_PROXIES": PROXY}
# Low limits: were the proxy's address used, one connection in all would get through.
LOW_LIMITS = {"NEXUS_MAX_CONNECTIONS_PER_IP": "1", "NEXUS_CONNECTION_ATTEMPTS_PER_SECOND": "1"}


def source(index: int, net: int) -> str:
    """A distinct loopback address per client: 127.<net>.<hi>.<lo>, never 127.0.0.1."""
    return f"127.{net}.{index // 250}.{index % 250 + 1}"


class SyncClient:
    """A y-sync peer that reconnects with backoff and jitter; ``synced`` while its current
    connection has received the server's sync step 2."""

    def __init__(
        self,
        url: str,
        address: str,
        *,
        headers: dict[str, str] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.url = url
        self.address = address
        self.headers = headers or {}
        self.backoff = backoff or Backoff()
        self.doc: Doc[Any] = Doc()
        self.meta: Map[Any] = self.doc.get("meta", type=Map)
        self.ws: ClientConnection | None = None
        self.synced = False
        self.connects = 0
        self.refused: Counter[int] = Counter()  # refused upgrades by HTTP status
        self.errors: Counter[str] = Counter()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def check(self) -> None:
        """Raise what ended the client's task early (a bug, not a network error)."""
        if self._task is not None and self._task.done():
            self._task.result()
            raise AssertionError(f"client {self.address} stopped")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def edit(self, key: str, value: int) -> None:
        """Change the local replica and send the update; if it is not connected, the sync of
        its next connection sends it (as CanvasClient pushes offline edits)."""
        state = self.doc.get_state()
        self.meta[key] = value
        if self.ws is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.ws.send(wire.encode_update(self.doc.get_update(state)))

    async def _run(self) -> None:
        while True:
            try:
                async with connect(
                    self.url,
                    local_addr=(self.address, 0),
                    additional_headers=self.headers,
                    compression=None,
                    ping_interval=None,
                    open_timeout=10,  # as CanvasClient
                    proxy=None,
                ) as ws:
                    self.connects += 1
                    self.ws = ws
                    await ws.send(wire.encode_sync_step1(self.doc.get_state()))
                    async for frame in ws:
                        await self._handle(ws, frame)
            except websockets.InvalidStatus as exc:
                self.refused[exc.response.status_code] += 1
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                self.errors[type(exc).__name__] += 1
            finally:
                self.ws = None
                self.synced = False
            await asyncio.sleep(self.backoff.next_delay())

    async def _handle(self, ws: ClientConnection, frame: str | bytes) -> None:
        if isinstance(frame, str):
            return
        message = wire.decode(frame)
        if isinstance(message, wire.SyncStep1):  # what the server lacks: offline edits
            await ws.send(wire.encode_sync_step2(self.doc.get_update(message.state_vector)))
        elif isinstance(message, wire.SyncStep2):
            self.doc.apply_update(message.update)
            self.synced = True
            self.backoff.reset()
        elif isinstance(message, wire.SyncUpdate):
            self.doc.apply_update(message.update)


@contextlib.asynccontextmanager
async def fleet(clients: Sequence[SyncClient], batch: int = 100) -> AsyncIterator[float]:
    """Start the clients ``batch`` at a time, each batch once the previous one is synced
    (users arriving, not a storm: the restart is the storm under test); yields the seconds
    it took, stops them all on exit."""
    started = time.monotonic()
    try:
        for first in range(0, len(clients), batch):
            group = clients[first : first + batch]
            for client in group:
                client.start()
            await until(functools.partial(all_synced, group), 60, group)
        yield time.monotonic() - started
    finally:
        await asyncio.gather(*(c.stop() for c in clients))


def why(clients: Sequence[SyncClient]) -> str:
    """What kept clients from syncing: refusals by HTTP status, errors by kind."""
    refused = sum((c.refused for c in clients), Counter[int]())
    errors = sum((c.errors for c in clients), Counter[str]())
    waiting = sum(not c.synced for c in clients)
    return f"{waiting} not synced; refused {dict(refused)}; errors {dict(errors)}"


async def until(
    predicate: Callable[[], bool], timeout: float, clients: Sequence[SyncClient]
) -> None:
    """``eventually``, failing with what kept the clients back."""
    try:
        await eventually(predicate, timeout)
    except TimeoutError:
        raise AssertionError(f"not within {timeout} s: {why(clients)}") from None


def all_synced(clients: Sequence[SyncClient]) -> bool:
    for client in clients:
        client.check()
    return all(c.synced for c in clients)


async def refused_upgrade(url: str, address: str, headers: dict[str, str]) -> tuple[int, str]:
    """The status and body of an upgrade the server must refuse."""
    with pytest.raises(websockets.InvalidStatus) as info:
        async with connect(url, local_addr=(address, 0), additional_headers=headers, proxy=None):
            pass
    response = info.value.response
    return response.status_code, response.body.decode(errors="replace") if response.body else ""


async def refused_through(nginx: Nginx, address: str, headers: dict[str, str]) -> tuple[int, str]:
    """Open connections from ``address`` through nginx until one is refused (round robin
    may first reach an instance that still admits one); the refused status and body."""
    async with contextlib.AsyncExitStack() as held:
        for _ in range(2):
            try:
                await held.enter_async_context(
                    connect(
                        f"{nginx.url}/ws/probe",
                        local_addr=(address, 0),
                        additional_headers=headers,
                        proxy=None,
                    )
                )
            except websockets.InvalidStatus as exc:
                body = exc.response.body or b""
                return exc.response.status_code, body.decode(errors="replace")
    raise AssertionError(f"two more connections from {address} were admitted")


def refused_total(proc: ServerProcess) -> float:
    for line in proc.metrics().splitlines():
        if line.startswith("nexus_connections_refused_total "):
            return float(line.split()[1])
    raise AssertionError("nexus_connections_refused_total missing from /metrics")


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    require_nginx()
    pg_url, redis_url = require_postgres(), require_redis()
    async with postgres_schema(pg_url) as schema:
        c = Cluster(tmp_path, pg_url, schema, redis_url)
        try:
            yield c
        finally:
            c.stop()


@contextlib.contextmanager
def balancer(tmp_path: Path, *instances: ServerProcess) -> Iterator[Nginx]:
    upstreams = [f"{PROXY}:{p.port}" for p in instances]
    with running_nginx(tmp_path / "nginx", upstreams, port=free_port()) as nginx:
        yield nginx


async def test_600_clients_with_distinct_addresses_converge_through_nginx(
    cluster: Cluster, tmp_path: Path
) -> None:
    a = await cluster.instance("a", **TRUST, **LOW_LIMITS)
    b = await cluster.instance("b", **TRUST, **LOW_LIMITS)
    docs, per_doc = 12, 50
    with balancer(tmp_path, a, b) as nginx:
        # The browser's Origin (the proxy's own host:port) must pass the same-host check, so
        # nginx must forward the Host header with its port. Half the clients also forge
        # forwarding headers: nginx replaces them, so they count under their own address.
        origin = {"Origin": nginx.http_url}
        forged = {**origin, "X-Forwarded-For": "10.66.0.1", "Forwarded": "for=10.66.0.1"}
        clients = [
            SyncClient(
                f"{nginx.url}/ws/lb-{i // per_doc}",
                source(i, net=1),
                headers=forged if i % 2 else origin,
                backoff=Backoff(base=0.05, cap=1.0),
            )
            for i in range(docs * per_doc)
        ]
        async with fleet(clients) as connect_s:
            held = [_on_instance(a), _on_instance(b)]
            assert sum(held) == len(clients) and min(held) >= len(clients) // 4, held

            started = time.monotonic()
            for i, client in enumerate(clients):
                await client.edit(f"c{i}", i)
            await until(lambda: all(len(c.meta) == per_doc for c in clients), 60, clients)
            converge_s = time.monotonic() - started
            for i, client in enumerate(clients):
                group = range(i // per_doc * per_doc, (i // per_doc + 1) * per_doc)
                assert client.meta.to_py() == {f"c{j}": j for j in group}
            assert not any(c.refused for c in clients)

            # Each address may hold one connection per instance, and client 7's address
            # holds one: through nginx, at most one more (on the other instance) is admitted,
            # then it is refused, and the refusal names that address, not the proxy's.
            status, body = await refused_through(nginx, source(7, 1), origin)
            assert status == 429 and f"from {source(7, 1)} " in body, body
            assert refused_total(a) + refused_total(b) == 1
    log.info(
        "600 addresses through nginx: connected in %.2f s (a %d, b %d), converged in %.2f s",
        connect_s, held[0], held[1], converge_s,
    )  # fmt: skip


async def test_forged_forwarding_headers_from_an_untrusted_peer_are_ignored(
    cluster: Cluster,
) -> None:
    a = await cluster.instance("a", **TRUST, **LOW_LIMITS)
    intruder = "127.9.0.1"
    url = f"{a.url}/ws/forged"

    def claims(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": address, "Forwarded": f"for={address}"}

    async with connect(url, local_addr=(intruder, 0), additional_headers=claims("10.0.0.1")):
        # Straight to the instance from an untrusted address: whatever address the headers
        # claim, its own address's limit (1 connection) applies.
        for claimed in ("10.0.0.2", "10.0.0.3"):
            status, body = await refused_upgrade(url, intruder, claims(claimed))
            assert status == 429 and f"from {intruder} " in body, body
            assert claimed not in body

    # Control: the same headers from the trusted proxy's address are believed, per client.
    async with (
        connect(url, local_addr=(PROXY, 0), additional_headers=claims("10.0.0.4")),
        connect(url, local_addr=(PROXY, 0), additional_headers=claims("10.0.0.5")),
    ):
        status, body = await refused_upgrade(url, PROXY, claims("10.0.0.4"))
        assert status == 429 and "from 10.0.0.4 " in body, body


def _on_instance(proc: ServerProcess) -> int:
    connections = proc.health()["connections"]
    assert isinstance(connections, int)
    return connections


async def test_1000_clients_behind_one_address_are_back_within_30s_of_a_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    a = await cluster.instance("a", **TRUST)  # the default per-address limits
    b = await cluster.instance("b", **TRUST)
    docs, per_doc = 10, 100
    nat = "127.20.0.1"  # one address for everyone, as an office NAT
    with balancer(tmp_path, a, b) as nginx:
        clients = [
            SyncClient(f"{nginx.url}/ws/nat-{i // per_doc}", nat) for i in range(docs * per_doc)
        ]
        async with fleet(clients) as connect_s:
            first_refused = sum(sum(c.refused.values()) for c in clients)
            on_a = _on_instance(a)
            assert on_a + _on_instance(b) == len(clients) and on_a >= len(clients) // 4

            connects = [c.connects for c in clients]
            started = time.monotonic()
            a.kill()
            restart = asyncio.create_task(asyncio.to_thread(a.start))

            def back() -> bool:
                # Every client that was on A has a new connection (through nginx: to B until
                # A is back), and every client is synced.
                again = sum(c.connects > n for c, n in zip(clients, connects, strict=True))
                return again >= on_a and all_synced(clients)

            await until(back, 30, clients)
            back_s = time.monotonic() - started
            await restart
            refused = sum(sum(c.refused.values()) for c in clients) - first_refused

            # Alive in their rooms: one edit per document reaches every client of it.
            for d in range(docs):
                await clients[d * per_doc].edit("after-restart", d)
            await until(
                lambda: all(
                    c.meta.get("after-restart") == i // per_doc for i, c in enumerate(clients)
                ),
                15,
                clients,
            )
    errors = sum((c.errors for c in clients), Counter[str]())
    log.info(
        "1000 clients behind one address: connected in %.2f s (%d refused 429); %d on the "
        "killed instance back in %.2f s (%d refused 429, errors %s)",
        connect_s, first_refused, on_a, back_s, refused, dict(errors),
    )  # fmt: skip
