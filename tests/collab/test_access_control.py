"""Token mode: accounts, roles, share links; viewers are read-only on raw frames."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from pycrdt import Doc, Map

from canvasdoc import close_codes, wire
from canvasdoc.canvas import Canvas
from client import CanvasClient, ReadOnlyError
from collab.auth.tokens import TokenIssuer
from collab.settings import Settings
from tests.support.accounts import bearer as _auth
from tests.support.accounts import register as _account
from tests.support.servers import RunningServer, settings_for
from tests.support.waiting import eventually

SECRET = "test-secret-" + "k" * 32


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, auth_secret=SECRET)


@pytest.fixture
async def http(running: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http_url) as client:
        yield client


async def _refused_ws(url: str, token: str | None) -> int:
    headers = _auth(token) if token else {}
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(url, additional_headers=headers)
    status: int = info.value.response.status_code
    return status


def _probe(value: str) -> bytes:
    d: Doc = Doc()
    d.get("meta", type=Map)[f"probe-{value}"] = value
    return d.get_update()


async def test_accounts_roles_and_viewer_frames(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    owner = await _account(http, "olivia")
    viewer = await _account(http, "victor")
    stranger = await _account(http, "sam")
    r = await http.post("/api/docs", json={"id": "plan"}, headers=_auth(owner))
    assert r.status_code == 201, r.text
    r = await http.post(
        "/api/docs/plan/members", json={"user": "victor", "role": "viewer"}, headers=_auth(owner)
    )
    assert r.status_code == 200, r.text

    # A stranger is refused before any document data: REST 403, WebSocket 403.
    r = await http.get("/api/docs/plan", headers=_auth(stranger))
    assert r.status_code == 403 and "may not view" in r.json()["message"]
    assert await _refused_ws(f"{running.url}/ws/plan", stranger) == 403
    assert await _refused_ws(f"{running.url}/ws/plan", None) == 401

    async with (
        CanvasClient(running.url, "plan", token=owner) as o,
        CanvasClient(running.url, "plan", token=viewer) as v,
    ):
        await o.wait_synced()
        await v.wait_synced()
        o.canvas.add_layer("by owner", layer_id="owned")
        await v.wait_for(lambda: "owned" in v.canvas.layer_ids())  # viewers receive updates
        v.set_presence({"user": "victor"})  # ... and may send awareness
        await o.wait_for(lambda: {"user": "victor"} in o.peers.values())

        # Raw update frames from the viewer, with no client-side check, change nothing.
        room = running.server.rooms.rooms["plan"]
        before = Canvas(room.doc).content()
        async with websockets.connect(
            f"{running.url}/ws/plan", additional_headers=_auth(viewer)
        ) as raw:
            await raw.send(wire.encode_update(_probe("sneaky")))
            await raw.send(wire.encode_sync_step2(_probe("sneaky2")))
            denied = None
            async with asyncio.timeout(5):
                while denied is None:
                    msg = wire.decode(await raw.recv())  # type: ignore[arg-type]
                    if isinstance(msg, wire.Auth):
                        denied = msg.payload
            assert denied[0] == wire.AUTH_PERMISSION_DENIED and b"read-only" in denied
        with pytest.raises(ReadOnlyError):  # the Python client refuses it locally
            v.canvas.add_layer("viewer's local edit")
        await asyncio.sleep(0.3)
        assert Canvas(room.doc).content() == before
        assert "probe-sneaky" not in o.canvas.meta_map.to_py()
        assert running.server.metrics.updates_denied._value.get() >= 2
        reply_error = None
        try:
            await v.undo()
        except RuntimeError as exc:
            reply_error = str(exc)
        assert reply_error is not None and "read-only" in reply_error

        # Viewers cannot edit over REST either.
        r = await http.post("/api/docs/plan/undo", headers=_auth(viewer))
        assert r.status_code == 403 and "may not edit" in r.json()["message"]


async def test_bad_tokens_are_refused_everywhere(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    owner = await _account(http, "olga")
    assert (
        await http.post("/api/docs", json={"id": "d1"}, headers=_auth(owner))
    ).status_code == 201
    assert (
        await http.post("/api/docs", json={"id": "d2"}, headers=_auth(owner))
    ).status_code == 201
    expired = TokenIssuer(SECRET, access_ttl=-5).access("someone", "x")
    forged = TokenIssuer("another-secret-" + "z" * 32).access("olga", "olga")
    r = await http.post("/api/docs/d1/links", json={"role": "editor"}, headers=_auth(owner))
    link_for_d1 = r.json()["token"]
    for token, status in ((expired, 401), (forged, 401), (link_for_d1, 403), ("garbage", 401)):
        r = await http.get("/api/docs/d2", headers=_auth(token))
        assert r.status_code == status, (token[:10], r.text)
        assert await _refused_ws(f"{running.url}/ws/d2", token) == status
    r = await http.get("/api/docs/d2", headers=_auth(expired))
    assert "expired" in r.json()["message"]
    # The d1 link works for d1 (through the subprotocol, as browsers send it).
    async with websockets.connect(
        f"{running.url}/ws/d1",
        subprotocols=["nexus", f"nexus.token.{link_for_d1}"],  # type: ignore[list-item]
    ) as ok:
        assert ok.subprotocol == "nexus"
        assert wire.decode(await ok.recv())  # type: ignore[arg-type]


async def test_revoking_a_share_link_disconnects_its_users_within_a_second(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    owner = await _account(http, "omar")
    await http.post("/api/docs", json={"id": "shared"}, headers=_auth(owner))
    r = await http.post(
        "/api/docs/shared/links", json={"role": "editor", "expires_in": 3600}, headers=_auth(owner)
    )
    assert r.status_code == 201
    link = r.json()
    async with CanvasClient(running.url, "shared", token=link["token"], reconnect=False) as guest:
        await guest.wait_synced()
        guest.canvas.add_layer("guest work", layer_id="g")  # editor link: may edit
        room = running.server.rooms.rooms["shared"]
        await eventually(lambda: "g" in Canvas(room.doc).layer_ids())
        started = time.monotonic()
        r = await http.delete(f"/api/docs/shared/links/{link['id']}", headers=_auth(owner))
        assert r.status_code == 200 and r.json()["connections_closed"] == 1
        await guest.wait_for(lambda: not guest.connected, timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert guest.last_close is not None and guest.last_close[0] == close_codes.ACCESS_REVOKED
    assert await _refused_ws(f"{running.url}/ws/shared", link["token"]) == 403


async def test_login_refresh_and_errors(http: httpx.AsyncClient) -> None:
    await _account(http, "lena")
    r = await http.post("/api/auth/register", json={"name": "lena", "password": "whatever123"})
    assert r.status_code == 409
    r = await http.post("/api/auth/register", json={"name": "x", "password": "whatever123"})
    assert r.status_code == 422 and "'x'" in r.json()["message"]
    r = await http.post("/api/auth/register", json={"name": "shorty", "password": "abc"})
    assert r.status_code == 422 and "got 3" in r.json()["message"]
    r = await http.post("/api/auth/login", json={"name": "lena", "password": "nope-nope"})
    assert r.status_code == 401
    r = await http.post("/api/auth/login", json={"name": "lena", "password": "pw-lenalenalena"})
    assert r.status_code == 200
    tokens = r.json()
    r = await http.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200 and r.json()["access_token"]
    r = await http.post("/api/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert r.status_code == 401 and "access token cannot be used here" in r.json()["message"]


async def test_origins_are_checked_on_websocket_upgrades(
    running: RunningServer, http: httpx.AsyncClient
) -> None:
    token = await _account(http, "oscar")
    url = f"{running.url}/ws/own-doc"
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(
            url, additional_headers=_auth(token), origin="https://evil.example"
        )  # type: ignore[arg-type]
    assert info.value.response.status_code == 403
    host = running.http_url.removeprefix("http://")
    async with websockets.connect(
        url,
        additional_headers=_auth(token),
        origin=f"http://{host}",  # type: ignore[arg-type]
    ) as same_origin:
        assert wire.decode(await same_origin.recv())  # type: ignore[arg-type]
