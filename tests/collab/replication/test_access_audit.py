"""Access changes made while an instance was cut off from the broker still reach its
connections: after the broker reconnects, the instance re-checks every connection it holds
against the store (collab/replication/access_audit.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import httpx
import websockets

from canvasdoc import close_codes, wire
from collab.replication.broker.memory import MemoryBroker, MemoryHub
from collab.replication.lease.memory import LeaseRegistry, MemoryLease
from persistence.sqlite import SQLiteStore
from tests.support.accounts import bearer, shared_document
from tests.support.servers import serve, settings_for
from tests.support.waiting import eventually

SECRET = "audit-secret-" + "s" * 32


async def _open(url: str, doc: str, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(f"{url}/ws/{doc}", additional_headers=bearer(token))
    async with asyncio.timeout(5):
        while True:
            message = wire.decode(await ws.recv())  # type: ignore[arg-type]
            if isinstance(message, wire.Command) and message.body.get("type") == "hello":
                return ws


async def _close_code(ws: websockets.ClientConnection, limit: float) -> int | None:
    """Read until the server closes ``ws`` (its close code) or ``limit`` s pass (None)."""
    with contextlib.suppress(websockets.ConnectionClosed, TimeoutError):
        async with asyncio.timeout(limit):
            while True:
                await ws.recv()
    return ws.close_code


async def test_changes_lost_during_a_broker_outage_apply_after_the_reconnect(
    tmp_path: Path,
) -> None:
    db = tmp_path / "shared.db"
    hub, registry = MemoryHub(), LeaseRegistry()
    broker_b = MemoryBroker(hub, instance_id="b")
    async with (
        serve(
            settings_for(tmp_path / "a", auth_secret=SECRET),
            store=SQLiteStore(db),
            broker=MemoryBroker(hub, instance_id="a"),
            lease=MemoryLease(registry, owner="a"),
        ) as a,
        serve(
            settings_for(tmp_path / "b", auth_secret=SECRET),
            store=SQLiteStore(db),
            broker=broker_b,
            lease=MemoryLease(registry, owner="b"),
        ) as b,
        httpx.AsyncClient(base_url=a.http_url) as http,
    ):
        doc = "plan"
        shared = await shared_document(http, doc, editors=("eve", "vic"))
        owner, link = shared.owner, shared.link
        eve, vic = shared.editors["eve"], shared.editors["vic"]

        owner_ws = await _open(b.url, doc, owner)
        guest = await _open(b.url, doc, link["token"])
        eve_ws = await _open(b.url, doc, eve)
        vic_ws = await _open(b.url, doc, vic)

        hub.disconnect(broker_b)  # B hears nothing from A from here on
        r = await http.delete(f"/api/docs/{doc}/links/{link['id']}", headers=bearer(owner))
        assert r.status_code in (200, 204), r.text
        members = (await http.get(f"/api/docs/{doc}/members", headers=bearer(owner))).json()
        eve_id = next(m["id"] for m in members["members"] if m["name"] == "eve")
        r = await http.delete(f"/api/docs/{doc}/members/{eve_id}", headers=bearer(owner))
        assert r.status_code in (200, 204), r.text
        r = await http.post(
            f"/api/docs/{doc}/members",
            json={"user": "vic", "role": "viewer"},
            headers=bearer(owner),
        )
        assert r.status_code == 200, r.text
        # The envelopes were lost: B still holds all four connections.
        assert await _close_code(guest, 0.3) is None
        assert len(b.server.rooms.rooms[doc].connections) == 4

        started = time.monotonic()
        hub.reconnect(broker_b)
        codes = await asyncio.gather(
            _close_code(guest, 1.0), _close_code(eve_ws, 1.0), _close_code(vic_ws, 1.0)
        )
        assert time.monotonic() - started <= 1.0
        assert codes == [close_codes.ACCESS_REVOKED] * 3
        await eventually(lambda: b.server.access_audit.audits == 1)
        assert b.server.access_audit.closed == 3
        # The owner's access did not change: still connected.
        assert await _close_code(owner_ws, 0.2) is None
        await owner_ws.close()
