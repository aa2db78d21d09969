"""The ``nexus-canvas`` command line: argument errors, settings errors, --version, serve."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn

import collab.cli
from collab import __version__
from collab.cli import main
from collab.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("NEXUS_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stand-ins for uvicorn.run and configure_logging: no server, no global log changes."""
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        seen["app"] = app
        seen["run"] = kwargs

    def fake_configure(level: str, fmt: str) -> None:
        seen["logging"] = (level, fmt)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(collab.cli, "configure_logging", fake_configure)
    return seen


def _settings(seen: dict[str, Any]) -> Settings:
    settings: Settings = seen["app"].state.server.settings
    return settings


def test_non_integer_port_is_an_argparse_error(
    calls: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["serve", "--port", "abc"])
    assert excinfo.value.code == 2
    assert "invalid int value: 'abc'" in capsys.readouterr().err
    assert "run" not in calls


def test_unknown_log_format_is_an_argparse_error(
    calls: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["serve", "--log-format", "xml"])
    assert excinfo.value.code == 2
    assert "'xml'" in capsys.readouterr().err


def test_a_subcommand_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main([])
    assert excinfo.value.code == 2
    assert "command" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--version"])
    assert excinfo.value.code == 0
    assert capsys.readouterr().out.strip() == f"nexus-canvas {__version__}"


def test_bad_env_value_returns_2_and_names_it(
    monkeypatch: pytest.MonkeyPatch, calls: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEXUS_FLUSH_WINDOW", "0")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nexus-canvas: NEXUS_FLUSH_WINDOW: ")
    assert "flush_window must be 0 < s <= 10, got 0.0" in err
    assert "run" not in calls


def test_unparsable_env_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, calls: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEXUS_PORT", "eighty")
    assert main(["serve"]) == 2
    assert "NEXUS_PORT must be an integer, got 'eighty'" in capsys.readouterr().err
    assert "run" not in calls


def test_out_of_range_flag_returns_2(
    calls: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nexus-canvas: --port: ")
    assert "got 70000" in err
    assert "run" not in calls


def test_serve_runs_uvicorn_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, calls: dict[str, Any], tmp_path: Path
) -> None:
    monkeypatch.setenv("NEXUS_ALLOW_OPEN", "1")  # 0.0.0.0 without a secret must be forced
    argv = ["serve", "--host", "0.0.0.0", "--port", "9123", "--data-dir", str(tmp_path)]
    argv += ["--log-level", "debug", "--log-format", "text", "--flush-window", "0.5"]
    assert main(argv) == 0
    assert calls["logging"] == ("DEBUG", "text")
    run = calls["run"]
    assert (run["host"], run["port"]) == ("0.0.0.0", 9123)
    assert run["ws_max_size"] == Settings().max_frame_bytes
    settings = _settings(calls)
    assert settings.data_dir == tmp_path
    assert settings.flush_window == 0.5


def test_flags_win_over_env_and_env_fills_the_rest(
    monkeypatch: pytest.MonkeyPatch, calls: dict[str, Any], tmp_path: Path
) -> None:
    monkeypatch.setenv("NEXUS_PORT", "9200")
    monkeypatch.setenv("NEXUS_HOST", "0.0.0.0")
    monkeypatch.setenv("NEXUS_AUTH_SECRET", "k" * 32)
    monkeypatch.setenv("NEXUS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NEXUS_SEND_QUEUE_MESSAGES", "77")
    assert main(["serve", "--port", "9300"]) == 0
    assert (calls["run"]["host"], calls["run"]["port"]) == ("0.0.0.0", 9300)
    assert _settings(calls).send_queue_messages == 77
    assert calls["logging"] == ("INFO", "json")


def test_open_mode_on_a_public_bind_is_refused(
    calls: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "refusing open mode" in err and "NEXUS_AUTH_SECRET" in err
    assert "run" not in calls


def test_a_short_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEXUS_AUTH_SECRET", "short")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "at least 32 bytes, got 5" in err and "short" not in err.replace("short secret", "")
