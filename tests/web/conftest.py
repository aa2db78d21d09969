from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import ServerProcess
from tests.web.browser import chromium, require_browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    with chromium() as launched:
        yield launched


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    """A real server (its own process) serving the built app; yields its http base URL."""
    require_browser()
    proc = ServerProcess(tmp_path / "data", NEXUS_ROOM_IDLE_SECONDS="5")
    proc.start()
    try:
        yield f"http://127.0.0.1:{proc.port}"
    finally:
        proc.stop()
