"""``python -m bench.chaos``: the chaos soak (see bench/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from bench.chaos.config import DEFAULT_DATABASE_URL, ChaosConfig
from bench.chaos.run import run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument(
        "--duration", type=float, help="seconds of faults (default 600; --short: one cycle)"
    )
    parser.add_argument("--short", action="store_true", help="every fault once, about 2 minutes")
    parser.add_argument("--json", type=Path, help="write the report as JSON to this file")
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--documents", type=int, default=12)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="Postgres to use (a schema is created and dropped; env TEST_DATABASE_URL)",
    )
    parser.add_argument("--work-dir", type=Path, help="keep logs and data here")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the harness at INFO")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = ChaosConfig.short() if args.short else ChaosConfig()
    config = replace(
        config,
        clients=args.clients,
        documents=args.documents,
        instances=args.instances,
        seed=args.seed,
        database_url=args.database_url,
        work_dir=args.work_dir,
    )
    if args.duration is not None:
        config = replace(config, duration=args.duration)
    report = asyncio.run(run(config))
    print(report.table())
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_json(), indent=2, default=str))
    return 0 if not report.violations else 1


if __name__ == "__main__":
    sys.exit(main())
