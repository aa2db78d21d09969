"""``nexus-canvas serve`` in a subprocess, on a free port and a temporary data directory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# One process makes every request from 127.0.0.1 and the set-up sends large updates quickly:
# the per-address and per-connection rate limits would get in the way of building documents.
LIMITS_OFF = {
    "NEXUS_MAX_CONNECTIONS_PER_IP": "1000000",
    "NEXUS_CONNECTION_ATTEMPTS_PER_SECOND": "1000000",
    "NEXUS_MAX_MESSAGES_PER_SECOND": "1000000",
    "NEXUS_MAX_BYTES_PER_SECOND": "1000000000",
    "NEXUS_MAX_FRAME_BYTES": str(64 * 1024 * 1024),
    "NEXUS_MAX_BLOB_BYTES": str(256 * 1024 * 1024),
    "NEXUS_MAX_DOCUMENT_BYTES": str(1024 * 1024 * 1024),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer {url} within {timeout} s")


@contextmanager
def serve(data_dir: Path | None = None) -> Iterator[str]:
    """Start the server; yield its http base URL; stop it (SIGTERM) and delete its data."""
    own_dir = data_dir is None
    data = data_dir or Path(tempfile.mkdtemp(prefix="nexus-bench-web-"))
    port = free_port()
    log = data / "server.log"
    argv = [sys.executable, "-m", "collab.cli", "serve", "--port", str(port)]
    argv += ["--data-dir", str(data), "--log-level", "WARNING"]
    env = {**os.environ, **LIMITS_OFF}
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/health", proc, log)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if own_dir:
            shutil.rmtree(data, ignore_errors=True)
