"""The shared blend-mode vectors (tests/vectors/blend_modes.json) hold for the server.

The browser's compositor is checked against the same file (client/web/src/render/
blendFormulas.test.ts), so both sides agree with the reference formulas and with each other;
the dissolve seeds and noise values must be bit for bit those of collab.render.blend.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from collab.render import blend
from tests.collab.render.test_blend_modes import SEPARABLE_MODES, _decisive, composite

VECTORS_DIR = Path(__file__).resolve().parents[2] / "vectors"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_blend_vectors", VECTORS_DIR / "make_blend_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS_DIR / "blend_modes.json").read_text("utf-8"))
    return data


def test_the_file_is_what_the_generator_writes_now() -> None:
    generator = _generator()
    current = (VECTORS_DIR / "blend_modes.json").read_text("utf-8")
    assert current == generator.render_json(generator.build()), (
        "tests/vectors/blend_modes.json is stale: run python tests/vectors/make_blend_vectors.py"
    )


def test_every_mode_but_dissolve_has_vectors(vectors: dict[str, Any]) -> None:
    assert sorted(vectors["expected"]) == sorted(SEPARABLE_MODES)
    assert len(vectors["backdrop"]) == len(vectors["source"]) >= 50


@pytest.mark.parametrize("opacity", [1.0, 0.6])
@pytest.mark.parametrize("mode", SEPARABLE_MODES)
def test_the_compositor_renders_the_vectors(
    vectors: dict[str, Any], mode: str, opacity: float
) -> None:
    backdrop = np.array(vectors["backdrop"], dtype=np.uint8)
    source = np.array(vectors["source"], dtype=np.uint8)
    want = np.array(vectors["expected"][mode][f"{opacity:g}"], dtype=np.float64)
    got = composite(mode, backdrop, source, opacity).astype(np.float64)
    keep = _decisive(mode, backdrop, source)
    error = np.abs(got - want)[keep]
    worst = int(np.argmax(error.max(axis=1)))
    assert error.max() <= 1.0 + 1e-3, (
        f"{mode} at opacity {opacity}: off by {error.max():.3f}/255 for backdrop "
        f"{backdrop[keep][worst]} and source {source[keep][worst]}"
    )


def test_dissolve_seeds_and_noise_are_the_servers(vectors: dict[str, Any]) -> None:
    seeds = vectors["dissolve"]["seeds"]
    for layer_id, seed in seeds.items():
        assert blend.dissolve_seed(layer_id) == seed
    for item in vectors["dissolve"]["noise"]:
        seed = seeds[item["layer_id"]]
        value = blend.dissolve_noise(seed, np.array([item["x"]]), np.array([item["y"]]))[0, 0]
        assert float(value) == item["noise"]
