"""Run the server in-process (uvicorn on a pre-bound loopback socket) or as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from collab.app import create_app
from collab.asgi.serving import uvicorn_options
from collab.replication.broker.base import Broker
from collab.replication.lease.base import Lease
from collab.server import Server
from collab.settings import Settings
from persistence.base import Store


@dataclass
class RunningServer:
    url: str  # ws://127.0.0.1:PORT
    http_url: str
    app: Starlette

    @property
    def server(self) -> Server:
        server: Server = self.app.state.server
        return server


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serve(
    settings: Settings,
    *,
    store: Store | None = None,
    broker: Broker | None = None,
    lease: Lease | None = None,
) -> AsyncIterator[RunningServer]:
    app = create_app(settings, store=store, broker=broker, lease=lease)
    sock = bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, **uvicorn_options(settings), ws_ping_interval=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield RunningServer(f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await task
        sock.close()


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    base = Settings(data_dir=tmp_path / "data", log_format="text", room_idle_seconds=5.0)
    return replace(base, **overrides)  # type: ignore[arg-type]


def free_port() -> int:
    with bound_socket() as sock:
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """``nexus-canvas serve`` in a child process, for crash (SIGKILL) tests."""

    def __init__(self, data_dir: Path, *, port: int | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, **self.env}
        cmd = [
            sys.executable, "-m", "collab.cli", "serve",
            "--port", str(self.port), "--data-dir", str(self.data_dir), "--log-format", "text",
        ]  # fmt: skip
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"server did not become healthy:\n{self.log_path.read_text()}")

    def health(self) -> dict[str, object]:
        url = f"http://127.0.0.1:{self.port}/health"
        with urllib.request.urlopen(url, timeout=5) as response:
            result: dict[str, object] = json.load(response)
            return result

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text: str = response.read().decode()
            return text

    def kill(self) -> None:
        """SIGKILL: no flush, no shutdown hooks."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def server_process(data_dir: Path, **env: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(data_dir, **env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
