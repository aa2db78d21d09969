"""A private nginx (Debian's package) running the shipped ``deploy/nginx/nexus.conf``.

The test runs the file docker-compose.yml mounts, with only the compose addresses rendered into
a copy: the two upstream servers, the listening address and the temp directories (all under the
test's own folder, as are the pid file and the logs; the system's nginx is never touched). A
line this module expects and does not find is an error naming it, so the shipped file cannot
drift from what is tested.

Under CI (``CI`` set) a missing nginx is a loud failure; elsewhere the test is skipped with the
reason (``make tools`` installs it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CONF = ROOT / "deploy" / "nginx" / "nexus.conf"
COMPOSE_UPSTREAMS = ("api-1:8000", "api-2:8000")
_TEMP_PREFIX = "/var/cache/nginx/"


def require_nginx() -> str:
    """The nginx binary; skips the test without one (fails under CI)."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is not None:
        return binary
    message = "nginx is not installed (`make tools` installs Debian's nginx-light as root)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: required under CI (`make test` installs it)", pytrace=False)
    pytest.skip(message)


def render(conf: str, upstreams: Sequence[str], listen: str, temp_dir: Path) -> str:
    """``conf`` with the compose addresses replaced; raises ``ValueError`` naming a line it
    expected and did not find (the shipped file changed under the test)."""
    if len(upstreams) != len(COMPOSE_UPSTREAMS):
        raise ValueError(
            f"expected {len(COMPOSE_UPSTREAMS)} upstreams (as in compose), got {len(upstreams)}"
        )
    replacements = [
        (f"server {compose} ", f"server {actual} ")
        for compose, actual in zip(COMPOSE_UPSTREAMS, upstreams, strict=True)
    ]
    replacements += [("listen 8000;", f"listen {listen};"), (_TEMP_PREFIX, f"{temp_dir}/")]
    for old, new in replacements:
        if old not in conf:
            raise ValueError(f"{old!r} not found in {SHIPPED_CONF}: update tests/support/nginx.py")
        conf = conf.replace(old, new)
    return conf


@dataclass
class Nginx:
    """A running private nginx; ``log_path`` holds its error log and access log."""

    host: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 0.5):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # fast shutdown: open WebSockets are cut, not waited for
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_nginx(
    workdir: Path, upstreams: Sequence[str], *, host: str = "127.0.0.1", port: int
) -> Iterator[Nginx]:
    """nginx in the foreground with ``workdir`` as its prefix, proxying to ``upstreams``
    (``host:port`` each); waits until it listens on ``host:port``, stops it on exit."""
    binary = require_nginx()
    (workdir / "temp").mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(render(SHIPPED_CONF.read_text(), upstreams, f"{host}:{port}", workdir / "temp"))
    log_path = workdir / "nginx.log"
    directives = f"daemon off; pid {workdir / 'nginx.pid'};"
    if os.geteuid() == 0:
        # Workers would drop to "nobody", who cannot enter the test's private temp folder.
        directives += " user root;"
    cmd = [binary, "-p", str(workdir), "-c", str(conf), "-e", str(log_path), "-g", directives]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not _listening(host, port):
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {proc.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nginx did not listen on {host}:{port}:\n{log_path.read_text()}"
                )
            time.sleep(0.02)
        yield Nginx(host, port, proc, log_path)
    finally:
        _stop(proc)
