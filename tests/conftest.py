from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from collab.settings import Settings
from tests.support.servers import RunningServer, serve, settings_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)


@pytest.fixture
async def running(settings: Settings) -> AsyncIterator[RunningServer]:
    async with serve(settings) as srv:
        yield srv
