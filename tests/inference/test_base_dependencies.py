"""`make install` (no extras) brings background removal's libraries and never torch: the
base dependencies in pyproject.toml, followed through every installed distribution's own
requirements (markers evaluated with the extras asked for), include rembg and onnxruntime,
not torch."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _closure(requirements: list[str]) -> set[str]:
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(line) for line in requirements]
    while todo:
        req = todo.pop()
        key = (_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:
            continue  # not installed here: its own requirements cannot be followed
        environments = [{"extra": extra} for extra in req.extras] or [{"extra": ""}]
        for line in requires:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate(env) for env in environments):
                todo.append(sub)
    return {name for name, _ in seen}


def test_the_base_install_has_background_removal_and_no_torch() -> None:
    base = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    closure = _closure(base)
    assert {"rembg", "onnxruntime", "pooch", "pymatting", "scikit-image"} <= closure
    assert not {"torch", "torchvision", "diffusers", "transformers"} & closure, sorted(closure)
