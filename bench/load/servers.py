"""The servers under test, each started fresh per run and pinned to one core.

``ours``: ``nexus-canvas serve`` with its embedded durable SQLite store in a fresh temporary
data directory (as users run it). ``reference``: ``@y/websocket-server`` 0.1.1 from npm, in
memory, installed into bench/reference by ``npm ci`` on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.load.measure import run_delay

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = ROOT / "bench" / "reference"
REFERENCE_JS = REFERENCE_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
VENV_BIN = Path(sys.executable).parent
SERVER_CORE = 0
LOAD_CORE = 1
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pinning_available() -> bool:
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def pin_self() -> bool:
    """Pin the load generator (this process) to its core; servers get the other one."""
    if not pinning_available():
        return False
    os.sched_setaffinity(0, {LOAD_CORE})
    return True


def ensure_reference() -> None:
    """``npm ci`` the reference server into bench/reference once."""
    if REFERENCE_JS.exists():
        return
    if shutil.which("npm") is None:
        raise SystemExit("the reference server needs Node.js 18+ and npm on PATH")
    print("installing the reference server: npm ci --prefix bench/reference", file=sys.stderr)
    subprocess.run(
        [
            "npm",
            "ci",
            "--prefix",
            str(REFERENCE_DIR),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ],
        check=True,
    )


@dataclass
class ProcSample:
    """Cumulative CPU seconds (all threads) and resident memory of one process, at ``wall``."""

    wall: float
    cpu: float
    rss: int
    delay: float  # seconds the main thread waited, runnable, for a CPU


def sample(pid: int) -> ProcSample:
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime + stime
    with open(f"/proc/{pid}/statm", "rb") as f:
        rss = int(f.read().split()[1]) * _PAGE
    return ProcSample(time.perf_counter(), cpu, rss, run_delay(pid))


@dataclass
class Server:
    """A running server process; ``path(room)`` is a room's WebSocket path on it."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    prefix: str
    data_dir: Path | None = None
    log_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)

    host = "127.0.0.1"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def path(self, room: str) -> str:
        return f"{self.prefix}{room}"

    def sample(self) -> ProcSample:
        return sample(self.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def _taskset() -> list[str]:
    return ["taskset", "-c", str(SERVER_CORE)] if pinning_available() else []


PRIORITY = 0  # nice value of the servers' autogroups (set by the CLI, see set_priority)


def set_priority(nice: int) -> bool:
    """Give this process (and the servers it starts) priority ``nice``. With autogroup
    scheduling (``/proc/sys/kernel/sched_autogroup_enabled``) CPU is shared between sessions
    first, so the session's autogroup gets the same nice value. Needs root for nice < 0."""
    global PRIORITY
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except PermissionError:
        return False
    PRIORITY = nice
    _autogroup_nice("self", nice)
    return True


def _autogroup_nice(pid: int | str, nice: int) -> None:
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the harness dies, so no server outlives a killed run."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG; kept across exec (taskset -> server)


def _spawn(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*_taskset(), *argv],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    if PRIORITY:
        _autogroup_nice(proc.pid, PRIORITY)  # its own session: its own autogroup
    return proc


async def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            await asyncio.to_thread(_get, url)
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {timeout} s")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.read()  # type: ignore[no-any-return]


# Every simulated user connects from 127.0.0.1; in production each has its own address. The
# per-address limits would refuse all but the first 256 of them, so they are lifted here.
# Per-connection limits stay as configured (S4's loader lifts them for itself).
PER_ADDRESS_LIMITS_OFF = {
    "NEXUS_MAX_CONNECTIONS_PER_IP": "1000000",
    "NEXUS_CONNECTION_ATTEMPTS_PER_SECOND": "1000000",
}


async def start_ours(
    *, data_dir: Path | None = None, env: dict[str, str] | None = None, tag: str = "ours"
) -> Server:
    """``nexus-canvas serve`` on the embedded SQLite store (durable), pinned to the server core."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="nexus-bench-"))
    port = free_port()
    log_path = data_dir / "server.log"
    argv = [
        str(VENV_BIN / "nexus-canvas"),
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-level",
        "WARNING",
    ]
    env = {**PER_ADDRESS_LIMITS_OFF, **(env or {})}
    proc = _spawn(argv, env, log_path)
    server = Server(tag, port, proc, "/ws/", data_dir, log_path, env)
    try:
        await _wait_http(f"http://127.0.0.1:{port}/health", proc)
    except BaseException:
        await stop(server, keep_data=True)
        raise
    return server


async def restart_ours(server: Server) -> Server:
    """Stop (flush + snapshot on SIGTERM) and start again on the same data directory."""
    await stop(server, keep_data=True)
    return await start_ours(data_dir=server.data_dir, env=server.env, tag=server.name)


async def start_reference() -> Server:
    """``@y/websocket-server`` (in memory: no ``YPERSISTENCE``), pinned to the server core."""
    ensure_reference()
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="yws-bench-"))
    log_path = log_dir / "server.log"
    env = {"HOST": "127.0.0.1", "PORT": str(port)}
    proc = _spawn([shutil.which("node") or "node", str(REFERENCE_JS)], env, log_path)
    server = Server("reference", port, proc, "/", log_dir, log_path, env)
    try:
        await _wait_http(f"http://127.0.0.1:{port}/", proc)
    except BaseException:
        await stop(server)
        raise
    return server


async def start(name: str, env: dict[str, str] | None = None) -> Server:
    """``env``: extra environment for ours (the reference takes none)."""
    if name == "ours":
        return await start_ours(env=env)
    if name == "reference":
        return await start_reference()
    raise ValueError(f"unknown server {name!r}; expected ours or reference")


async def stop(server: Server, *, keep_data: bool = False) -> None:
    proc = server.proc
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        for _ in range(150):
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
    if server.data_dir is not None and not keep_data:
        shutil.rmtree(server.data_dir, ignore_errors=True)
