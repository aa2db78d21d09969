"""The chaos soak's short mode (bench/chaos): three server instances on the real Postgres and a
private, real redis-server, 60 painting clients over 12 documents and AI fallback jobs over
REST, while every kind of fault is injected once (SIGKILL + restart of an instance, a Redis
restart, Postgres cut for 20 s, SIGSTOP/SIGCONT of an instance, an instance's client
connections dropped). Nothing acknowledged may be lost, every replica must end identical,
every job must end once with one layer and no instance may keep a room or a connection."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.chaos.config import ChaosConfig, FaultKind
from bench.chaos.run import run
from tests.support.services import require_postgres

pytestmark = pytest.mark.subprocess


def _redis_server() -> str:
    """The redis-server binary the run starts (and restarts) privately."""
    found = shutil.which("redis-server")
    if found is not None:
        return found
    message = "redis-server is not installed (the chaos run starts a private one)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: required under CI", pytrace=False)
    pytest.skip(message)


@pytest.mark.timeout(900)
async def test_short_chaos_run_loses_nothing_and_converges(tmp_path: Path) -> None:
    config = ChaosConfig.short(
        database_url=require_postgres(),
        redis_server=_redis_server(),
        work_dir=tmp_path / "chaos",
    )
    report = await run(config)
    table = report.table()
    print(table)  # shown with -s or on failure: the figures of this run
    assert {event.kind for event in report.faults} == set(FaultKind), table
    assert not [e for e in report.faults if e.error], table
    assert report.edits_sent >= config.clients * 10, table
    assert report.edits_confirmed == report.edits_sent, table
    assert report.lost == [] and report.missing == [], table
    assert report.jobs_accepted >= 3, table
    assert report.jobs_by_state == {"done": report.jobs_accepted}, table
    assert report.violations == [], table
