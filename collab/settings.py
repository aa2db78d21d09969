"""Server configuration, read once from the environment and command-line flags.

Nothing else in the code reads ``os.environ``: the ``Settings`` object built here is passed
down through constructors. Every variable is documented in docs/configuration.md.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from collab.exceptions import SettingsError

_T = TypeVar("_T")

_LOG_FORMATS = ("json", "text")
_RENDER_MODES = ("process", "thread")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class _Check:
    """A field's constraint: ``test(value)`` holds, or the error reads
    "{name} must be {expected}, got {shown(value)!r}"."""

    test: Callable[[Any], bool]
    expected: str
    shown: Callable[[Any], object] = lambda value: value

    def __call__(self, name: str, value: object) -> None:
        # Tests are written so NaN fails them (every comparison with NaN is false).
        if not self.test(value):
            raise SettingsError(
                f"{name} must be {self.expected}, got {self.shown(value)!r}", field=name
            )


def _checked(default: _T, check: _Check) -> _T:
    """A field with this default whose value ``check`` validates in ``__post_init__``."""
    return dataclasses.field(default=default, metadata={"check": check})


def _at_least(low: float) -> _Check:
    return _Check(lambda value: value >= low, f">= {low}")


def _above(low: float) -> _Check:
    return _Check(lambda value: value > low, f"> {low}")


def _between(low: float, high: float, expected: str = "") -> _Check:
    return _Check(lambda value: low <= value <= high, expected or f"{low}..{high}")


def _one_of(choices: tuple[str, ...], joiner: str = " or ") -> _Check:
    return _Check(lambda value: value in choices, joiner.join(choices))


_HTTP_URL = _Check(
    lambda url: url is None or url.startswith(("http://", "https://")), "an http(s):// URL"
)
_JOB_TIMEOUT = _Check(
    lambda s: s is None or 0.1 <= s <= 86400, "0.1 to 86400 seconds (or unset: the default)"
)


def _not_a_network(spec: str) -> str | None:
    """The first entry of a comma-separated list that is neither an IP nor a CIDR network."""
    for entry in (part.strip() for part in spec.split(",")):
        try:
            if entry:
                ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return entry
    return None


_TRUSTED_PROXIES = _Check(
    lambda spec: _not_a_network(spec) is None,
    "comma-separated IP addresses or CIDR networks",
    shown=_not_a_network,
)
_SECRET = _Check(
    lambda secret: secret is None or len(secret.encode()) >= 32,
    "at least 32 bytes",
    shown=lambda secret: len(secret.encode()),
)


@dataclass(frozen=True)
class Settings:
    """Every tunable of a server instance. Defaults are the embedded, zero-setup mode.

    A constrained field declares its check with its default (``_checked``); construction
    validates every field and raises ``SettingsError`` naming the first bad one.
    """

    host: str = "127.0.0.1"
    port: int = _checked(8000, _between(1, 65535, "a TCP port from 1 to 65535"))
    data_dir: Path = Path("data")
    web_dir: Path | None = None  # the browser app's build; None: client/web/dist of the checkout
    database_url: str | None = None  # None: SQLite file in data_dir
    redis_url: str | None = None  # None: in-process broker and lease (one instance)
    redis_namespace: str = "nexus"  # prefix of every Redis key and channel
    instance_id: str | None = None  # None: generated at start-up
    migrate_on_start: bool = True  # apply pending Postgres migrations at start-up
    # seconds a snapshot writer's lease lasts unrenewed
    snapshot_lease_ttl: float = _checked(30.0, _between(1, 3600, "1 to 3600 seconds"))
    # buffered updates before merging them per document
    store_max_pending: int = _checked(100_000, _at_least(100))
    # seconds: group-commit window of the update log
    flush_window: float = _checked(0.1, _Check(lambda s: 0 < s <= 10, "0 < s <= 10"))
    max_frame_bytes: int = _checked(4 * 1024 * 1024, _at_least(1024))
    ws_compression: bool = False  # accept permessage-deflate (costs CPU and ~40 KiB/connection)
    # per connection, before it is closed as slow
    send_queue_bytes: int = _checked(8 * 1024 * 1024, _at_least(1024))
    send_queue_messages: int = _checked(4096, _at_least(1))
    # bytes of partial, unhandled and unsent frames of all connections together; over it the
    # connections holding the most are closed (1013)
    frame_budget_bytes: int = _checked(16 * 1024 * 1024, _at_least(1024 * 1024))
    # `serve`: seconds between scheduled full garbage collections, automatic ones off
    # (collab/gc_policy.py); 0 keeps CPython's automatic policy
    gc_full_interval: float = _checked(60.0, _at_least(0))
    # unload a room this long after its last connection left
    room_idle_seconds: float = _checked(60.0, _at_least(0))
    # compact a room's log after this many updates ...
    snapshot_every_updates: int = _checked(2000, _at_least(1))
    # ... or this many seconds after its first unsaved update
    snapshot_interval: float = _checked(60.0, _above(0))
    undo_max_depth: int = _checked(100, _at_least(1))  # undo steps kept per user and document
    # one user's changes closer than this undo as one step
    undo_capture_ms: int = _checked(500, _at_least(0))
    # the shared history panel keeps this many entries
    history_max_entries: int = _checked(500, _at_least(1))
    # same user + same label within this: one entry
    history_coalesce_seconds: float = _checked(2.0, _at_least(0))
    max_blob_bytes: int = _checked(32 * 1024 * 1024, _at_least(1024))  # largest image upload
    # pixels per side of an uploaded image
    max_image_dimension: int = _checked(16384, _between(1, 65535))
    max_image_pixels: int = _checked(64_000_000, _at_least(1))  # width x height of an upload
    max_export_pixels: int = _checked(64_000_000, _at_least(1))  # ... and of a rendered export
    # default box a thumbnail fits in, in pixels
    thumbnail_size: int = _checked(256, _between(16, 4096))
    render_workers: int = _checked(2, _between(1, 64))  # renders that run at once
    # "process" (off the GIL) or "thread"
    render_mode: str = _checked("process", _one_of(_RENDER_MODES))
    auth_secret: str | None = _checked(None, _SECRET)  # None: open mode (loopback binds only)
    allow_open: bool = False  # allow open mode on a non-loopback bind anyway
    access_token_ttl: float = _checked(900.0, _at_least(10))  # seconds an access token lives
    allowed_origins: str = ""  # comma-separated browser origins ("*": any); "": same host only
    # AI job submissions per user (over it: 429)
    jobs_per_user_per_minute: float = _checked(30.0, _above(0))
    # proxies (IPs/CIDRs) whose Forwarded / X-Forwarded-For name the client; "": trust none
    trusted_proxies: str = _checked("", _TRUSTED_PROXIES)
    # concurrent WebSocket connections per client address (1000 users behind one NAT fit)
    max_connections_per_ip: int = _checked(2048, _above(0))
    # new connections per address (burst: 2x); 1000 clients reconnect within ~15 s
    connection_attempts_per_second: float = _checked(100.0, _above(0))
    # per connection (burst: 2x); over it: closed
    max_messages_per_second: float = _checked(1000.0, _above(0))
    # per connection (burst: 2x); over it: closed
    max_bytes_per_second: int = _checked(8 * 1024 * 1024, _above(0))
    # an update growing a document past it is refused
    max_document_bytes: int = _checked(64 * 1024 * 1024, _above(0))
    # AI jobs queued or running at once; beyond: 503 with Retry-After
    jobs_max_queued: int = _checked(64, _between(1, 100_000))
    # starts of a job whose worker keeps getting lost, then it fails
    jobs_max_attempts: int = _checked(3, _between(1, 100))
    # a worker silent this long on a job is presumed dead
    jobs_lease_seconds: float = _checked(30.0, _between(0.1, 3600, "0.1 to 3600 seconds"))
    # seconds a job may run before it fails and its worker process is restarted ...
    jobs_timeout_seconds: float = _checked(600.0, _between(0.1, 86400, "0.1 to 86400 seconds"))
    # ... and per kind of job (None: jobs_timeout_seconds)
    jobs_timeout_generative_fill: float | None = _checked(None, _JOB_TIMEOUT)
    jobs_timeout_segment: float | None = _checked(None, _JOB_TIMEOUT)
    jobs_timeout_remove_background: float | None = _checked(None, _JOB_TIMEOUT)
    jobs_embedded_worker: bool = True  # without REDIS_URL, run the worker (one child process)
    # longest prompt (and negative prompt) of a job
    jobs_max_prompt_chars: int = _checked(1000, _between(1, 100_000))
    # most denoising steps a generative fill may ask for
    jobs_max_steps: int = _checked(100, _between(1, 500))
    # `worker`: the server's http(s) URL (any instance)
    server_url: str | None = _checked(None, _HTTP_URL)
    worker_token: str | None = None  # `worker`: the service token it presents (token mode)
    log_level: str = _checked("INFO", _one_of(_LOG_LEVELS, "/"))
    log_format: str = _checked("json", _one_of(_LOG_FORMATS))

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
        for field in dataclasses.fields(self):
            check: _Check | None = field.metadata.get("check")
            if check is not None:
                check(field.name, getattr(self, field.name))

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


def env_variable(field_name: str) -> str:
    """The environment variable that sets ``field_name`` (KeyError: no such setting)."""
    return _ENV[field_name][0]


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
    "frame_budget_bytes": ("NEXUS_FRAME_BUDGET_BYTES", int),
    "gc_full_interval": ("NEXUS_GC_FULL_INTERVAL", float),
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
    "trusted_proxies": ("NEXUS_TRUSTED_PROXIES", str),
    "max_connections_per_ip": ("NEXUS_MAX_CONNECTIONS_PER_IP", int),
    "connection_attempts_per_second": ("NEXUS_CONNECTION_ATTEMPTS_PER_SECOND", float),
    "max_messages_per_second": ("NEXUS_MAX_MESSAGES_PER_SECOND", float),
    "max_bytes_per_second": ("NEXUS_MAX_BYTES_PER_SECOND", int),
    "max_document_bytes": ("NEXUS_MAX_DOCUMENT_BYTES", int),
    "jobs_max_queued": ("NEXUS_JOBS_MAX_QUEUED", int),
    "jobs_max_attempts": ("NEXUS_JOBS_MAX_ATTEMPTS", int),
    "jobs_lease_seconds": ("NEXUS_JOBS_LEASE_SECONDS", float),
    "jobs_timeout_seconds": ("NEXUS_JOBS_TIMEOUT_SECONDS", float),
    "jobs_timeout_generative_fill": ("NEXUS_JOBS_TIMEOUT_GENERATIVE_FILL", float),
    "jobs_timeout_segment": ("NEXUS_JOBS_TIMEOUT_SEGMENT", float),
    "jobs_timeout_remove_background": ("NEXUS_JOBS_TIMEOUT_REMOVE_BACKGROUND", float),
    "jobs_embedded_worker": ("NEXUS_JOBS_EMBEDDED_WORKER", _bool),
    "jobs_max_prompt_chars": ("NEXUS_JOBS_MAX_PROMPT_CHARS", int),
    "jobs_max_steps": ("NEXUS_JOBS_MAX_STEPS", int),
    "server_url": ("NEXUS_SERVER_URL", str),
    "worker_token": ("NEXUS_WORKER_TOKEN", str),
    "log_level": ("NEXUS_LOG_LEVEL", _upper),
    "log_format": ("NEXUS_LOG_FORMAT", str),
}
