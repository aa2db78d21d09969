"""The helper that skips AI tests locally but fails them on CI when the stack is missing."""

from __future__ import annotations

import pytest

from tests.inference.conftest import require_ai_stack


def test_missing_stack_skips_with_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NEXUS_SKIP_AI_TESTS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="missing no_such_ai_lib"):
        require_ai_stack("json", "no_such_ai_lib")


def test_missing_stack_fails_when_ci_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("NEXUS_SKIP_AI_TESTS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="CI is set, so this fails"):
        require_ai_stack("no_such_ai_lib")


def test_present_modules_pass() -> None:
    require_ai_stack("json", "numpy")


def test_an_explicit_opt_out_skips_even_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("NEXUS_SKIP_AI_TESTS", "1")
    with pytest.raises(pytest.skip.Exception, match="NEXUS_SKIP_AI_TESTS=1"):
        require_ai_stack("no_such_ai_lib")
