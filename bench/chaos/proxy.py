"""TCP proxies between the parts, in a child process: the Postgres path of every instance and
each instance's client path, cut and restored by name."""

from __future__ import annotations

import asyncio
import json
import sys

from bench.chaos.services import ServiceError


class ProxyProcess:
    """Starts ``bench.chaos._proxy_child`` with ``routes`` (name -> (host, port)); ``ports``
    maps each name to its listening port once started."""

    def __init__(self, routes: dict[str, tuple[str, int]]) -> None:
        self.routes = routes
        self.ports: dict[str, int] = {}
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.chaos._proxy_child", json.dumps(self.routes),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        line = await self._line(timeout=20)
        self.ports = {name: int(port) for name, port in json.loads(line).items()}

    async def _line(self, timeout: float = 10) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        async with asyncio.timeout(timeout):
            raw = await self._proc.stdout.readline()
        if not raw:
            raise ServiceError(f"the proxy process exited ({self._proc.returncode})")
        return raw.decode().strip()

    async def _command(self, command: str, name: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        async with self._lock:
            self._proc.stdin.write(f"{command} {name}\n".encode())
            await self._proc.stdin.drain()
            answer = await self._line()
        if answer != "ok":
            raise ServiceError(f"proxy {command} {name}: {answer}")

    async def cut(self, name: str) -> None:
        """Drop every connection through ``name`` and refuse new ones until ``restore``."""
        await self._command("cut", name)

    async def restore(self, name: str) -> None:
        await self._command("restore", name)

    async def close(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
