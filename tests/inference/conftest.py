"""Shared fixtures of the inference tests: tiny random-weight models saved to temp folders.

``require_ai_stack`` skips a test module when the AI stack is not installed here, with a
message saying what to install; when the ``CI`` variable is set it fails instead, so that a
CI machine that lost the stack cannot pass by skipping. ``NEXUS_SKIP_AI_TESTS=1`` is the one
explicit opt-out (it skips even on CI, and says so), for runs that deliberately leave the
multi-GB stack out.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from tests.support.tiny_models import TinySam2

INSTALL_HINT = "install the AI stack: `make test` does, or see docs/inference.md"


def require_ai_stack(*modules: str) -> None:
    """Import ``modules`` or skip the calling test module (fail it when ``CI`` is set)."""
    missing: list[str] = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            missing.append(f"{name} ({exc})")
    if not missing:
        return
    message = f"AI stack not installed: missing {', '.join(missing)}; {INSTALL_HINT}"
    if os.environ.get("NEXUS_SKIP_AI_TESTS") == "1":
        pytest.skip(f"{message} [NEXUS_SKIP_AI_TESTS=1]", allow_module_level=True)
    if os.environ.get("CI"):
        pytest.fail(f"{message} [CI is set, so this fails instead of skipping]", pytrace=False)
    pytest.skip(message, allow_module_level=True)


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.tiny_models import build_tiny_inpaint

    return build_tiny_inpaint(tmp_path_factory.mktemp("tiny-sd") / "model")


@pytest.fixture(scope="session")
def tiny_sdxl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.tiny_models import build_tiny_inpaint

    return build_tiny_inpaint(tmp_path_factory.mktemp("tiny-sdxl") / "model", xl=True)


@pytest.fixture(scope="session")
def tiny_sam2(tmp_path_factory: pytest.TempPathFactory) -> TinySam2:
    from tests.support.tiny_models import build_tiny_sam2

    return build_tiny_sam2(tmp_path_factory.mktemp("tiny-sam2"))


@pytest.fixture(scope="session")
def tiny_rembg(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(rembg home, path of the tiny ONNX model under it)."""
    from tests.support.tiny_models import build_tiny_rembg

    home = tmp_path_factory.mktemp("rembg-home")
    return home, build_tiny_rembg(home)


@pytest.fixture
def rembg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline writes REMBG_HOME/U2NET_HOME (rembg reads nothing else): restore them."""
    for name in ("REMBG_HOME", "U2NET_HOME"):
        monkeypatch.setenv(name, "unset-by-test")
        monkeypatch.delenv(name)
