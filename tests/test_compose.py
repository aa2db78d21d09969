"""docker-compose.yml is valid and runs the real topology (checked without a Docker engine by
Debian's docker-compose, which the test set-up installs)."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> str:
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose is not installed (make test installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


def test_compose_file_validates() -> None:
    result = subprocess.run(
        [_compose(), "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert {"api-1", "api-2", "worker", "postgres", "redis"} <= set(services)
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
    for api in ("api-1", "api-2"):
        env = services[api]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["REDIS_URL"].startswith("redis://")


def _published(ports: list[object]) -> dict[int, int]:
    """``{published: target}`` from either form docker-compose normalizes ports to."""
    found: dict[int, int] = {}
    for port in ports:
        if isinstance(port, dict):
            found[int(port["published"])] = int(port["target"])
        else:
            host, _, target = str(port).rpartition(":")
            found[int(host.rpartition(":")[2])] = int(target.split("/")[0])
    return found


def test_compose_puts_nginx_in_front_of_the_instances() -> None:
    result = subprocess.run(
        [_compose(), "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    nginx = services["nginx"]
    assert nginx["image"].startswith("nginx:1.")
    assert _published(nginx["ports"]) == {8000: 8000}
    # The shipped config, read-only, as the whole nginx.conf: the file the suite runs.
    mounts = [
        v if isinstance(v, str) else f"{v['source']}:{v['target']}:ro" for v in nginx["volumes"]
    ]
    conf = ROOT / "deploy" / "nginx" / "nexus.conf"
    assert f"{conf}:/etc/nginx/nginx.conf:ro" in mounts
    text = conf.read_text()
    assert re.search(r"^\s*listen 8000;", text, re.M), "nginx must listen on the published port"
    assert set(nginx["depends_on"]) == {"api-1", "api-2"}
    # Every instance is an upstream, reached on the port it serves on.
    upstreams = set(re.findall(r"^\s*server (\S+?)(?: |;)", text, re.M))
    assert upstreams == {"api-1:8000", "api-2:8000"}
    for api in ("api-1", "api-2"):
        assert services[api]["command"][-2:] == ["--port", "8000"]
        # Published on the host's loopback only: clients go through nginx.
        assert all(str(p).startswith("127.0.0.1:") for p in services[api].get("ports", []))
    # The instances trust exactly nginx's fixed address, on a network they share with it.
    (network, attached), *rest = nginx["networks"].items()
    assert not rest
    proxy = attached["ipv4_address"]
    for api in ("api-1", "api-2"):
        assert services[api]["environment"]["NEXUS_TRUSTED_PROXIES"] == proxy
        assert network in services[api]["networks"]
    subnet = yaml.safe_load(result.stdout)["networks"][network]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy) in ipaddress.ip_network(subnet)


def test_compose_refuses_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(
        (ROOT / "docker-compose.yml").read_text().replace("healthcheck:", "healthchek:", 1)
    )
    result = subprocess.run(
        [_compose(), "-f", str(bad), "config"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
