"""docker-compose.yml is valid and runs the real topology (checked without a Docker engine by
Debian's docker-compose, which the test set-up installs)."""

from __future__ import annotations

import os
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


def test_compose_refuses_an_invalid_file(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(
        (ROOT / "docker-compose.yml").read_text().replace("healthcheck:", "healthchek:", 1)
    )
    result = subprocess.run(
        [_compose(), "-f", str(bad), "config"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
