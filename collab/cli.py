"""The nexus-canvas command line: serve, migrate, gc-blobs, service-token and worker."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import logging
import math
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from canvasdoc.ids import USER_ID
from collab import __version__
from collab.exceptions import SettingsError
from collab.observability.logs import configure_logging
from collab.settings import Settings, env_variable
from foundation.urls import redact_url
from persistence.blob_gc import BlobCollection, collect_blobs
from persistence.errors import StoreError, StoreUnavailable
from persistence.factory import is_postgres_url

log = logging.getLogger("collab.cli")

_DESCRIPTION = (
    "Nexus Canvas: a layered image canvas that several people edit live. Settings come from "
    "environment variables and flags (a flag wins over its variable); see "
    "docs/configuration.md for every setting."
)
_SERVICE_PREFIX = "service:"  # a service token's subject: the name must fit a user id after it
_SERVICE_NAME_MAX = 64 - len(_SERVICE_PREFIX)


def _setting(
    parser: argparse.ArgumentParser,
    flag: str,
    text: str,
    *,
    default: str | None = None,
    **kwargs: Any,
) -> None:
    """Add a flag for the setting of the same name; its help names the environment variable
    and the default (``Settings``' own unless ``default`` describes it)."""
    name = flag.removeprefix("--").replace("-", "_")
    variable = env_variable(name)
    if default is None:
        field = next(f for f in dataclasses.fields(Settings) if f.name == name)
        value = field.default
        default = f"{value:g}" if isinstance(value, float) else str(value)
    parser.add_argument(flag, help=f"{text} (env {variable}; default: {default})", **kwargs)


def _logging_flags(parser: argparse.ArgumentParser) -> None:
    _setting(parser, "--log-level", "DEBUG, INFO, WARNING or ERROR", type=str.upper)
    _setting(parser, "--log-format", "log line format", choices=["json", "text"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nexus-canvas", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"nexus-canvas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    serve = sub.add_parser(
        "serve",
        help="run a collaboration server instance",
        description="Run one server instance: the browser app, the WebSocket rooms, the REST "
        "API and (without REDIS_URL) its own AI job worker.",
    )
    _setting(serve, "--host", "bind address")
    _setting(serve, "--port", "TCP port", type=int)
    _setting(serve, "--data-dir", "folder of the embedded SQLite store", type=Path)
    _setting(
        serve,
        "--database-url",
        "store URL: sqlite:///path.db or postgresql://user@host:5432/db",
        default="the SQLite file in the data dir",
    )
    _setting(serve, "--flush-window", "group-commit window in seconds", type=float)
    _setting(
        serve,
        "--room-idle-seconds",
        "unload a room this many seconds after its last connection left",
        type=float,
    )
    _logging_flags(serve)
    migrate = sub.add_parser(
        "migrate",
        help="apply pending Postgres schema migrations",
        description="Apply the pending schema migrations of a Postgres store.",
    )
    _setting(
        migrate,
        "--database-url",
        "postgresql://user@host:5432/db",
        default="none; this flag or the variable is required",
    )
    gc = sub.add_parser(
        "gc-blobs",
        help="delete the blobs no document, version or logged update refers to",
        description="Delete the stored images that no document, version or logged update "
        "refers to.",
    )
    _setting(gc, "--database-url", "store URL", default="the SQLite file in the data dir")
    _setting(gc, "--data-dir", "folder of the embedded SQLite store", type=Path)
    gc.add_argument(
        "--min-age",
        type=float,
        default=3600.0,
        help="keep blobs put less than this many seconds ago: an upload's layer may not have "
        "reached the store yet (default: 3600)",
    )
    gc.add_argument(
        "--dry-run", action="store_true", help="list what would go, delete nothing (default: off)"
    )
    token = sub.add_parser(
        "service-token",
        help="print a token for a worker or bot (needs NEXUS_AUTH_SECRET)",
        description="Print a service token signed with NEXUS_AUTH_SECRET (token mode): a "
        "worker or bot presents it to edit any document.",
    )
    token.add_argument(
        "name",
        help=f"the service's name, 1-{_SERVICE_NAME_MAX} letters, digits or _.@:- "
        "(e.g. ai-worker-1)",
    )
    token.add_argument(
        "--ttl",
        type=float,
        help="seconds until the token expires, a positive number (default: it never expires)",
    )
    worker = sub.add_parser(
        "worker",
        help="run an AI job worker (distributed mode: REDIS_URL and a server URL)",
        description="Run AI jobs from the shared Redis queue (REDIS_URL) and report results to "
        "a server instance.",
    )
    _setting(worker, "--server-url", "any server instance's http(s) URL", default="none, required")
    worker.add_argument(
        "--worker-id", help="this worker's name in the queue (default: the host name and pid)"
    )
    _logging_flags(worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "migrate":
        return _migrate(args)
    if args.command == "gc-blobs":
        return _gc_blobs(args)
    if args.command == "service-token":
        return _service_token(args)
    if args.command == "worker":
        return _worker(args)
    return 2


def _worker(args: argparse.Namespace) -> int:
    """Run AI jobs from the shared queue; exit 2 for bad settings."""
    from inference.exceptions import AIConfigError

    try:
        settings = Settings.from_env(
            os.environ,
            server_url=args.server_url,
            log_level=args.log_level,
            log_format=args.log_format,
        )
        from inference.config import AIConfig

        ai_config = AIConfig.from_env(os.environ)
    except (SettingsError, AIConfigError) as exc:
        print(f"nexus-canvas: {exc}", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print(
            "nexus-canvas worker: needs REDIS_URL (the shared job queue); without it, "
            "`nexus-canvas serve` runs its own worker",
            file=sys.stderr,
        )
        return 2
    if not settings.server_url:
        print(
            "nexus-canvas worker: needs a server to report to: --server-url or NEXUS_SERVER_URL "
            "(http://host:port of any instance)",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level, settings.log_format)
    from collab.ai.host import job_timeouts
    from inference.jobs.links import HttpLink
    from inference.jobs.queue import queue_from_url
    from inference.jobs.worker import run_standalone

    queue = queue_from_url(
        settings.redis_url,
        max_jobs=settings.jobs_max_queued,
        max_attempts=settings.jobs_max_attempts,
        lease=settings.jobs_lease_seconds,
        namespace=settings.redis_namespace,
    )
    link = HttpLink(settings.server_url, token=settings.worker_token)
    log.info("worker starting", extra={"server": settings.server_url, "queue": queue.kind})
    timeouts = job_timeouts(settings)
    asyncio.run(run_standalone(queue, link, ai_config, worker_id=args.worker_id, timeouts=timeouts))
    return 0


def _service_token(args: argparse.Namespace) -> int:
    """Print a token for a worker or bot, signed with the configured secret."""
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"nexus-canvas: {exc}", file=sys.stderr)
        return 2
    if not args.name or not USER_ID.fullmatch(_SERVICE_PREFIX + args.name):
        print(
            f"nexus-canvas service-token: the name must be 1-{_SERVICE_NAME_MAX} letters, "
            f"digits or _.@:-, got {args.name[:80]!r}",
            file=sys.stderr,
        )
        return 2
    if args.ttl is not None and not (math.isfinite(args.ttl) and args.ttl > 0):
        print(
            "nexus-canvas service-token: --ttl must be a positive number of seconds (leave it "
            f"out for a token that never expires), got {args.ttl:g}",
            file=sys.stderr,
        )
        return 2
    if not settings.auth_secret:
        print("nexus-canvas: service tokens need NEXUS_AUTH_SECRET (token mode)", file=sys.stderr)
        return 2
    from collab.auth.tokens import TokenIssuer

    print(TokenIssuer(settings.auth_secret).service(args.name, ttl=args.ttl))
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env(
            os.environ,
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            database_url=args.database_url,
            flush_window=args.flush_window,
            room_idle_seconds=args.room_idle_seconds,
            log_level=args.log_level,
            log_format=args.log_format,
        )
    except SettingsError as exc:
        print(f"nexus-canvas: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    import uvicorn

    from collab.app import create_app
    from collab.asgi.serving import uvicorn_options

    problem = _cannot_listen(settings.host, settings.port)
    if problem is not None:
        print(f"nexus-canvas: {problem}", file=sys.stderr)
        return 1
    log.info(
        "starting",
        extra={
            "host": settings.host,
            "port": settings.port,
            "store": redact_url(settings.store_url),
        },
    )
    try:
        app = create_app(settings)
    except SettingsError as exc:
        print(f"nexus-canvas: {exc}", file=sys.stderr)
        return 2
    # The process's garbage-collection policy (collab/gc_policy.py): what start-up built is
    # frozen, full collections are scheduled (NEXUS_GC_FULL_INTERVAL) instead of automatic.
    app.state.serving_process = True
    uvicorn.run(app, host=settings.host, port=settings.port, **uvicorn_options(settings))
    return 0


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (None: it can), found before anything
    starts. uvicorn binds only after the app's start-up has run and logged "server started"."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {where}: unknown host ({exc.strerror})"
    for family, kind, proto, _, address in addresses:
        try:
            probe = socket.socket(family, kind, proto)
        except OSError:  # a family this machine lacks: asyncio skips it too
            continue
        with probe:
            # The same options asyncio's create_server sets, so the probe agrees with it.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return (
                        f"cannot listen on {where}: the address is already in use (another "
                        "server? choose another --port or NEXUS_PORT)"
                    )
                return f"cannot listen on {where}: {exc.strerror or exc}"
    return None


def _migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations; exit 2 for a non-Postgres or unreachable database."""
    try:
        settings = Settings.from_env(os.environ, database_url=args.database_url)
    except SettingsError as exc:
        print(f"nexus-canvas: {exc}", file=sys.stderr)
        return 2
    url = settings.database_url
    if not url or not is_postgres_url(url):
        got = repr(redact_url(url)) if url else "none (the embedded SQLite store needs none)"
        print(
            "nexus-canvas migrate: needs a Postgres URL (postgresql://user@host:5432/db) "
            f"in --database-url or DATABASE_URL, got {got}",
            file=sys.stderr,
        )
        return 2
    from persistence.postgres import migrate_url

    try:
        applied = asyncio.run(migrate_url(url))
    except StoreUnavailable as exc:
        print(f"nexus-canvas migrate: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # asyncpg's URL parsing
        print(f"nexus-canvas migrate: bad database URL {redact_url(url)!r}: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"nexus-canvas migrate: migration failed: {exc}", file=sys.stderr)
        return 1
    for version in applied:
        print(f"applied {version}")
    if not applied:
        print(f"{redact_url(url)}: schema is up to date, nothing to apply")
    return 0


def _gc_blobs(args: argparse.Namespace) -> int:
    """Collect unreferenced blobs; exit 2 for bad settings or an unreachable store."""
    try:
        settings = Settings.from_env(
            os.environ, database_url=args.database_url, data_dir=args.data_dir
        )
    except SettingsError as exc:
        print(f"nexus-canvas: {exc}", file=sys.stderr)
        return 2
    if not args.min_age >= 0:
        print(f"nexus-canvas gc-blobs: --min-age must be >= 0, got {args.min_age}", file=sys.stderr)
        return 2
    embedded = settings.data_dir / "nexus-canvas.db"
    if not settings.database_url and not embedded.exists():
        print(f"nexus-canvas gc-blobs: no store at {embedded}", file=sys.stderr)
        return 2
    from persistence.factory import store_from_url

    url = settings.store_url
    options = {"migrate": False} if is_postgres_url(url) else {}

    async def collect() -> BlobCollection:
        async with store_from_url(url, **options) as store:
            return await collect_blobs(store, min_age=args.min_age, dry_run=args.dry_run)

    try:
        result = asyncio.run(collect())
    except StoreUnavailable as exc:
        print(f"nexus-canvas gc-blobs: {exc}", file=sys.stderr)
        return 2
    except (StoreError, ValueError) as exc:
        print(f"nexus-canvas gc-blobs: {exc}", file=sys.stderr)
        return 1
    verb = "would delete" if args.dry_run else "deleted"
    for digest in result.deleted:
        print(f"{verb} {digest}")
    print(
        f"{redact_url(url)}: scanned {result.documents} documents ({result.states} stored "
        f"states); {result.blobs} blobs: {result.referenced} referenced, {result.recent} put "
        f"within the last {args.min_age:g} s (kept), {len(result.deleted)} {verb}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
