"""Settings: defaults, parsing of every environment variable, validation, CLI overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from collab.exceptions import SettingsError
from collab.settings import Settings


def test_defaults_are_the_embedded_mode() -> None:
    s = Settings()
    assert (s.host, s.port, s.data_dir, s.database_url) == ("127.0.0.1", 8000, Path("data"), None)
    assert s.flush_window == 0.1
    assert s.max_frame_bytes == 4 * 1024 * 1024
    assert s.send_queue_bytes == 8 * 1024 * 1024
    assert s.send_queue_messages == 4096
    assert s.room_idle_seconds == 60.0
    assert s.snapshot_every_updates == 2000
    assert s.snapshot_interval == 60.0
    assert (s.log_level, s.log_format) == ("INFO", "json")


def test_empty_environment_gives_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "raw", "field", "expected"),
    [
        ("NEXUS_HOST", "0.0.0.0", "host", "0.0.0.0"),
        ("NEXUS_PORT", "9001", "port", 9001),
        ("NEXUS_DATA_DIR", "/var/lib/nexus", "data_dir", Path("/var/lib/nexus")),
        ("DATABASE_URL", "sqlite:///tmp/x.db", "database_url", "sqlite:///tmp/x.db"),
        ("NEXUS_FLUSH_WINDOW", "0.25", "flush_window", 0.25),
        ("NEXUS_MAX_FRAME_BYTES", "2048", "max_frame_bytes", 2048),
        ("NEXUS_SEND_QUEUE_BYTES", "65536", "send_queue_bytes", 65536),
        ("NEXUS_SEND_QUEUE_MESSAGES", "10", "send_queue_messages", 10),
        ("NEXUS_ROOM_IDLE_SECONDS", "0", "room_idle_seconds", 0.0),
        ("NEXUS_SNAPSHOT_EVERY_UPDATES", "50", "snapshot_every_updates", 50),
        ("NEXUS_SNAPSHOT_INTERVAL", "2.5", "snapshot_interval", 2.5),
        ("NEXUS_LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("NEXUS_LOG_LEVEL", "Warning", "log_level", "WARNING"),
        ("NEXUS_LOG_FORMAT", "text", "log_format", "text"),
    ],
)
def test_each_variable_is_parsed(variable: str, raw: str, field: str, expected: Any) -> None:
    settings = Settings.from_env({variable: raw})
    assert getattr(settings, field) == expected
    assert type(getattr(settings, field)) is type(expected)
    others = {f.name for f in dataclasses.fields(Settings)} - {field}
    for other in others:
        assert getattr(settings, other) == getattr(Settings(), other)


def test_empty_variable_counts_as_unset() -> None:
    assert Settings.from_env({"NEXUS_PORT": "", "NEXUS_LOG_FORMAT": ""}) == Settings()


def test_unrelated_variables_are_ignored() -> None:
    assert Settings.from_env({"PORT": "1", "NEXUS_UNKNOWN": "x", "HOME": "/"}) == Settings()


@pytest.mark.parametrize(
    ("variable", "raw", "kind"),
    [
        ("NEXUS_PORT", "abc", "an integer"),
        ("NEXUS_PORT", "80.5", "an integer"),
        ("NEXUS_MAX_FRAME_BYTES", "4MB", "an integer"),
        ("NEXUS_SEND_QUEUE_MESSAGES", "many", "an integer"),
        ("NEXUS_SNAPSHOT_EVERY_UPDATES", "1e3", "an integer"),
        ("NEXUS_FLUSH_WINDOW", "fast", "a number"),
        ("NEXUS_ROOM_IDLE_SECONDS", "30s", "a number"),
        ("NEXUS_SNAPSHOT_INTERVAL", "one minute", "a number"),
    ],
)
def test_unparsable_value_names_variable_and_value(variable: str, raw: str, kind: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({variable: raw})
    assert str(excinfo.value) == f"{variable} must be {kind}, got {raw!r}"


_OUT_OF_RANGE = [
    ("NEXUS_PORT", "70000", "port", "70000"),
    ("NEXUS_PORT", "0", "port", "0"),
    ("NEXUS_LOG_FORMAT", "xml", "log_format", "'xml'"),
    ("NEXUS_LOG_LEVEL", "verbose", "log_level", "'VERBOSE'"),
    ("NEXUS_FLUSH_WINDOW", "0", "flush_window", "0.0"),
    ("NEXUS_FLUSH_WINDOW", "11", "flush_window", "11.0"),
    ("NEXUS_FLUSH_WINDOW", "nan", "flush_window", "nan"),
    ("NEXUS_MAX_FRAME_BYTES", "100", "max_frame_bytes", "100"),
    ("NEXUS_SEND_QUEUE_BYTES", "10", "send_queue_bytes", "10"),
    ("NEXUS_SEND_QUEUE_MESSAGES", "0", "send_queue_messages", "0"),
    ("NEXUS_ROOM_IDLE_SECONDS", "-1", "room_idle_seconds", "-1.0"),
    ("NEXUS_SNAPSHOT_EVERY_UPDATES", "0", "snapshot_every_updates", "0"),
    ("NEXUS_SNAPSHOT_INTERVAL", "0", "snapshot_interval", "0.0"),
]


@pytest.mark.parametrize(("variable", "raw", "field", "shown"), _OUT_OF_RANGE)
def test_out_of_range_env_value_names_variable_setting_and_value(
    variable: str, raw: str, field: str, shown: str
) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({variable: raw})
    message = str(excinfo.value)
    assert message.startswith(f"{variable}: {field} must be ")
    assert message.endswith(f"got {shown}")
    assert excinfo.value.field == field


def test_unparsable_env_value_carries_the_field() -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({"NEXUS_SEND_QUEUE_BYTES": "lots"})
    assert excinfo.value.field == "send_queue_bytes"


def test_settings_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="port must be a TCP port from 1 to 65535, got 65536"):
        Settings(port=65536)


@pytest.mark.parametrize("port", [1, 65535])
def test_port_bounds_are_inclusive(port: int) -> None:
    assert Settings(port=port).port == port


def test_overrides_win_over_the_environment() -> None:
    env = {"NEXUS_PORT": "9000", "NEXUS_HOST": "0.0.0.0", "NEXUS_LOG_FORMAT": "json"}
    settings = Settings.from_env(env, port=9100, log_format="text")
    assert (settings.port, settings.host, settings.log_format) == (9100, "0.0.0.0", "text")


def test_none_overrides_are_ignored() -> None:
    env = {"NEXUS_PORT": "9000", "NEXUS_FLUSH_WINDOW": "0.5"}
    settings = Settings.from_env(env, port=None, flush_window=None, host=None, data_dir=None)
    assert (settings.port, settings.flush_window, settings.host) == (9000, 0.5, "127.0.0.1")


def test_bad_override_names_the_flag() -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({}, flush_window=0.0)
    assert str(excinfo.value) == "--flush-window: flush_window must be 0 < s <= 10, got 0.0"


def test_bad_flag_is_named_even_when_the_env_also_sets_it() -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings.from_env({"NEXUS_PORT": "9000"}, port=70000)
    assert str(excinfo.value).startswith("--port: port must be")
    assert "NEXUS_PORT" not in str(excinfo.value)


def test_an_override_can_fix_a_bad_env_range_value() -> None:
    assert Settings.from_env({"NEXUS_PORT": "70000"}, port=8080).port == 8080


def test_unknown_override_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown settings: bogus"):
        Settings.from_env({}, bogus=1)


def test_store_url_defaults_to_sqlite_inside_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.store_url.startswith("sqlite:///")
    path = Path(settings.store_url.removeprefix("sqlite:///"))
    assert path.is_absolute()
    assert path.parent == (tmp_path / "data").resolve()
    assert path.suffix == ".db"


def test_relative_data_dir_gives_an_absolute_sqlite_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = Settings.from_env({"NEXUS_DATA_DIR": "rel"}).store_url
    assert url == f"sqlite:///{(tmp_path / 'rel' / 'nexus-canvas.db').resolve()}"


def test_database_url_wins_over_data_dir(tmp_path: Path) -> None:
    env = {"NEXUS_DATA_DIR": str(tmp_path), "DATABASE_URL": "sqlite:///elsewhere/db.sqlite"}
    assert Settings.from_env(env).store_url == "sqlite:///elsewhere/db.sqlite"
    assert Settings.from_env(env, database_url="memory://").store_url == "memory://"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"auth_secret": "short"}, "auth_secret must be at least 32 bytes, got 5"),
        ({"server_url": "ftp://x"}, "server_url must be an http(s):// URL, got 'ftp://x'"),
        ({"render_mode": "fork"}, "render_mode must be process or thread, got 'fork'"),
        ({"log_level": "TRACE"}, "log_level must be DEBUG/INFO/WARNING/ERROR, got 'TRACE'"),
        ({"jobs_lease_seconds": 0.05}, "jobs_lease_seconds must be 0.1 to 3600 seconds, got 0.05"),
        ({"thumbnail_size": 8}, "thumbnail_size must be 16..4096, got 8"),
        ({"max_document_bytes": 0}, "max_document_bytes must be > 0, got 0"),
        ({"room_idle_seconds": float("nan")}, "room_idle_seconds must be >= 0, got nan"),
    ],
)
def test_each_constraint_names_the_field_the_rule_and_the_value(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError) as excinfo:
        Settings(**overrides)
    assert str(excinfo.value) == message
    assert excinfo.value.field == next(iter(overrides))


def test_optional_constrained_fields_accept_none() -> None:
    settings = Settings(auth_secret=None, server_url=None)
    assert (settings.auth_secret, settings.server_url) == (None, None)
