"""Several server processes on the real Redis and Postgres: access changes made through one
instance reach the connections another instance holds, and no instance handles its own
envelopes twice or traffic of documents it does not hold."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
import websockets
from pycrdt import Doc, Map

from canvasdoc import close_codes, wire
from client import Backoff, CanvasClient
from tests.collab.test_distributed import Cluster
from tests.support.accounts import bearer, shared_document
from tests.support.servers import ServerProcess
from tests.support.services import postgres_schema, require_postgres, require_redis
from tests.support.waiting import eventually

pytestmark = pytest.mark.subprocess

SECRET = "cluster-secret-" + "s" * 32


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    pg_url, redis_url = require_postgres(), require_redis()
    async with postgres_schema(pg_url) as schema:
        c = Cluster(tmp_path, pg_url, schema, redis_url)
        try:
            yield c
        finally:
            c.stop()


def _http(proc: ServerProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{proc.port}")


async def _open(proc: ServerProcess, doc: str, token: str) -> websockets.ClientConnection:
    """A raw connection (no client-side read-only check), read up to its ``hello``."""
    ws = await websockets.connect(f"{proc.url}/ws/{doc}", additional_headers=bearer(token))
    await _hello(ws)
    return ws


async def _hello(ws: websockets.ClientConnection) -> dict[str, object]:
    async with asyncio.timeout(5):
        while True:
            message = wire.decode(await ws.recv())  # type: ignore[arg-type]
            if isinstance(message, wire.Command) and message.body.get("type") == "hello":
                return message.body


async def _closed_within(ws: websockets.ClientConnection, started: float, limit: float) -> int:
    """Read until the server closes ``ws``; fail unless that happened ``limit`` seconds
    after ``started`` at the latest; return the close code."""
    with contextlib.suppress(websockets.ConnectionClosed):
        async with asyncio.timeout(limit - (time.monotonic() - started)):
            while True:
                await ws.recv()
    code = ws.close_code
    assert code is not None
    return code


async def _refused_status(proc: ServerProcess, doc: str, token: str) -> int:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(f"{proc.url}/ws/{doc}", additional_headers=bearer(token))
    status: int = info.value.response.status_code
    return status


def _probe(value: str) -> bytes:
    d: Doc = Doc()
    d.get("meta", type=Map)[f"probe-{value}"] = value
    return d.get_update()


async def test_access_changes_through_one_instance_close_connections_on_another(
    cluster: Cluster,
) -> None:
    a = await cluster.instance("a", NEXUS_AUTH_SECRET=SECRET, NEXUS_ROOM_IDLE_SECONDS="0.2")
    b = await cluster.instance("b", NEXUS_AUTH_SECRET=SECRET)
    doc = "plan"
    async with _http(a) as http:
        shared = await shared_document(http, doc, editors=("eve", "vic"))
        owner, link = shared.owner, shared.link
        eve, vic = shared.editors["eve"], shared.editors["vic"]

        # Everyone works on instance B; instance A, which answers the REST calls, holds no
        # room of the document (so it is not even subscribed to its channel).
        async with CanvasClient(
            b.url, doc, token=owner, backoff=Backoff(base=0.05, cap=0.5)
        ) as olivia:
            await olivia.wait_synced()
            guest = await _open(b, doc, link["token"])
            eve_ws = await _open(b, doc, eve)
            vic_ws = await _open(b, doc, vic)
            assert b.health()["connections"] == 4
            await eventually(lambda: a.health()["rooms"] == 0)  # A's REST calls left none

            started = time.monotonic()
            r = await http.delete(f"/api/docs/{doc}/links/{link['id']}", headers=bearer(owner))
            assert r.status_code == 200 and r.json()["connections_closed"] == 0  # none on A
            assert await _closed_within(guest, started, 1.0) == close_codes.ACCESS_REVOKED
            assert await _refused_status(b, doc, link["token"]) == 403

            members = (await http.get(f"/api/docs/{doc}/members", headers=bearer(owner))).json()
            eve_id = next(m["id"] for m in members["members"] if m["name"] == "eve")
            started = time.monotonic()
            r = await http.delete(f"/api/docs/{doc}/members/{eve_id}", headers=bearer(owner))
            assert r.status_code == 204, r.text
            assert await _closed_within(eve_ws, started, 1.0) == close_codes.ACCESS_REVOKED
            assert await _refused_status(b, doc, eve) == 403

            started = time.monotonic()
            r = await http.post(
                f"/api/docs/{doc}/members",
                json={"user": "vic", "role": "viewer"},
                headers=bearer(owner),
            )
            assert r.status_code == 200, r.text
            assert await _closed_within(vic_ws, started, 1.0) == close_codes.ACCESS_REVOKED
            # vic's next connection to B is a viewer's: B refuses his write with the
            # permission-denied message and applies nothing.
            async with websockets.connect(
                f"{b.url}/ws/{doc}", additional_headers=bearer(vic)
            ) as again:
                assert (await _hello(again))["role"] == "viewer"
                await again.send(wire.encode_update(_probe("vic")))
                async with asyncio.timeout(5):
                    while True:
                        message = wire.decode(await again.recv())  # type: ignore[arg-type]
                        if isinstance(message, wire.Auth):
                            break
                assert message.payload[0] == wire.AUTH_PERMISSION_DENIED
                assert b"read-only" in message.payload
            olivia.canvas.add_layer("after", layer_id="after")
            await eventually(lambda: b.health()["connections"] == 1)
            assert olivia.connected and olivia.stats.connects == 1  # the owner stayed
            assert "probe-vic" not in olivia.canvas.meta_map.to_py()


_COUNTERS = ("published", "received", "echoes", "decoded", "delivered", "dropped")


def _broker_counters(proc: ServerProcess) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in proc.metrics().splitlines():
        for name in _COUNTERS:
            if line.startswith(f"nexus_broker_{name}_total "):
                values[name] = int(float(line.split()[1]))
    assert set(values) == set(_COUNTERS), values
    return values


def _settled(procs: list[ServerProcess]) -> list[dict[str, int]] | None:
    """Every instance's counters, once each has received all of its own envelopes back."""
    counters = [_broker_counters(p) for p in procs]
    return counters if all(c["echoes"] == c["published"] for c in counters) else None


async def _settle(procs: list[ServerProcess]) -> list[dict[str, int]]:
    found: list[list[dict[str, int]] | None] = [None]

    def check() -> bool:
        found[0] = _settled(procs)
        return found[0] is not None

    await eventually(check, 15)
    assert found[0] is not None
    return found[0]


async def test_no_instance_decodes_its_own_envelopes_or_traffic_of_documents_it_does_not_hold(
    cluster: Cluster,
) -> None:
    a = await cluster.instance("a")
    b = await cluster.instance("b")
    c = await cluster.instance("c")
    admin = aioredis.Redis.from_url(cluster.redis_url)
    backoff = Backoff(base=0.05, cap=0.5)
    try:
        async with (
            CanvasClient(a.url, "shared", user="ann", backoff=backoff) as ann,
            CanvasClient(b.url, "shared", user="ben", backoff=backoff) as ben,
            CanvasClient(c.url, "other", user="cid", backoff=backoff) as cid,
        ):
            await asyncio.gather(ann.wait_synced(), ben.wait_synced(), cid.wait_synced())
            # Each instance is subscribed to the channels of the documents it holds, only.
            channels = [f"{cluster.namespace}:doc:{d}" for d in ("shared", "other")]
            subscribers = dict(await admin.pubsub_numsub(*channels))
            assert subscribers == {channels[0].encode(): 2, channels[1].encode(): 1}

            before = await _settle([a, b, c])
            for i in range(20):
                ann.canvas.add_layer(f"ann {i}", layer_id=f"ann-{i}")
                ben.canvas.add_layer(f"ben {i}", layer_id=f"ben-{i}")
                cid.canvas.add_layer(f"cid {i}", layer_id=f"cid-{i}")
                ann.set_presence({"i": i})
                await asyncio.sleep(0.02)  # mostly one edit per server loop turn
            await eventually(lambda: ann.canvas.content() == ben.canvas.content(), 15)
            await eventually(lambda: len(cid.canvas.layer_ids()) == 20)
            after = await _settle([a, b, c])
    finally:
        await admin.aclose()

    ca, cb, cc = ({k: n[k] - o[k] for k in _COUNTERS} for o, n in zip(before, after, strict=True))
    # ann's edits and presence (one user's updates of one loop turn go out merged, and a slow
    # turn may hold two of them: not exactly 40 and 20)
    assert ca["published"] >= 10 and cb["published"] >= 10
    assert ca["dropped"] == cb["dropped"] == cc["dropped"] == 0
    for mine, peer in ((ca, cb), (cb, ca)):
        # Every own envelope came back from Redis and was skipped on its raw bytes ...
        assert mine["echoes"] == mine["published"]
        # ... so what was decoded and applied is exactly the peer's traffic, once.
        assert mine["decoded"] == mine["delivered"] == peer["published"]
        assert mine["received"] == mine["echoes"] + mine["decoded"]
    # The instance holding only "other" handled nothing of "shared": its own echoes only.
    assert cc["published"] >= 10
    assert cc["received"] == cc["echoes"] == cc["published"] and cc["decoded"] == 0
    assert after[2]["decoded"] == 0
