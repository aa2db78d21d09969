"""Several server processes sharing real Redis and Postgres: fan-out, per-user undo across
instances, Redis and Postgres outages, snapshot lease take-over."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from client import Backoff, CanvasClient
from tests.support.servers import ServerProcess
from tests.support.services import postgres_schema, require_postgres, require_redis
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually

pytestmark = pytest.mark.subprocess


class Cluster:
    """Settings shared by the instances of one test: its own Postgres schema and Redis
    namespace on the real services."""

    def __init__(self, tmp_path: Path, pg_url: str, schema: str, redis_url: str) -> None:
        self.tmp_path = tmp_path
        self.pg_url = pg_url
        self.schema = schema
        self.redis_url = redis_url
        self.namespace = f"t{uuid.uuid4().hex[:10]}"
        self.procs: list[ServerProcess] = []

    def env(
        self, *, database_url: str | None = None, redis_url: str | None = None
    ) -> dict[str, str]:
        return {
            "DATABASE_URL": f"{database_url or self.pg_url}?search_path={self.schema}",
            "REDIS_URL": redis_url or self.redis_url,
            "NEXUS_REDIS_NAMESPACE": self.namespace,
            "NEXUS_UNDO_CAPTURE_MS": "0",
        }

    async def instance(self, name: str, **env: str) -> ServerProcess:
        base = self.env(
            database_url=env.pop("database_url", None), redis_url=env.pop("redis_url", None)
        )
        proc = ServerProcess(self.tmp_path / name, NEXUS_INSTANCE_ID=name, **base, **env)
        self.procs.append(proc)
        # In a thread: the test's event loop may be running a proxy the server connects to.
        await asyncio.to_thread(proc.start)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    pg_url, redis_url = require_postgres(), require_redis()
    async with postgres_schema(pg_url) as schema:
        c = Cluster(tmp_path, pg_url, schema, redis_url)
        try:
            yield c
        finally:
            c.stop()


def _client(proc: ServerProcess, doc: str, user: str) -> CanvasClient:
    return CanvasClient(proc.url, doc, user=user, backoff=Backoff(base=0.05, cap=0.5))


async def _converge(*clients: CanvasClient, timeout: float = 15.0) -> dict:
    await eventually(
        lambda: all(c.canvas.content() == clients[0].canvas.content() for c in clients), timeout
    )
    return clients[0].canvas.content()


def _port(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 0


@contextmanager
def _no_reconnects(*clients: CanvasClient) -> Iterator[None]:
    yield
    assert [c.stats.connects for c in clients] == [1] * len(clients), "a client had to reconnect"


async def test_two_instances_converge_and_undo_follows_the_user(cluster: Cluster) -> None:
    a = await cluster.instance("a")
    b = await cluster.instance("b")
    doc = "shared"
    async with (
        _client(a, doc, "alice") as alice,
        _client(b, doc, "bob") as bob,
        _client(a, doc, "carol") as carol,
        _client(b, doc, "dave") as dave,
    ):
        everyone = (alice, bob, carol, dave)
        await asyncio.gather(*(c.wait_synced() for c in everyone))
        sky = alice.canvas.add_layer("Sky", kind="paint", layer_id="sky")
        await _converge(*everyone)
        for i, c in enumerate(everyone):
            stroke = c.canvas.begin_stroke(sky, color="#112233")
            c.canvas.append_points(sky, stroke, [i, i])
            c.canvas.add_layer(f"layer of {c.url[-4:]}-{i}")
        bob.canvas.update_layer(sky, blend_mode="screen")
        await _converge(*everyone)
        assert len(alice.canvas.get_layer(sky).strokes) == 4
        assert len(alice.canvas.layer_ids()) == 5

        # Awareness crosses instances.
        bob.set_presence({"user": "bob"})
        await alice.wait_for(lambda: {"user": "bob"} in alice.peers.values())

        # alice changes the layer through instance A; her undo through instance B reverts it.
        alice.canvas.update_layer(sky, opacity=30)
        for c in everyone:
            await c.wait_for(lambda c=c: c.canvas.get_layer(sky).opacity == 30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{b.port}") as http:
            r = await http.post(f"/api/docs/{doc}/undo", headers={"X-User": "alice"})
            assert r.status_code == 200, r.text
        for c in everyone:
            await c.wait_for(lambda c=c: c.canvas.get_layer(sky).opacity == 100)
        await _converge(*everyone)
        assert dave.canvas.get_layer(sky).blend_mode == "screen"  # bob's edit untouched

        # The shared history shows who did what, identically on both instances.
        await _converge(*everyone)
        await eventually(lambda: alice.canvas.history() == bob.canvas.history())
        assert any(e["user"] == "alice" and e["action"] == "undo" for e in bob.canvas.history())


async def test_redis_outage_heals_without_any_client_reconnecting(cluster: Cluster) -> None:
    host, port = _port(cluster.redis_url)
    async with TcpProxy(host, port) as proxy:
        a = await cluster.instance("a", redis_url=f"redis://127.0.0.1:{proxy.port}/0")
        b = await cluster.instance("b")
        doc = "redis-outage"
        async with _client(a, doc, "ann") as ann, _client(b, doc, "ben") as ben:
            with _no_reconnects(ann, ben):
                await ann.wait_synced()
                await ben.wait_synced()
                ann.canvas.add_layer("before", layer_id="before")
                await _converge(ann, ben)

                proxy.cut()  # instance A loses Redis; both keep serving their own clients
                await eventually(lambda: a.health()["status"] == "degraded", 10)
                for i in range(10):
                    ann.canvas.add_layer(f"ann {i}", layer_id=f"ann-{i}")
                    ben.canvas.add_layer(f"ben {i}", layer_id=f"ben-{i}")
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)
                assert "ben-0" not in ann.canvas.layer_ids()  # really partitioned

                proxy.restore()
                content = await _converge(ann, ben, timeout=20)
                ids = {layer["id"] for layer in content["layers"]}
                assert {f"ann-{i}" for i in range(10)} | {f"ben-{i}" for i in range(10)} <= ids
                await eventually(lambda: a.health()["status"] == "ok", 10)


async def test_postgres_outage_loses_nothing_even_after_sigkill(cluster: Cluster) -> None:
    host, port = _port(cluster.pg_url)
    async with TcpProxy(host, port) as proxy:
        pg_via_proxy = cluster.pg_url.replace(f":{port}/", f":{proxy.port}/")
        a = await cluster.instance("a", database_url=pg_via_proxy)
        doc = "pg-outage"
        async with _client(a, doc, "ann") as ann, _client(a, doc, "ben") as ben:
            with _no_reconnects(ann, ben):
                await ann.wait_synced()
                await ben.wait_synced()
                ann.canvas.add_layer("before", layer_id="before")
                await _converge(ann, ben)

                proxy.cut()
                for i in range(20):
                    (ann if i % 2 else ben).canvas.add_layer(f"during {i}", layer_id=f"d{i}")
                    await asyncio.sleep(0.05)
                await _converge(ann, ben)  # live editing carries on from memory
                health = await asyncio.to_thread(a.health)
                assert health["status"] == "degraded", health
                assert any("store unavailable" in p for p in health["problems"])
                assert health["pending_updates"] > 0

                proxy.restore()
                await eventually(lambda: a.health()["pending_updates"] == 0, 20)
                assert a.health()["status"] == "ok"
                expected = set(ann.canvas.layer_ids())
        a.kill()  # after the buffer flushed: every update is in Postgres
    fresh = await cluster.instance("a2")
    async with _client(fresh, doc, "late") as late:
        await late.wait_for(lambda: set(late.canvas.layer_ids()) == expected, 15)


async def test_snapshot_lease_moves_to_a_survivor_when_its_holder_dies(cluster: Cluster) -> None:
    fast = {
        "NEXUS_SNAPSHOT_LEASE_TTL": "2",
        "NEXUS_SNAPSHOT_INTERVAL": "0.3",
        "NEXUS_SNAPSHOT_EVERY_UPDATES": "3",
    }
    procs = {
        "a": await cluster.instance("a", **fast),
        "b": await cluster.instance("b", **fast),
    }
    doc = "lease"
    keys = aioredis.from_url(cluster.redis_url)
    db = await asyncpg.connect(cluster.pg_url, server_settings={"search_path": cluster.schema})
    try:
        lease_key = f"{cluster.namespace}:lease:snapshot:{doc}"

        async def holder() -> str | None:
            value = await keys.get(lease_key)
            return value.decode() if value else None

        async def snapshots() -> int:
            count: int = await db.fetchval("SELECT count(*) FROM snapshots WHERE doc_id = $1", doc)
            return count

        async with _client(procs["a"], doc, "ann") as ann, _client(procs["b"], doc, "ben") as ben:
            await ann.wait_synced()
            await ben.wait_synced()
            for i in range(10):
                ann.canvas.add_layer(f"a{i}")
                ben.canvas.add_layer(f"b{i}")
                await asyncio.sleep(0.05)
            deadline = time.monotonic() + 10
            while (current := await holder()) is None:
                assert time.monotonic() < deadline, "nobody took the snapshot lease"
                await asyncio.sleep(0.1)
            before = await snapshots()
            assert before >= 1
        survivor_name = "b" if current == "a" else "a"
        procs[current].kill()  # the holder dies without releasing its lease
        killed_at = time.monotonic()
        async with _client(procs[survivor_name], doc, "sam") as sam:
            await sam.wait_synced()
            while (new_holder := await holder()) != survivor_name:
                for i in range(3):
                    sam.canvas.add_layer(f"s{time.monotonic()}-{i}")
                assert time.monotonic() - killed_at < 2 + 5, f"lease still held by {new_holder}"
                await asyncio.sleep(0.2)
            took_over = time.monotonic() - killed_at
            after_takeover = await snapshots()
            for i in range(10):
                sam.canvas.add_layer(f"more {i}")
                await asyncio.sleep(0.05)
            deadline = time.monotonic() + 10
            while await snapshots() <= after_takeover:
                assert time.monotonic() < deadline, "snapshots did not continue"
                await asyncio.sleep(0.1)
        assert took_over < 2 + 5
        metrics = await asyncio.to_thread(procs[survivor_name].metrics)
        assert "nexus_snapshots_total" in metrics
    finally:
        await keys.aclose()
        await db.close()
