"""How the jobs host reads its settings: each kind's time limit, and where jobs wait."""

from __future__ import annotations

from pathlib import Path

import pytest

from collab.ai.host import job_timeouts, queue_url
from collab.exceptions import SettingsError
from collab.settings import Settings
from inference.jobs.model import JobKind
from inference.jobs.worker import TimeLimit
from persistence.memory import MemoryStore
from persistence.sqlite import SQLiteStore


def test_each_kind_has_its_own_limit_or_the_default() -> None:
    settings = Settings.from_env(
        {"NEXUS_JOBS_TIMEOUT_SECONDS": "90", "NEXUS_JOBS_TIMEOUT_GENERATIVE_FILL": "300"}
    )
    assert job_timeouts(settings) == {
        JobKind.GENERATIVE_FILL: TimeLimit(300, "NEXUS_JOBS_TIMEOUT_GENERATIVE_FILL"),
        JobKind.SEGMENT: TimeLimit(90, "NEXUS_JOBS_TIMEOUT_SECONDS"),
        JobKind.REMOVE_BACKGROUND: TimeLimit(90, "NEXUS_JOBS_TIMEOUT_SECONDS"),
    }
    assert job_timeouts(Settings())[JobKind.SEGMENT].seconds == 600


@pytest.mark.parametrize("raw", ["0", "-5", "nan", "100000"])
def test_a_bad_limit_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match=rf"^NEXUS_JOBS_TIMEOUT_SEGMENT: .*got {raw}"):
        Settings.from_env({"NEXUS_JOBS_TIMEOUT_SEGMENT": raw})


def test_jobs_wait_in_the_data_dir_unless_redis_or_a_memory_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    sqlite = SQLiteStore(tmp_path / "data" / "nexus-canvas.db")
    assert queue_url(settings, sqlite) == f"sqlite:///{tmp_path / 'data' / 'jobs.db'}"
    assert queue_url(settings, MemoryStore()) is None
    redis = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0")
    assert queue_url(redis, sqlite) == "redis://127.0.0.1:6379/0"
