"""``nexus-canvas`` command line: ``serve``, ``migrate``, ``gc-blobs``, ``service-token``,
``worker`` (more arrive with later features)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from collab import __version__
from collab.exceptions import SettingsError
from collab.observability.logs import configure_logging
from collab.settings import Settings
from foundation.urls import redact_url
from persistence.blob_gc import BlobCollection, collect_blobs
from persistence.errors import StoreError, StoreUnavailable
from persistence.factory import is_postgres_url

log = logging.getLogger("collab.cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nexus-canvas", description=__doc__)
    parser.add_argument("--version", action="version", version=f"nexus-canvas {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a collaboration server instance")
    serve.add_argument("--host", help="bind address (NEXUS_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (NEXUS_PORT, default 8000)")
    serve.add_argument("--data-dir", type=Path, help="embedded store folder (NEXUS_DATA_DIR)")
    serve.add_argument("--database-url", help="store URL: sqlite:///path.db (DATABASE_URL)")
    serve.add_argument("--flush-window", type=float, help="group-commit window in seconds")
    serve.add_argument("--room-idle-seconds", type=float, help="unload idle rooms after this")
    serve.add_argument("--log-level", type=str.upper, help="DEBUG, INFO, WARNING or ERROR")
    serve.add_argument("--log-format", choices=["json", "text"], help="log line format")
    migrate = sub.add_parser("migrate", help="apply pending Postgres schema migrations")
    migrate.add_argument(
        "--database-url", help="postgresql://user@host:5432/db (default: DATABASE_URL)"
    )
    gc = sub.add_parser(
        "gc-blobs", help="delete the blobs no document, version or logged update refers to"
    )
    gc.add_argument("--database-url", help="store URL (DATABASE_URL; default: the SQLite file)")
    gc.add_argument("--data-dir", type=Path, help="embedded store folder (NEXUS_DATA_DIR)")
    gc.add_argument(
        "--min-age",
        type=float,
        default=3600.0,
        help="keep blobs put less than this many seconds ago (default 3600): an upload's "
        "layer may not have reached the store yet",
    )
    gc.add_argument("--dry-run", action="store_true", help="list what would go, delete nothing")
    token = sub.add_parser(
        "service-token", help="print a token for a worker or bot (needs NEXUS_AUTH_SECRET)"
    )
    token.add_argument("name", help="the service's name, e.g. ai-worker-1")
    token.add_argument("--ttl", type=float, help="seconds until it expires (default: never)")
    worker = sub.add_parser(
        "worker", help="run an AI job worker (distributed mode: REDIS_URL and a server URL)"
    )
    worker.add_argument("--server-url", help="any server instance's http(s) URL (NEXUS_SERVER_URL)")
    worker.add_argument("--worker-id", help="this worker's name in the queue (default: host-pid)")
    worker.add_argument("--log-level", type=str.upper, help="DEBUG, INFO, WARNING or ERROR")
    worker.add_argument("--log-format", choices=["json", "text"], help="log line format")
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
    asyncio.run(run_standalone(queue, link, ai_config, worker_id=args.worker_id))
    return 0


def _service_token(args: argparse.Namespace) -> int:
    """Print a token for a worker or bot, signed with the configured secret."""
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"nexus-canvas: {exc}", file=sys.stderr)
        return 2
    if not settings.auth_secret:
        print("nexus-canvas: service tokens need NEXUS_AUTH_SECRET (token mode)", file=sys.stderr)
        return 2
    from collab.auth.tokens import TokenIssuer

    ttl = None if args.ttl is None else float(args.ttl)
    print(TokenIssuer(settings.auth_secret).service(args.name, ttl=ttl))
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
    uvicorn.run(app, host=settings.host, port=settings.port, **uvicorn_options(settings))
    return 0


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
