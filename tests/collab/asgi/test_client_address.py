"""The client address behind trusted proxies, and per-address limits that let 1000 users behind
one NAT reconnect after a restart."""

from __future__ import annotations

import heapq
import logging
import random
import re
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import websockets

from canvasdoc import wire
from client.backoff import Backoff
from collab.asgi.client_address import TrustedProxies, parse_networks, trusted_proxies
from collab.asgi.serving import uvicorn_options
from collab.exceptions import SettingsError
from collab.session.limits import AddressGuard
from collab.settings import Settings
from tests.support.clock import ManualClock
from tests.support.servers import serve, settings_for

PROXIES = trusted_proxies("10.0.0.0/8, 2001:db8:f::/48, 192.0.2.9")


def _client(peer: str, *, fwd: str | None = None, xff: str | None = None) -> str:
    return PROXIES.client_address(peer, [fwd] if fwd else [], [xff] if xff else [])


def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    assert _client("203.0.113.5", xff="198.51.100.1") == "203.0.113.5"
    assert _client("203.0.113.5", fwd="for=198.51.100.1") == "203.0.113.5"
    assert TrustedProxies().client_address("10.1.1.1", [], ["198.51.100.1"]) == "10.1.1.1"


def test_the_right_most_untrusted_hop_is_the_client() -> None:
    # the left-most entry is whatever the client claimed: only what our proxies added counts
    chain = "6.6.6.6, 198.51.100.1, 10.2.3.4"
    assert _client("10.0.0.1", xff=chain) == "198.51.100.1"
    assert _client("192.0.2.9", xff="198.51.100.7") == "198.51.100.7"
    assert _client("10.0.0.1", xff="10.9.9.9, 10.8.8.8") == "10.9.9.9"  # all ours: the first
    assert _client("10.0.0.1") == "10.0.0.1"  # no header: the proxy itself


def test_several_header_lines_are_one_chain_in_order() -> None:
    address = PROXIES.client_address("10.0.0.1", [], ["6.6.6.6, 198.51.100.1", "10.5.5.5"])
    assert address == "198.51.100.1"


def test_ipv6_ports_and_mapped_addresses() -> None:
    assert _client("2001:db8:f::1", xff="2001:db8:1::7") == "2001:db8:1::7"
    assert _client("::ffff:10.0.0.1", xff="198.51.100.1:5555") == "198.51.100.1"
    assert _client("10.0.0.1", xff="[2001:db8:1::7]:443") == "2001:db8:1::7"
    assert _client("10.0.0.1", xff="::ffff:198.51.100.3") == "198.51.100.3"
    assert _client("2001:db8:1::1", xff="198.51.100.1") == "2001:db8:1::1"  # not in the /48


def test_forwarded_is_preferred_and_its_quoting_read() -> None:
    fwd = 'for=6.6.6.6, For="[2001:db8:2::9]:4711";proto=https;by="x,y", for=10.3.3.3'
    assert _client("10.0.0.1", fwd=fwd, xff="198.51.100.99") == "2001:db8:2::9"
    assert _client("10.0.0.1", fwd='for="198.51.100.\\4"') == "198.51.100.4"  # quoted-pair


@pytest.mark.parametrize(
    ("fwd", "xff"),
    [
        (None, "198.51.100.1, not-an-ip"),
        (None, "198.51.100.1,,"),
        (None, "198.51.100.1:http"),
        (None, "[2001:db8::1"),
        ("for=_hidden", None),
        ("for=unknown", None),
        ('for="198.51.100.1', None),
        ("proto=https", None),
        ("for=198.51.100.1, for", None),
        ('for=198.51.100.1"', None),
        ("for=" + "9" * 5000, None),
    ],
)
def test_garbage_from_a_trusted_proxy_leaves_the_peer(
    fwd: str | None, xff: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="collab.asgi.client_address")
    assert _client("10.0.0.1", fwd=fwd, xff=xff) == "10.0.0.1"
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG and "10.0.0.1" in record.getMessage()


def test_a_peer_that_is_not_an_ip_is_kept() -> None:
    assert _client("testclient", xff="198.51.100.1") == "testclient"


def test_bad_trusted_proxies_are_refused_naming_the_entry() -> None:
    with pytest.raises(ValueError, match=re.escape("'10.0.0.0/33'")):
        parse_networks("192.0.2.1, 10.0.0.0/33")
    with pytest.raises(SettingsError, match=r"NEXUS_TRUSTED_PROXIES.*'proxy\.local'"):
        Settings.from_env({"NEXUS_TRUSTED_PROXIES": "10.0.0.1,proxy.local"})
    assert Settings.from_env({"NEXUS_TRUSTED_PROXIES": " 10.0.0.1 , ::1/128 "}).trusted_proxies


def test_uvicorn_does_not_rewrite_the_client_address_itself() -> None:
    # its default trusts X-Forwarded-For from 127.0.0.1 whatever NEXUS_TRUSTED_PROXIES says
    assert uvicorn_options(Settings())["proxy_headers"] is False


async def _held(stack: AsyncExitStack, url: str, forwarded_for: str) -> None:
    ws = await stack.enter_async_context(
        websockets.connect(url, additional_headers={"X-Forwarded-For": forwarded_for})
    )
    assert wire.decode(await ws.recv())  # type: ignore[arg-type]


async def _refused_status(url: str, forwarded_for: str) -> int:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(url, additional_headers={"X-Forwarded-For": forwarded_for})
    status: int = info.value.response.status_code
    return status


async def test_clients_behind_a_trusted_proxy_each_get_their_own_limit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(tmp_path, max_connections_per_ip=1, trusted_proxies="127.0.0.1")
    async with serve(settings) as srv, AsyncExitStack() as stack:
        url = f"{srv.url}/ws/proxied"
        await _held(stack, url, "198.51.100.1")
        await _held(stack, url, "198.51.100.2")
        assert await _refused_status(url, "198.51.100.1") == 429
        await _held(stack, url, "6.6.6.6, 198.51.100.3")  # a claimed hop does not matter
    (line,) = [r for r in caplog.records if r.getMessage() == "connection refused"]
    assert line.__dict__["address"] == "198.51.100.1"


async def test_a_forged_header_from_an_untrusted_peer_gets_the_peers_limit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(tmp_path, max_connections_per_ip=1, trusted_proxies="192.0.2.0/24")
    async with serve(settings) as srv, AsyncExitStack() as stack:
        url = f"{srv.url}/ws/forged"
        await _held(stack, url, "198.51.100.1")
        assert await _refused_status(url, "198.51.100.2") == 429
    (line,) = [r for r in caplog.records if r.getMessage() == "connection refused"]
    assert line.__dict__["address"] == "127.0.0.1"


def _python_clients_reconnect(guard: AddressGuard, clock: ManualClock, n: int) -> float:
    """``n`` Python clients (client.backoff, full jitter) cut at once retry until admitted;
    the fake time at which the last one got in (inf: not within 60 s)."""
    rng = random.Random(16)
    backoffs = [Backoff(rng=random.Random(rng.random())) for _ in range(n)]
    due = [(b.next_delay(), i) for i, b in enumerate(backoffs)]
    heapq.heapify(due)
    last = 0.0
    while due:
        at, i = heapq.heappop(due)
        if at > 60:
            return float("inf")
        clock.now = at
        if guard.admit("192.0.2.1") is None:
            last = at
        else:
            heapq.heappush(due, (at + backoffs[i].next_delay(), i))
    return last


def _browsers_reconnect(guard: AddressGuard, clock: ManualClock, n: int) -> float:
    """``n`` browsers (y-websocket: no jitter, 2^k * 100 ms capped at 2.5 s, so all retry in
    the same instant) cut at once; the fake time at which the last one got in."""
    waiting, attempt = n, 0
    while waiting:
        attempt += 1
        clock.now += min(2**attempt * 0.1, 2.5)
        if clock.now > 60:
            return float("inf")
        waiting = sum(guard.admit("192.0.2.1") is not None for _ in range(waiting))
    return clock.now


@pytest.mark.parametrize("reconnect", [_python_clients_reconnect, _browsers_reconnect])
def test_1000_clients_behind_one_address_reconnect_within_30_s_with_the_defaults(
    reconnect: Callable[[AddressGuard, ManualClock, int], float],
) -> None:
    defaults = Settings()
    clock = ManualClock(0.0)
    guard = AddressGuard(  # as collab/server.py builds it
        max_concurrent=defaults.max_connections_per_ip,
        attempts_per_second=defaults.connection_attempts_per_second,
        burst=2 * defaults.connection_attempts_per_second,
        clock=clock,
    )
    # half the window: the rest is for the instance coming back up and the handshakes
    assert reconnect(guard, clock, 1000) <= 15.0


def test_a_client_looping_connects_is_still_stopped_with_the_defaults() -> None:
    defaults = Settings()
    clock = ManualClock(0.0)
    guard = AddressGuard(
        max_concurrent=defaults.max_connections_per_ip,
        attempts_per_second=defaults.connection_attempts_per_second,
        burst=2 * defaults.connection_attempts_per_second,
        clock=clock,
    )
    admitted = 0
    for _ in range(10_000):  # 10 000 attempts in one second, none closed
        clock.advance(0.0001)
        admitted += guard.admit("203.0.113.66") is None
    assert admitted <= 3 * defaults.connection_attempts_per_second
    for _ in range(60):  # a minute on: held at the concurrency cap
        clock.advance(1.0)
        admitted += sum(guard.admit("203.0.113.66") is None for _ in range(1000))
    assert admitted == defaults.max_connections_per_ip
