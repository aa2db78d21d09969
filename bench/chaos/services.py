"""The run's own services: a private ``redis-server`` process (restarted for real by the
injector, never the machine's shared Redis) and a Postgres schema on the machine's Postgres,
created for the run and dropped after it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import socket
import uuid
from pathlib import Path
from types import TracebackType

import asyncpg  # type: ignore[import-untyped]
import redis.asyncio as aioredis

log = logging.getLogger(__name__)


class ServiceError(RuntimeError):
    """A service the run needs could not be started or reached (the message says which)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """``redis-server`` on a free loopback port with an append-only file, so a restart
    (SIGTERM: Redis writes the file and exits) keeps the job queue as a production Redis with
    persistence would."""

    def __init__(self, directory: Path, *, binary: str = "redis-server") -> None:
        found = shutil.which(binary)
        if found is None:
            raise ServiceError(f"redis-server not found: {binary!r} is not on PATH")
        self.binary = found
        self.directory = directory
        self.port = free_port()
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            raise ServiceError(f"redis-server on port {self.port} is already running")
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
            "--appendonly", "yes", "--save", "", "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        self._proc = await asyncio.create_subprocess_exec(self.binary, *args)
        await self._wait_ready()

    async def _wait_ready(self, timeout: float = 15.0) -> None:
        client = aioredis.from_url(self.url)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self._proc is not None and self._proc.returncode is not None:
                        raise ServiceError(
                            f"redis-server exited with {self._proc.returncode}; see "
                            f"{self.directory / 'redis.log'}"
                        )
                    try:
                        if await client.ping():  # type: ignore[misc]
                            return
                    except (OSError, aioredis.ConnectionError, aioredis.BusyLoadingError):
                        pass
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise ServiceError(
                f"redis-server on port {self.port} not ready in {timeout} s"
            ) from None
        finally:
            await client.aclose()

    async def stop(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def restart(self, down: float) -> None:
        """Stop (SIGTERM), stay down ``down`` seconds, start again on the same port."""
        await self.stop()
        await asyncio.sleep(down)
        await self.start()
        self.restarts += 1


class PostgresSchema:
    """A fresh schema ``chaos_<hex>`` on ``url``'s database, dropped with everything in it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = f"chaos_{uuid.uuid4().hex[:12]}"

    async def __aenter__(self) -> PostgresSchema:
        try:
            conn = await asyncpg.connect(self.url, timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            raise ServiceError(f"Postgres is not reachable at {self.url}: {exc}") from exc
        try:
            await conn.execute(f'CREATE SCHEMA "{self.name}"')
        finally:
            await conn.close()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn = await asyncpg.connect(self.url, timeout=10)
        try:
            await conn.execute(f'DROP SCHEMA "{self.name}" CASCADE')
        finally:
            await conn.close()
