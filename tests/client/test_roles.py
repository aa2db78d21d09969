"""The client knows its role: the server's hello, read-only replicas, refusals not retried."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from canvasdoc import close_codes
from canvasdoc.canvas import Canvas
from client import Backoff, CanvasClient, ConnectionRefused, ReadOnlyError
from client.guarded_canvas import READERS, WRITERS
from collab.auth.tokens import TokenIssuer
from collab.settings import Settings
from tests.support.accounts import bearer as _auth
from tests.support.accounts import register as _account
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.tcp_proxy import TcpProxy

SECRET = "roles-secret-" + "r" * 32
FAST = Backoff(base=0.01, cap=0.05, floor=0.01)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, auth_secret=SECRET)


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


async def _shared(http: httpx.AsyncClient, doc_id: str, owner: str, member: str, role: str) -> None:
    r = await http.post("/api/docs", json={"id": doc_id}, headers=_auth(owner))
    assert r.status_code == 201, r.text
    r = await http.post(
        f"/api/docs/{doc_id}/members", json={"user": member, "role": role}, headers=_auth(owner)
    )
    assert r.status_code == 200, r.text


class CountingProxy(TcpProxy):
    """Counts the TCP connections that reach the server: one per connection attempt."""

    accepted = 0

    async def __aenter__(self) -> CountingProxy:
        await self.start()
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await super()._handle(reader, writer)


def test_every_canvas_method_is_classified_as_reader_or_writer() -> None:
    public = {
        name
        for name, value in inspect.getmembers(Canvas)
        if not name.startswith("_") and inspect.isfunction(value)
    }
    assert READERS <= public, READERS - public  # a renamed reader would be guarded
    assert public == READERS | WRITERS
    # The writers as of this test; a new Canvas method is guarded until listed as a reader.
    expected = {"init", "set_meta", "add_layer", "remove_layer", "move_layer", "update_layer"}
    assert expected | {"begin_stroke", "append_points", "replace_content"} <= WRITERS


async def test_each_client_is_told_its_role_and_name(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    owner = await _account(http, "olivia")
    viewer = await _account(http, "victor")
    await _shared(http, "plan", owner, "victor", "viewer")
    r = await http.post("/api/docs/plan/links", json={"role": "editor"}, headers=_auth(owner))
    link = r.json()["token"]
    async with (
        CanvasClient(running.url, "plan", token=owner) as o,
        CanvasClient(running.url, "plan", token=viewer) as v,
        CanvasClient(running.url, "plan", token=link) as guest,
    ):
        for client in (o, v, guest):
            await client.wait_synced()
        assert (o.role, o.user_name, o.read_only) == ("owner", "olivia", False)
        assert (v.role, v.user_name, v.read_only) == ("viewer", "victor", True)
        assert v.user_id is not None and v.user_id != "victor"  # the account's id
        assert (guest.role, guest.read_only) == ("editor", False)


async def test_a_viewers_writers_raise_and_leave_the_replica_unchanged(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    owner = await _account(http, "omar")
    viewer = await _account(http, "vera")
    await _shared(http, "poster", owner, "vera", "viewer")
    async with (
        CanvasClient(running.url, "poster", token=owner) as o,
        CanvasClient(running.url, "poster", token=viewer) as v,
    ):
        await o.wait_synced()
        await v.wait_synced()
        layer = o.canvas.add_layer("by the owner", kind="paint")
        await v.wait_for(lambda: layer in v.canvas.layer_ids())
        before = (v.doc.get_update(), v.canvas.to_dict())

        with pytest.raises(ReadOnlyError) as info:
            v.canvas.add_layer("mine")
        assert isinstance(info.value, PermissionError)
        message = str(info.value)
        assert "add_layer" in message and "'vera'" in message
        assert "viewer" in message and "'poster'" in message
        assert (info.value.role, info.value.doc_id, info.value.name) == ("viewer", "poster", "vera")
        with pytest.raises(ReadOnlyError, match="update_layer"):
            v.canvas.update_layer(layer, opacity=10)
        with pytest.raises(ReadOnlyError, match="begin_stroke"):
            v.canvas.begin_stroke(layer, points=[1, 2])
        for writer in WRITERS:  # refused before the arguments are even looked at
            with pytest.raises(ReadOnlyError, match=writer):
                getattr(v.canvas, writer)()
        assert v.canvas.read_layers()[0].name == "by the owner"  # readers still work
        assert (v.doc.get_update(), v.canvas.to_dict()) == before
        assert v.stats.permission_denied is None  # nothing was sent to be refused

        # The owner is not affected, and the viewer still follows the owner's edits.
        o.canvas.update_layer(layer, name="renamed")
        await v.wait_for(lambda: v.canvas.get_layer(layer).name == "renamed")


async def test_a_forged_token_raises_naming_401_at_once_and_is_not_retried(
    running: RunningServer,
) -> None:
    forged = TokenIssuer("another-secret-" + "z" * 32).access("olga", "olga")
    async with (
        CountingProxy("127.0.0.1", int(running.url.rsplit(":", 1)[1])) as proxy,
        CanvasClient(f"ws://127.0.0.1:{proxy.port}", "d1", token=forged, backoff=FAST) as client,
    ):
        started = time.monotonic()
        with pytest.raises(ConnectionRefused) as info:
            await client.wait_synced(timeout=30)
        assert time.monotonic() - started < 5  # the refusal, not the timeout
        assert info.value.status == 401 and info.value.code == 401
        assert "401" in str(info.value) and "invalid token" in str(info.value)
        assert not client.running  # the loop ended: no retry can follow
        assert client.stats.attempts == 1 and proxy.accepted == 1
        with pytest.raises(ConnectionRefused, match="401"):  # asked again: the same answer
            await client.wait_synced()


async def test_a_403_is_not_retried(running: RunningServer, http: httpx.AsyncClient) -> None:
    owner = await _account(http, "oona")
    stranger = await _account(http, "sam")
    await http.post("/api/docs", json={"id": "private"}, headers=_auth(owner))
    async with CanvasClient(running.url, "private", token=stranger, backoff=FAST) as client:
        with pytest.raises(ConnectionRefused) as info:
            await client.wait_synced(timeout=30)
        assert info.value.status == 403
        assert "'sam' may not view document 'private'" in info.value.reason
        assert not client.running and client.stats.attempts == 1


async def test_a_4400_close_is_not_retried(tmp_path: Path) -> None:
    async with (
        serve(settings_for(tmp_path)) as srv,  # open mode
        CountingProxy("127.0.0.1", int(srv.url.rsplit(":", 1)[1])) as proxy,
        CanvasClient(f"ws://127.0.0.1:{proxy.port}", "bad id", backoff=FAST) as client,
    ):
        with pytest.raises(ConnectionRefused) as info:
            await client.wait_synced(timeout=30)
        assert info.value.close_code == close_codes.INVALID_DOCUMENT_ID
        assert info.value.status is None
        assert "4400" in str(info.value) and "'bad id'" in info.value.reason
        assert not client.running
        assert client.stats.attempts == 1 and proxy.accepted == 1


async def test_a_changed_role_reaches_the_client_on_its_reconnect(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    owner = await _account(http, "opal")
    member = await _account(http, "mia")
    await _shared(http, "board", owner, "mia", "viewer")
    async with CanvasClient(running.url, "board", token=member, backoff=FAST) as m:
        await m.wait_synced()
        assert m.read_only
        r = await http.post(
            "/api/docs/board/members", json={"user": "mia", "role": "editor"}, headers=_auth(owner)
        )
        assert r.status_code == 200
        # Closed with 4403 ("your role changed"): reconnected, not stopped, told the new role.
        await m.wait_for(lambda: m.role == "editor" and m.synced)
        assert m.stats.attempts == 2 and m.refused is None
        layer = m.canvas.add_layer("now editing")
        room = running.server.rooms.rooms["board"]
        await m.wait_for(lambda: layer in Canvas(room.doc).layer_ids())

        # Removed: the reconnect is refused (403), which stops the client.
        r = await http.delete(f"/api/docs/board/members/{m.user_id}", headers=_auth(owner))
        assert r.status_code == 204
        await m.wait_for(lambda: m.refused is not None, timeout=10)
        with pytest.raises(ConnectionRefused, match="HTTP 403"):
            await m.wait_synced()
        assert not m.running
        assert m.role == "editor"  # the last role the server gave, kept while offline
