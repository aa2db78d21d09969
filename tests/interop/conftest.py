from __future__ import annotations

import os

import pytest

from tests.interop.yjs_peer import node_modules_missing_reason, node_modules_ready


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Under CI the interop suite must run: a missing Node install then fails loudly in the
    # tests themselves (with the install hint) instead of skipping.
    if node_modules_ready() or os.environ.get("CI"):
        return
    reason = node_modules_missing_reason()
    for item in items:
        if "tests/interop" in str(item.path):
            item.add_marker(pytest.mark.skip(reason=reason))
