"""``nexus-canvas`` command line: ``serve`` (more subcommands arrive with later features)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from collab import __version__
from collab.exceptions import SettingsError
from collab.logs import configure_logging
from collab.settings import Settings

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2


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

    log.info(
        "starting",
        extra={"host": settings.host, "port": settings.port, "store": settings.store_url},
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws_max_size=settings.max_frame_bytes,
        log_config=None,
        lifespan="on",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
