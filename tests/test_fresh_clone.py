"""The README's two quick-start commands, run verbatim on a clean clone, start the server and
pass the tests. (The inner test run skips this test, or it would recurse forever.)"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from client import CanvasClient
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
INNER = "NEXUS_FRESH_CLONE_INNER"

pytestmark = [
    pytest.mark.fresh_clone,
    pytest.mark.timeout(3300),
    pytest.mark.skipif(bool(os.environ.get(INNER)), reason="already inside a fresh-clone run"),
]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README quick start has no ```sh block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [c for c in commands if c]


def test_readme_has_exactly_two_setup_commands() -> None:
    assert quick_start_commands() == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call the README's test command"


def _clone(tmp_path: Path) -> Path:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    if status.stdout.strip() and not os.environ.get("CI"):
        pytest.skip("uncommitted changes: a clone would not test the working tree")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return clone


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTEST"))}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p
    )
    env[INNER] = "1"
    env.update(extra)
    return env


def test_fresh_clone_runs_and_passes(tmp_path: Path) -> None:
    run_cmd, test_cmd = quick_start_commands()
    clone = _clone(tmp_path)
    port = free_port()
    log = (tmp_path / "run.log").open("wb")
    server = subprocess.Popen(
        run_cmd, shell=True, cwd=clone, stdout=log, stderr=subprocess.STDOUT,
        env=_clean_env(NEXUS_PORT=str(port)), start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while True:
            assert server.poll() is None, (tmp_path / "run.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "server did not come up"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200
                    health = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.5)

        # Background removal runs its real model out of the box; the server needs no torch.
        remove_bg = health["ai"]["pipelines"]["remove_bg"]
        assert (remove_bg["mode"], remove_bg["model"]) == ("real", "u2netp"), health["ai"]
        no_torch = subprocess.run(
            [str(clone / ".venv/bin/python"), "-c", "import torch"], capture_output=True
        )
        assert no_torch.returncode != 0, "make run installed torch"

        # `make run` built the browser app and the server serves it at / with its assets.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            page = r.read().decode()
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
        assert 'id="root"' in page, page[:500]
        scripts = re.findall(r'src="(/assets/[^"]+\.js)"', page)
        assert scripts, page[:500]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{scripts[0]}", timeout=5) as r:
            assert r.status == 200 and "immutable" in r.headers["Cache-Control"]

        async def edit() -> None:
            async with CanvasClient(f"ws://127.0.0.1:{port}", "fresh", user="x") as c:
                await c.wait_synced()
                c.canvas.add_layer("hello")

        asyncio.run(edit())
        assert (clone / "data").is_dir(), "embedded store should live in ./data"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()

    result = subprocess.run(
        test_cmd, shell=True, cwd=clone, env=_clean_env(), capture_output=True, text=True,
        timeout=2700,
    )  # fmt: skip
    # pytest's report is on stdout; pip's noise on stderr must not push it out of view.
    report = result.stdout[-8000:]
    assert result.returncode == 0, report + "\n--- stderr ---\n" + result.stderr[-2000:]
    assert re.search(r"\d+ passed", report), report
