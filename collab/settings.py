"""Server configuration, read once from the environment and command-line flags.

Nothing else in the code reads ``os.environ``: the ``Settings`` object built here is passed
down through constructors. Every variable is documented in docs/configuration.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collab.exceptions import SettingsError

_LOG_FORMATS = ("json", "text")
_RENDER_MODES = ("process", "thread")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Settings:
    """Every tunable of a server instance. Defaults are the embedded, zero-setup mode."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    web_dir: Path | None = None  # the browser app's build; None: client/web/dist of the checkout
    database_url: str | None = None  # None: SQLite file in data_dir
    redis_url: str | None = None  # None: in-process broker and lease (one instance)
    redis_namespace: str = "nexus"  # prefix of every Redis key and channel
    instance_id: str | None = None  # None: generated at start-up
    migrate_on_start: bool = True  # apply pending Postgres migrations at start-up
    snapshot_lease_ttl: float = 30.0  # seconds a snapshot writer's lease lasts unrenewed
    store_max_pending: int = 100_000  # buffered updates before merging them per document
    flush_window: float = 0.1  # seconds: group-commit window of the update log
    max_frame_bytes: int = 4 * 1024 * 1024
    ws_compression: bool = False  # accept permessage-deflate (costs CPU and ~40 KiB/connection)
    send_queue_bytes: int = 8 * 1024 * 1024  # per connection, before it is closed as slow
    send_queue_messages: int = 4096
    room_idle_seconds: float = 60.0  # unload a room this long after its last connection left
    snapshot_every_updates: int = 2000  # compact a room's log after this many updates ...
    snapshot_interval: float = 60.0  # ... or this many seconds after its first unsaved update
    undo_max_depth: int = 100  # undo steps kept per user and document
    undo_capture_ms: int = 500  # one user's changes closer than this undo as one step
    history_max_entries: int = 500  # the shared history panel keeps this many entries
    history_coalesce_seconds: float = 2.0  # same user + same label within this: one entry
    max_blob_bytes: int = 32 * 1024 * 1024  # largest image upload
    max_image_dimension: int = 16384  # pixels per side of an uploaded image
    max_image_pixels: int = 64_000_000  # width x height of an uploaded image
    max_export_pixels: int = 64_000_000  # width x height of a rendered export
    thumbnail_size: int = 256  # default box a thumbnail fits in, in pixels
    render_workers: int = 2  # renders that run at once
    render_mode: str = "process"  # "process" (off the GIL) or "thread"
    auth_secret: str | None = None  # None: open mode (loopback binds only)
    allow_open: bool = False  # allow open mode on a non-loopback bind anyway
    access_token_ttl: float = 900.0  # seconds an access token lives
    allowed_origins: str = ""  # comma-separated browser origins ("*": any); "": same host only
    jobs_per_user_per_minute: float = 30.0  # AI job submissions per user (over it: 429)
    max_connections_per_ip: int = 256  # concurrent WebSocket connections per client address
    connection_attempts_per_second: float = 50.0  # new connections per address (burst: 2x)
    max_messages_per_second: float = 1000.0  # per connection (burst: 2x); over it: closed
    max_bytes_per_second: int = 8 * 1024 * 1024  # per connection (burst: 2x); over it: closed
    max_document_bytes: int = 64 * 1024 * 1024  # an update growing a document past it is refused
    jobs_max_queued: int = 64  # AI jobs queued or running at once; beyond: 503 with Retry-After
    jobs_max_attempts: int = 3  # starts of a job whose worker keeps getting lost, then it fails
    jobs_lease_seconds: float = 30.0  # a worker silent this long on a job is presumed dead
    jobs_embedded_worker: bool = True  # without REDIS_URL, run the worker (one child process)
    jobs_max_prompt_chars: int = 1000  # longest prompt (and negative prompt) of a job
    jobs_max_steps: int = 100  # most denoising steps a generative fill may ask for
    server_url: str | None = None  # `worker`: the server's http(s) URL (any instance)
    worker_token: str | None = None  # `worker`: the service token it presents (token mode)
    log_level: str = "INFO"
    log_format: str = "json"

    @property
    def open_mode(self) -> bool:
        return not self.auth_secret

    @property
    def loopback(self) -> bool:
        return self.host in ("localhost", "::1") or self.host.startswith("127.")

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())

    @property
    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'nexus-canvas.db').resolve()}"

    def __post_init__(self) -> None:
        _check(1 <= self.port <= 65535, "port", self.port, "a TCP port from 1 to 65535")
        _check(0 < self.flush_window <= 10, "flush_window", self.flush_window, "0 < s <= 10")
        _check(self.max_frame_bytes >= 1024, "max_frame_bytes", self.max_frame_bytes, ">= 1024")
        _check(self.send_queue_bytes >= 1024, "send_queue_bytes", self.send_queue_bytes, ">= 1024")
        _check(
            self.send_queue_messages >= 1, "send_queue_messages", self.send_queue_messages, ">= 1"
        )
        _check(self.room_idle_seconds >= 0, "room_idle_seconds", self.room_idle_seconds, ">= 0")
        _check(
            self.snapshot_every_updates >= 1,
            "snapshot_every_updates",
            self.snapshot_every_updates,
            ">= 1",
        )
        _check(self.snapshot_interval > 0, "snapshot_interval", self.snapshot_interval, "> 0")
        _check(
            1 <= self.snapshot_lease_ttl <= 3600,
            "snapshot_lease_ttl",
            self.snapshot_lease_ttl,
            "1 to 3600 seconds",
        )
        _check(self.store_max_pending >= 100, "store_max_pending", self.store_max_pending, ">= 100")
        _check(self.undo_max_depth >= 1, "undo_max_depth", self.undo_max_depth, ">= 1")
        _check(self.undo_capture_ms >= 0, "undo_capture_ms", self.undo_capture_ms, ">= 0")
        _check(
            self.history_max_entries >= 1,
            "history_max_entries",
            self.history_max_entries,
            ">= 1",
        )
        _check(
            self.history_coalesce_seconds >= 0,
            "history_coalesce_seconds",
            self.history_coalesce_seconds,
            ">= 0",
        )
        _check(self.max_blob_bytes >= 1024, "max_blob_bytes", self.max_blob_bytes, ">= 1024")
        _check(
            1 <= self.max_image_dimension <= 65535,
            "max_image_dimension",
            self.max_image_dimension,
            "1..65535",
        )
        _check(self.max_image_pixels >= 1, "max_image_pixels", self.max_image_pixels, ">= 1")
        _check(self.max_export_pixels >= 1, "max_export_pixels", self.max_export_pixels, ">= 1")
        _check(16 <= self.thumbnail_size <= 4096, "thumbnail_size", self.thumbnail_size, "16..4096")
        _check(1 <= self.render_workers <= 64, "render_workers", self.render_workers, "1..64")
        _check(
            self.render_mode in _RENDER_MODES,
            "render_mode",
            self.render_mode,
            " or ".join(_RENDER_MODES),
        )
        if self.auth_secret is not None and len(self.auth_secret.encode()) < 32:
            raise SettingsError(
                f"auth_secret must be at least 32 bytes, got {len(self.auth_secret.encode())}",
                field="auth_secret",
            )
        _check(self.access_token_ttl >= 10, "access_token_ttl", self.access_token_ttl, ">= 10")
        for name in (
            "jobs_per_user_per_minute",
            "max_connections_per_ip",
            "connection_attempts_per_second",
            "max_messages_per_second",
            "max_bytes_per_second",
            "max_document_bytes",
        ):
            _check(getattr(self, name) > 0, name, getattr(self, name), "> 0")
        _check(
            1 <= self.jobs_max_queued <= 100_000,
            "jobs_max_queued",
            self.jobs_max_queued,
            "1..100000",
        )
        _check(
            1 <= self.jobs_max_attempts <= 100,
            "jobs_max_attempts",
            self.jobs_max_attempts,
            "1..100",
        )
        _check(
            0.1 <= self.jobs_lease_seconds <= 3600,
            "jobs_lease_seconds",
            self.jobs_lease_seconds,
            "0.1 to 3600 seconds",
        )
        _check(
            1 <= self.jobs_max_prompt_chars <= 100_000,
            "jobs_max_prompt_chars",
            self.jobs_max_prompt_chars,
            "1..100000",
        )
        _check(1 <= self.jobs_max_steps <= 500, "jobs_max_steps", self.jobs_max_steps, "1..500")
        _check(
            self.server_url is None or self.server_url.startswith(("http://", "https://")),
            "server_url",
            self.server_url,
            "an http(s):// URL",
        )
        _check(self.log_level in _LOG_LEVELS, "log_level", self.log_level, "/".join(_LOG_LEVELS))
        _check(
            self.log_format in _LOG_FORMATS,
            "log_format",
            self.log_format,
            " or ".join(_LOG_FORMATS),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Build settings from environment variables, then apply non-None ``overrides``
        (command-line flags win over the environment)."""
        values: dict[str, Any] = {}
        for field_name, (variable, parse) in _ENV.items():
            raw = environ.get(variable)
            if raw is None or raw == "":
                continue
            try:
                values[field_name] = parse(raw)
            except ValueError:
                raise SettingsError(
                    f"{variable} must be {_KIND[parse]}, got {raw!r}", field=field_name
                ) from None
        from_env = set(values)
        flags = {k: v for k, v in overrides.items() if v is not None}
        values.update(flags)
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        try:
            return cls(**values)
        except SettingsError as exc:
            # Name the variable or flag the user actually set, not the internal field.
            if exc.field in from_env and exc.field not in flags:
                raise SettingsError(f"{_ENV[exc.field][0]}: {exc}", field=exc.field) from None
            if exc.field in flags:
                flag = "--" + exc.field.replace("_", "-")
                raise SettingsError(f"{flag}: {exc}", field=exc.field) from None
            raise


def _check(ok: bool, name: str, value: object, expected: str) -> None:
    if not ok:
        raise SettingsError(f"{name} must be {expected}, got {value!r}", field=name)


def _upper(raw: str) -> str:
    return raw.upper()


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_KIND: dict[Callable[[str], Any], str] = {
    int: "an integer",
    float: "a number",
    str: "a string",
    Path: "a path",
    _upper: "a string",
    _bool: "a boolean (1/0, true/false, yes/no, on/off)",
}

_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
    "host": ("NEXUS_HOST", str),
    "port": ("NEXUS_PORT", int),
    "data_dir": ("NEXUS_DATA_DIR", Path),
    "web_dir": ("NEXUS_WEB_DIR", Path),
    "database_url": ("DATABASE_URL", str),
    "redis_url": ("REDIS_URL", str),
    "redis_namespace": ("NEXUS_REDIS_NAMESPACE", str),
    "instance_id": ("NEXUS_INSTANCE_ID", str),
    "migrate_on_start": ("NEXUS_MIGRATE_ON_START", _bool),
    "snapshot_lease_ttl": ("NEXUS_SNAPSHOT_LEASE_TTL", float),
    "store_max_pending": ("NEXUS_STORE_MAX_PENDING", int),
    "flush_window": ("NEXUS_FLUSH_WINDOW", float),
    "max_frame_bytes": ("NEXUS_MAX_FRAME_BYTES", int),
    "send_queue_bytes": ("NEXUS_SEND_QUEUE_BYTES", int),
    "send_queue_messages": ("NEXUS_SEND_QUEUE_MESSAGES", int),
    "room_idle_seconds": ("NEXUS_ROOM_IDLE_SECONDS", float),
    "snapshot_every_updates": ("NEXUS_SNAPSHOT_EVERY_UPDATES", int),
    "snapshot_interval": ("NEXUS_SNAPSHOT_INTERVAL", float),
    "undo_max_depth": ("NEXUS_UNDO_MAX_DEPTH", int),
    "undo_capture_ms": ("NEXUS_UNDO_CAPTURE_MS", int),
    "history_max_entries": ("NEXUS_HISTORY_MAX_ENTRIES", int),
    "history_coalesce_seconds": ("NEXUS_HISTORY_COALESCE_SECONDS", float),
    "max_blob_bytes": ("NEXUS_MAX_BLOB_BYTES", int),
    "max_image_dimension": ("NEXUS_MAX_IMAGE_DIMENSION", int),
    "max_image_pixels": ("NEXUS_MAX_IMAGE_PIXELS", int),
    "max_export_pixels": ("NEXUS_MAX_EXPORT_PIXELS", int),
    "thumbnail_size": ("NEXUS_THUMBNAIL_SIZE", int),
    "render_workers": ("NEXUS_RENDER_WORKERS", int),
    "render_mode": ("NEXUS_RENDER_MODE", str),
    "auth_secret": ("NEXUS_AUTH_SECRET", str),
    "allow_open": ("NEXUS_ALLOW_OPEN", _bool),
    "ws_compression": ("NEXUS_WS_COMPRESSION", _bool),
    "access_token_ttl": ("NEXUS_ACCESS_TOKEN_TTL", float),
    "allowed_origins": ("NEXUS_ALLOWED_ORIGINS", str),
    "jobs_per_user_per_minute": ("NEXUS_JOBS_PER_USER_PER_MINUTE", float),
    "max_connections_per_ip": ("NEXUS_MAX_CONNECTIONS_PER_IP", int),
    "connection_attempts_per_second": ("NEXUS_CONNECTION_ATTEMPTS_PER_SECOND", float),
    "max_messages_per_second": ("NEXUS_MAX_MESSAGES_PER_SECOND", float),
    "max_bytes_per_second": ("NEXUS_MAX_BYTES_PER_SECOND", int),
    "max_document_bytes": ("NEXUS_MAX_DOCUMENT_BYTES", int),
    "jobs_max_queued": ("NEXUS_JOBS_MAX_QUEUED", int),
    "jobs_max_attempts": ("NEXUS_JOBS_MAX_ATTEMPTS", int),
    "jobs_lease_seconds": ("NEXUS_JOBS_LEASE_SECONDS", float),
    "jobs_embedded_worker": ("NEXUS_JOBS_EMBEDDED_WORKER", _bool),
    "jobs_max_prompt_chars": ("NEXUS_JOBS_MAX_PROMPT_CHARS", int),
    "jobs_max_steps": ("NEXUS_JOBS_MAX_STEPS", int),
    "server_url": ("NEXUS_SERVER_URL", str),
    "worker_token": ("NEXUS_WORKER_TOKEN", str),
    "log_level": ("NEXUS_LOG_LEVEL", _upper),
    "log_format": ("NEXUS_LOG_FORMAT", str),
}
