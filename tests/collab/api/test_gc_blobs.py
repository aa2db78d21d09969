"""``nexus-canvas gc-blobs`` against the embedded store of a server that ran."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import httpx
import pytest

from collab.cli import main
from tests.collab.api.conftest import png
from tests.support.servers import serve, settings_for


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("NEXUS_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


async def test_gc_blobs_deletes_only_unreferenced_blobs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path)
    used, orphan = png(seed=51), png(seed=52)
    async with serve(settings) as srv, httpx.AsyncClient(base_url=srv.http_url) as http:
        await http.post("/api/docs", json={"id": "kept"})
        r = await http.post("/api/docs/kept/layers", files={"image": ("a.png", used)})
        assert r.status_code == 201
        assert (await http.put("/api/blobs", content=orphan)).status_code == 201
    data_dir = str(settings.data_dir)

    def gc(*args: str) -> int:  # the command runs its own event loop
        return main(["gc-blobs", "--data-dir", data_dir, *args])

    # Both were put just now: the default grace period keeps them.
    assert await asyncio.to_thread(gc) == 0
    assert "2 blobs: 1 referenced, 1 put within the last 3600 s (kept), 0 deleted" in (
        capsys.readouterr().out
    )
    assert await asyncio.to_thread(gc, "--min-age", "0", "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"would delete {hashlib.sha256(orphan).hexdigest()}" in out
    assert await asyncio.to_thread(gc, "--min-age", "0") == 0
    out = capsys.readouterr().out
    assert f"deleted {hashlib.sha256(orphan).hexdigest()}" in out and "1 deleted" in out

    async with serve(settings) as srv, httpx.AsyncClient(base_url=srv.http_url) as http:
        assert (await http.get(f"/api/blobs/{hashlib.sha256(used).hexdigest()}")).status_code == 200
        assert (
            await http.get(f"/api/blobs/{hashlib.sha256(orphan).hexdigest()}")
        ).status_code == 404


def test_gc_blobs_argument_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gc-blobs", "--data-dir", str(tmp_path / "none")]) == 2
    assert "no store at" in capsys.readouterr().err
    assert main(["gc-blobs", "--data-dir", str(tmp_path), "--min-age", "-5"]) == 2
    assert "--min-age must be >= 0" in capsys.readouterr().err
