"""The ``nexus-canvas`` command line: argument errors, settings errors, --version, serve, help
texts, service tokens, a port in use."""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn

import collab.cli
from collab import __version__
from collab.auth.tokens import TokenIssuer, TokenType
from collab.cli import main
from collab.settings import _ENV, Settings


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


def _subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = collab.cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_help_texts_are_plain(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], *([name] for name in _subcommand_parsers())):
        with pytest.raises(SystemExit) as excinfo:
            main([*argv, "--help"])
        assert excinfo.value.code == 0
        text = capsys.readouterr().out
        assert text.startswith("usage: nexus-canvas"), argv
        for leftover in ("`", "%(", ":class:", ":func:", "**", "later", "more arrive"):
            assert leftover not in text, (argv, leftover, text)


def test_every_flag_shows_its_default_and_variable() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    checked = 0
    for name, sub in _subcommand_parsers().items():
        for action in sub._actions:
            if not action.option_strings or action.dest == "help":
                continue
            text = action.help or ""
            assert "(default: " in text or "default: " in text, (name, action.dest, text)
            if action.dest in _ENV:
                checked += 1
                assert f"env {_ENV[action.dest][0]};" in text, (name, action.dest, text)
                default = defaults[action.dest]
                if isinstance(default, (str, int, float, Path)):
                    shown = f"{default:g}" if isinstance(default, float) else str(default)
                    assert f"default: {shown})" in text, (name, action.dest, text)
    assert checked >= 12  # serve's eight, gc-blobs' two, worker's three, migrate's one


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["service-token", "bad name!"], "must be 1-56 letters, digits or _.@:-, got 'bad name!'"),
        (["service-token", "x" * 57], "got 'xxxx"),
        (["service-token", ""], "got ''"),
        (["service-token", "bot", "--ttl", "0"], "--ttl must be a positive number of seconds"),
        (["service-token", "bot", "--ttl", "-5"], "got -5"),
        (["service-token", "bot", "--ttl", "nan"], "got nan"),
    ],
)  # fmt: skip
def test_service_token_refuses_bad_input(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    named: str,
) -> None:
    monkeypatch.setenv("NEXUS_AUTH_SECRET", "k" * 32)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert named in captured.err


def test_service_token_prints_a_token_that_verifies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEXUS_AUTH_SECRET", "k" * 32)
    assert main(["service-token", "ai-worker-1", "--ttl", "60"]) == 0
    token = capsys.readouterr().out.strip()
    claims = TokenIssuer("k" * 32).verify(token, types=(TokenType.SERVICE,))
    assert (claims.subject, claims.name) == ("service:ai-worker-1", "ai-worker-1")


def test_a_port_in_use_is_refused_before_anything_starts(
    calls: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in err
    assert "run" not in calls and "app" not in calls
    assert not (tmp_path / "nexus-canvas.db").exists()  # no store was opened


def test_a_port_in_use_is_reported_before_server_started(tmp_path: Path) -> None:
    """The real command (uvicorn included): before this check uvicorn logged "server started"
    from the app's start-up and only then failed to bind."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
    env.update(NEXUS_LOG_FORMAT="text", NEXUS_JOBS_EMBEDDED_WORKER="0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = ["serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
        done = subprocess.run(
            [sys.executable, "-m", "collab.cli", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(__file__).parents[2],
        )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"127.0.0.1:{port}" in done.stderr and "already in use" in done.stderr
    assert "server started" not in output
