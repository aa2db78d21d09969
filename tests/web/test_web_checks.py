"""The browser app's own checks: TypeScript (strict, ``tsc --noEmit``), Biome's linter, and
the vitest unit tests (document readers and blend formulas against the shared vectors in
tests/vectors/, which the Python tests read too)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "client" / "web"


def _npm(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("npm") is None or not (WEB / "node_modules").is_dir():
        message = f"npm or {WEB / 'node_modules'} missing (make web installs it)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return subprocess.run(
        ["npm", "--prefix", str(WEB), "run", "--silent", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
    )


@pytest.mark.parametrize("script", ["typecheck", "lint", "test"])
def test_web_check_passes(script: str) -> None:
    result = _npm(script)
    assert result.returncode == 0, f"npm run {script} failed:\n{result.stdout}\n{result.stderr}"
