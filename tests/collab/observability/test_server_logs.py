"""The log a real ``nexus-canvas serve`` process writes to stderr, in both formats: no ANSI
colour codes (uvicorn's included), and refused upgrades as warnings of our own, nothing at
error level."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import websockets

from collab.auth.tokens import TokenIssuer
from tests.support.accounts import bearer
from tests.support.servers import free_port

SECRET = "test-secret-" + "l" * 32


@contextmanager
def _server(tmp_path: Path, fmt: str) -> Iterator[tuple[str, Path]]:
    """``nexus-canvas serve --log-format fmt``; yields its ws:// URL and its stderr file."""
    port = free_port()
    stderr_path = tmp_path / f"stderr-{fmt}.log"
    cmd = [
        sys.executable, "-m", "collab.cli", "serve", "--port", str(port),
        "--data-dir", str(tmp_path / "data"), "--log-format", fmt, "--log-level", "INFO",
    ]  # fmt: skip
    env = {**os.environ, "NEXUS_AUTH_SECRET": SECRET}
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, stderr_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, stderr_path.read_text()
                time.sleep(0.05)
        yield f"ws://127.0.0.1:{port}", stderr_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _refuse(url: str, **kwargs: object) -> None:
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(url, **kwargs)  # type: ignore[arg-type]


async def _traffic(url: str) -> None:
    """An accepted connection, then the refusals operators see every day."""
    token = TokenIssuer(SECRET).access("ulla", "ulla")
    expired = TokenIssuer(SECRET, access_ttl=-5).access("ulla", "ulla")
    async with websockets.connect(f"{url}/ws/doc", additional_headers=bearer(token)) as ws:
        await ws.recv()
    await _refuse(f"{url}/ws/doc")
    await _refuse(f"{url}/ws/doc", additional_headers=bearer(expired))
    await _refuse(f"{url}/ws/doc", additional_headers=bearer("garbage"))
    await _refuse(f"{url}/ws/doc", additional_headers=bearer(token), origin="https://evil.example")


def _levels_and_refusals(fmt: str, text: str) -> tuple[list[str], int]:
    """The level of every line, and how many lines are our refusal warnings."""
    levels, refusals = [], 0
    for line in text.splitlines():
        if fmt == "json":
            entry = json.loads(line)
            level, message = entry["level"].upper(), entry["msg"]
            refusal = message == "connection refused" and entry["logger"].startswith("collab.")
        else:
            if line.startswith(("Traceback", " ")):
                continue
            level = line.split()[2]
            refusal = "collab.asgi.ws_endpoint: connection refused" in line
        levels.append(level)
        if refusal:
            assert level == "WARNING", line
            refusals += 1
    return levels, refusals


@pytest.mark.parametrize("fmt", ["json", "text"])
async def test_server_stderr_has_no_colour_codes_and_no_errors_for_refusals(
    tmp_path: Path, fmt: str
) -> None:
    with _server(tmp_path, fmt) as (url, stderr_path):
        await _traffic(url)
    text = stderr_path.read_text()
    assert "\x1b[" not in text and "\\u001b[" not in text, text
    levels, refusals = _levels_and_refusals(fmt, text)
    assert "INFO" in levels, text  # uvicorn's start-up lines came through our formatter
    assert "ERROR" not in levels and "CRITICAL" not in levels, text
    assert refusals == 4, text
    assert "without completing handshake" not in text
