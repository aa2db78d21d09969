"""What operators see of refused upgrades and closed connections: one rate-limited warning of
our own per refusal and nothing at error level, and ``nexus_connections_closed_total`` counting
each refusal under its own code and a client's own close under the client's code."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from canvasdoc import close_codes, wire
from client import CanvasClient
from collab.asgi import ws_endpoint
from collab.auth.tokens import TokenIssuer
from collab.observability.logs import ThrottledLog
from collab.settings import Settings
from tests.support.accounts import bearer, register
from tests.support.clock import ManualClock
from tests.support.servers import RunningServer, serve, settings_for
from tests.support.waiting import eventually

SECRET = "test-secret-" + "r" * 32


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, auth_secret=SECRET)


@pytest.fixture(autouse=True)
def fresh_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal lines' budget is per process: earlier tests must not have used it up."""
    monkeypatch.setattr(
        ws_endpoint, "_refusals", ThrottledLog(ws_endpoint.log, logging.WARNING, 10)
    )


@pytest.fixture
async def token(running: RunningServer) -> str:
    async with httpx.AsyncClient(base_url=running.http_url) as http:
        return await register(http, "ursula")


async def _closed_by_code(srv: RunningServer) -> dict[str, float]:
    """``nexus_connections_closed_total`` as /metrics serves it, by code."""
    async with httpx.AsyncClient(base_url=srv.http_url) as http:
        text = (await http.get("/metrics")).text
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "nexus_connections_closed_total":
                counts[sample.labels["code"]] = sample.value
    return counts


async def _status_of_refused(url: str, **kwargs: object) -> int:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(url, **kwargs)  # type: ignore[arg-type]
    status: int = info.value.response.status_code
    return status


def _refusal_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "collab.asgi.ws_endpoint" and r.getMessage() == "connection refused"
    ]


async def test_each_refusal_is_one_warning_counted_under_its_code(
    running: RunningServer, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"{running.url}/ws/plan"
    expired = TokenIssuer(SECRET, access_ttl=-5).access("someone", "someone")
    assert await _status_of_refused(url) == 401
    assert await _status_of_refused(url, additional_headers=bearer(expired)) == 401
    foreign = {"additional_headers": bearer(token), "origin": "https://evil.example"}
    assert await _status_of_refused(url, **foreign) == 403
    async with websockets.connect(
        f"{running.url}/ws/bad%20id", additional_headers=bearer(token)
    ) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == close_codes.INVALID_DOCUMENT_ID

    await eventually(lambda: len(_refusal_lines(caplog)) == 4)
    assert [r.levelno for r in caplog.records if r.levelno >= logging.ERROR] == []
    lines = _refusal_lines(caplog)
    assert {r.levelno for r in lines} == {logging.WARNING}
    assert [r.__dict__["code"] for r in lines] == [401, 401, 403, close_codes.INVALID_DOCUMENT_ID]
    assert "expired" in lines[1].__dict__["reason"]
    assert lines[2].__dict__["origin"] == "https://evil.example"
    assert all(r.__dict__["address"] == "127.0.0.1" for r in lines)
    # uvicorn's and websockets' own lines for each handshake are at DEBUG, not INFO.
    handshake = [r for r in caplog.records if r.name == "uvicorn.error" and "WebSocket" in r.msg]
    assert handshake and {r.levelno for r in handshake} == {logging.DEBUG}
    counts = await _closed_by_code(running)
    assert (counts.get("401"), counts.get("403"), counts.get("4400")) == (2, 1, 1)


async def test_address_limits_are_refused_with_429_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with serve(settings_for(tmp_path, max_connections_per_ip=1)) as srv:
        async with websockets.connect(f"{srv.url}/ws/doc") as held:
            assert wire.decode(await held.recv())  # type: ignore[arg-type]
            assert await _status_of_refused(f"{srv.url}/ws/doc") == 429
        (line,) = _refusal_lines(caplog)
        assert line.levelno == logging.WARNING
        assert "too many open connections" in line.__dict__["reason"]
        assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
        assert (await _closed_by_code(srv)).get("429") == 1


async def test_refusal_lines_are_rate_limited_and_say_how_many_were_dropped(
    running: RunningServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    throttle = ThrottledLog(ws_endpoint.log, logging.WARNING, 10, clock=clock)
    monkeypatch.setattr(ws_endpoint, "_refusals", throttle)
    caplog.set_level(logging.INFO)
    for _ in range(25):
        assert await _status_of_refused(f"{running.url}/ws/doc") == 401
    assert len(_refusal_lines(caplog)) == 10
    clock.advance(1.0)
    assert await _status_of_refused(f"{running.url}/ws/doc") == 401
    lines = _refusal_lines(caplog)
    assert len(lines) == 11 and lines[-1].__dict__["suppressed"] == 15
    assert "suppressed" not in lines[0].__dict__
    # Every refusal is counted even when its line was dropped.
    assert (await _closed_by_code(running)).get("401") == 26


async def test_a_clients_own_close_is_counted_under_its_code_not_as_a_server_failure(
    running: RunningServer, token: str
) -> None:
    url = f"{running.url}/ws/closing"
    headers = bearer(token)
    for code in (close_codes.NORMAL, close_codes.GOING_AWAY):
        async with websockets.connect(url, additional_headers=headers) as ws:
            assert wire.decode(await ws.recv())  # type: ignore[arg-type]
            await ws.close(code)
    async with websockets.connect(url, additional_headers=headers) as ws:
        await ws.recv()
        await ws.close(close_codes.INTERNAL_ERROR)  # a client's own error, not the server's
    # The Python client leaving closes normally (1000), not a server failure.
    async with CanvasClient(running.url, "closing", token=token, reconnect=False) as client:
        await client.wait_synced()
    # The server's verdict on bad input is still counted under the server's code.
    async with websockets.connect(url, additional_headers=headers) as ws:
        await ws.recv()
        await ws.send("a text frame")
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await ws.recv()

    await eventually(lambda: _open(running) == 0)
    counts = await _closed_by_code(running)
    assert "1011" not in counts, counts
    assert counts.get("1001") == 1, counts
    assert counts.get(str(close_codes.UNSUPPORTED_DATA)) == 1, counts
    # The explicit 1011 is the client's: counted as "client"; the Python client's close is a
    # 1000 like the first raw client's.
    assert (counts.get("client"), counts.get("1000")) == (1, 2), counts


def _open(srv: RunningServer) -> float:
    return srv.server.metrics.connections._value.get()


@pytest.fixture
async def running_plain(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with serve(settings_for(tmp_path)) as srv:
        yield srv


async def test_a_dropped_connection_is_not_counted_as_a_server_failure(
    running_plain: RunningServer,
) -> None:
    ws = await websockets.connect(f"{running_plain.url}/ws/dropped")
    await ws.recv()
    ws.transport.abort()  # no close frame: the TCP connection just ends
    await eventually(lambda: _open(running_plain) == 0)
    counts = await _closed_by_code(running_plain)
    assert set(counts) <= {"1005", "1006"} and sum(counts.values()) == 1, counts
