"""The processes of a run: server instances (``nexus-canvas serve``) and AI job workers
(``nexus-canvas worker``), each with its own log file, and what the injector does to them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)


class ProcessError(RuntimeError):
    """A process of the run did not start or stop as expected (the message names it)."""


def rss_bytes(pid: int) -> int | None:
    """Resident set size of ``pid`` from /proc (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far, from /proc (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Child:
    """One child process with its log; SIGKILL, SIGSTOP and SIGCONT on demand."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.starts = 0
        self.paused = False
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def spawn(self) -> None:
        if self.running:
            raise ProcessError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv, env={**os.environ, **self.env}, stdout=out, stderr=out
            )
        self.starts += 1
        self.paused = False

    def exited_early(self) -> str | None:
        if self._proc is not None and self._proc.returncode is not None:
            return f"{self.name} exited with {self._proc.returncode}; log: {self.log_path}"
        return None

    async def kill(self) -> None:
        """SIGKILL: no flush, no shutdown hooks."""
        if self._proc is not None and self.running:
            self._proc.send_signal(signal.SIGKILL)
            await self._proc.wait()
        self.paused = False

    def pause(self) -> None:
        if self._proc is not None and self.running:
            self._proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        if self._proc is not None and self.running:
            self._proc.send_signal(signal.SIGCONT)
        self.paused = False

    async def stop(self, timeout: float = 15.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout``; False when it had to be killed."""
        if self._proc is None or not self.running:
            return True
        self.resume()
        self._proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(timeout):
                await self._proc.wait()
        except TimeoutError:
            log.warning("did not stop on SIGTERM: killing", extra={"child": self.name})
            await self.kill()
            return False
        return True

    def logged(self, message: str) -> bool:
        """Whether a JSON log line of this process has ``message`` as its ``msg``."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return False
        return f'"msg": "{message}"' in text

    def error_lines(self) -> list[str]:
        """Error-level JSON log lines and tracebacks in this process's log."""
        found: list[str] = []
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return found
        for line in text.splitlines():
            if line.startswith("Traceback"):
                found.append(line)
                continue
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("level") in ("error", "critical"):
                found.append(line[:500])
        return found


@dataclass
class Instance:
    """A server instance: ``nexus-canvas serve`` on a fixed port (kept across restarts)."""

    name: str
    port: int
    process: Child
    rss_start: int | None = None
    rss_peak: int = 0
    health_log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 120.0) -> None:
        await self.process.spawn()
        await self.wait_healthy(timeout)

    async def wait_healthy(self, timeout: float = 60.0) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.http_url, timeout=2) as http:
            try:
                async with asyncio.timeout(timeout):
                    while True:
                        if (problem := self.process.exited_early()) is not None:
                            raise ProcessError(problem)
                        try:
                            response = await http.get("/health")
                            if response.status_code == 200:
                                health: dict[str, Any] = response.json()
                                return health
                        except httpx.HTTPError:
                            pass
                        await asyncio.sleep(0.1)
            except TimeoutError:
                raise ProcessError(
                    f"{self.name} not healthy within {timeout} s; log: {self.process.log_path}"
                ) from None

    async def health(self, timeout: float = 5.0) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.http_url, timeout=timeout) as http:
            response = await http.get("/health")
            response.raise_for_status()
            health: dict[str, Any] = response.json()
            return health

    def cpu_seconds(self) -> float | None:
        """CPU time of the current process (a restart starts it again from zero)."""
        pid = self.process.pid
        return cpu_seconds(pid) if pid is not None else None

    def sample_rss(self) -> int | None:
        pid = self.process.pid
        value = rss_bytes(pid) if pid is not None else None
        if value is not None:
            self.rss_peak = max(self.rss_peak, value)
        return value


class Cluster:
    """The instances and workers of a run, sharing ``env`` (database, Redis, namespace)."""

    def __init__(self, root: Path, env: dict[str, str], ports: list[int], workers: int) -> None:
        self.root = root
        self.env = env
        self.instances = [self._instance(i, port) for i, port in enumerate(ports)]
        self.workers = [self._worker(i) for i in range(workers)]

    def _instance(self, index: int, port: int) -> Instance:
        name = f"i{index}"
        argv = [
            sys.executable, "-m", "collab.cli", "serve", "--port", str(port),
            "--data-dir", str(self.root / name), "--log-format", "json",
        ]  # fmt: skip
        env = {**self.env, "NEXUS_INSTANCE_ID": name}
        if "DATABASE_URL" in env:  # Postgres's sessions then say which instance they serve
            env["DATABASE_URL"] += ("&" if "?" in env["DATABASE_URL"] else "?") + (
                f"application_name={name}"
            )
        return Instance(name, port, Child(name, argv, env, self.root / f"{name}.log"))

    def _worker(self, index: int) -> Child:
        # Workers report to different instances, as they would through separate addresses.
        target = self.instances[index % len(self.instances)]
        name = f"w{index}"
        argv = [
            sys.executable, "-m", "collab.cli", "worker", "--server-url", target.http_url,
            "--worker-id", name, "--log-format", "json",
        ]  # fmt: skip
        return Child(name, argv, dict(self.env), self.root / f"{name}.log")

    async def start(self) -> None:
        for worker in self.workers:  # first: loading the inference stack takes longest
            await worker.spawn()
        first, *rest = self.instances
        await first.start()  # applies the migrations alone
        await asyncio.gather(*(instance.start() for instance in rest))

    async def wait_workers(self, timeout: float) -> None:
        """Until every worker logged "worker started" (its models loaded, its loop running;
        Redis lists a stream consumer only once it has read an entry, so it cannot say)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for worker in self.workers:
                        if (problem := worker.exited_early()) is not None:
                            raise ProcessError(problem)
                    if all(w.logged("worker started") for w in self.workers):
                        return
                    await asyncio.sleep(0.5)
        except TimeoutError:
            raise ProcessError(f"workers not started within {timeout} s") from None

    async def stop(self) -> list[str]:
        """Stop every process; the names of those SIGTERM did not stop in time."""
        children = [*self.workers, *(instance.process for instance in self.instances)]
        results = await asyncio.gather(*(c.stop() for c in children), return_exceptions=True)
        forced: list[str] = []
        for child, result in zip(children, results, strict=True):
            if isinstance(result, BaseException):
                await child.kill()
                raise ProcessError(f"{child.name} did not stop: {result!r}") from result
            if not result:
                forced.append(child.name)
        return forced
