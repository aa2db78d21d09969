"""Each of the 27 blend modes against values computed here, from the published formulas.

The reference is written from the specifications, in float64, without touching the
compositor's helpers: W3C Compositing and Blending Level 1 (sections 5.1-5.9 and 10 for
the general formula) for its 16 modes, the usual Photoshop definitions for the rest. The
compositor renders a two-layer document (backdrop layer, then a source layer in the mode
under test) and every output pixel must be within 1/255 of the reference.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from canvasdoc.canvas import BLEND_MODES, CanvasMeta, Layer
from collab.render.compositor import Scene, render

F64 = np.ndarray

# -- reference formulas ---------------------------------------------------------------------


def lum(c: F64) -> F64:
    return 0.3 * c[..., 0] + 0.59 * c[..., 1] + 0.11 * c[..., 2]


def clip_color(c: F64) -> F64:
    out = c.copy()
    for i in range(len(c)):
        col = c[i]
        lu = lum(col)
        n, x = col.min(), col.max()
        if n < 0:
            col = lu + (col - lu) * lu / (lu - n)
        if x > 1:
            col = lu + (col - lu) * (1 - lu) / (x - lu)
        out[i] = col
    return out


def set_lum(c: F64, target: F64) -> F64:
    return clip_color(c + (target - lum(c))[..., None])


def sat(c: F64) -> F64:
    return c.max(axis=-1) - c.min(axis=-1)


def set_sat(c: F64, s: F64) -> F64:
    out = np.zeros_like(c)
    for i in range(len(c)):
        order = np.argsort(c[i], kind="stable")
        lo, mid, hi = order
        if c[i][hi] > c[i][lo]:
            out[i][mid] = (c[i][mid] - c[i][lo]) * s[i] / (c[i][hi] - c[i][lo])
            out[i][hi] = s[i]
    return out


def hard_light(b: F64, s: F64) -> F64:
    return np.where(s <= 0.5, b * 2 * s, b + (2 * s - 1) - b * (2 * s - 1))  # multiply / screen


def color_dodge(b: F64, s: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0.0, np.where(s >= 1, 1.0, np.minimum(1, b / (1 - s))))


def color_burn(b: F64, s: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 1, 1.0, np.where(s <= 0, 0.0, 1 - np.minimum(1, (1 - b) / s)))


def soft_light(b: F64, s: F64) -> F64:
    d = np.where(b <= 0.25, ((16 * b - 12) * b + 4) * b, np.sqrt(b))
    return np.where(s <= 0.5, b - (1 - 2 * s) * b * (1 - b), b + (2 * s - 1) * (d - b))


def divide(b: F64, s: F64) -> F64:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s == 0, np.where(b > 0, 1.0, 0.0), np.minimum(1, b / s))


def whole_color(pick_source: F64, b: F64, s: F64) -> F64:
    return np.where(pick_source[..., None], s, b)


REFERENCE = {
    # W3C Compositing and Blending Level 1
    "normal": lambda b, s: s,
    "multiply": lambda b, s: b * s,
    "screen": lambda b, s: b + s - b * s,
    "overlay": lambda b, s: hard_light(s, b),
    "darken": np.minimum,
    "lighten": np.maximum,
    "color-dodge": color_dodge,
    "color-burn": color_burn,
    "hard-light": hard_light,
    "soft-light": soft_light,
    "difference": lambda b, s: np.abs(b - s),
    "exclusion": lambda b, s: b + s - 2 * b * s,
    "hue": lambda b, s: set_lum(set_sat(s, sat(b)), lum(b)),
    "saturation": lambda b, s: set_lum(set_sat(b, sat(s)), lum(b)),
    "color": lambda b, s: set_lum(s, lum(b)),
    "luminosity": lambda b, s: set_lum(b, lum(s)),
    # Photoshop
    "linear-burn": lambda b, s: np.maximum(0, b + s - 1),
    "linear-dodge": lambda b, s: np.minimum(1, b + s),
    "subtract": lambda b, s: np.maximum(0, b - s),
    "divide": divide,
    "vivid-light": lambda b, s: np.where(s <= 0.5, color_burn(b, 2 * s), color_dodge(b, 2 * s - 1)),
    "linear-light": lambda b, s: np.clip(b + 2 * s - 1, 0, 1),
    "pin-light": lambda b, s: np.where(s <= 0.5, np.minimum(b, 2 * s), np.maximum(b, 2 * s - 1)),
    "hard-mix": lambda b, s: np.where(b + s >= 1, 1.0, 0.0),
    "darker-color": lambda b, s: whole_color(lum(s) < lum(b), b, s),
    "lighter-color": lambda b, s: whole_color(lum(s) > lum(b), b, s),
}


def reference(mode: str, backdrop: np.ndarray, source: np.ndarray, opacity: float) -> F64:
    """W3C general formula (source-over with blending), unpremultiplied result in 0..1."""
    cb, ab = backdrop[:, :3] / 255, backdrop[:, 3:] / 255
    cs, a_s = source[:, :3] / 255, source[:, 3:] / 255 * opacity
    mixed = REFERENCE[mode](cb, cs)
    co = a_s * (1 - ab) * cs + a_s * ab * mixed + (1 - a_s) * ab * cb
    ao = a_s + ab * (1 - a_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        colour = np.where(ao > 0, co / ao, 0)
    return np.concatenate([colour, ao], axis=1)


# -- the pixel pairs ---------------------------------------------------------------------------


def pixel_pairs() -> tuple[np.ndarray, np.ndarray]:
    """Backdrop and source pixels (uint8 RGBA): hand-picked edge cases, then random ones,
    opaque, semi-transparent and fully transparent."""
    levels = [0, 1, 64, 127, 128, 191, 254, 255]
    alphas = [255, 255, 200, 128, 37, 1, 0]
    rows_b, rows_s = [], []
    rng = np.random.default_rng(20261126)
    for i, (lb, ls) in enumerate((lb, ls) for lb in levels for ls in levels):
        rows_b.append([lb, 255 - lb, (lb * 7) % 256, alphas[i % len(alphas)]])
        rows_s.append([ls, (ls * 3) % 256, 255 - ls, alphas[(i // 3) % len(alphas)]])
    for _ in range(600):
        rows_b.append([*rng.integers(0, 256, 3), rng.choice([255, 255, *rng.integers(0, 256, 2)])])
        rows_s.append([*rng.integers(0, 256, 3), rng.choice([255, 255, *rng.integers(0, 256, 2)])])
    return np.array(rows_b, dtype=np.uint8), np.array(rows_s, dtype=np.uint8)


BLOB_B, BLOB_S = "b" * 64, "5" * 64


def composite(mode: str, backdrop: np.ndarray, source: np.ndarray, opacity: float) -> np.ndarray:
    n = len(backdrop)
    scene = Scene(
        CanvasMeta(width=n, height=1, background="transparent"),
        (
            Layer(id="backdrop", kind="raster", blob=BLOB_B),
            Layer(id="source", kind="raster", blob=BLOB_S, blend_mode=mode, opacity=opacity * 100),
        ),
    )
    images = {BLOB_B: backdrop.reshape(1, n, 4).copy(), BLOB_S: source.reshape(1, n, 4).copy()}
    return render(scene, images)[0]


def _decisive(mode: str, backdrop: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Pixels away from a mode's discontinuity (where either side is equally right)."""
    cb, cs = backdrop[:, :3] / 255, source[:, :3] / 255
    if mode in ("darker-color", "lighter-color"):
        return np.abs(lum(cs) - lum(cb)) > 1e-3
    return np.ones(len(backdrop), dtype=bool)


SEPARABLE_MODES = [m for m in BLEND_MODES if m != "dissolve"]


def test_reference_covers_every_mode_but_dissolve() -> None:
    assert sorted(REFERENCE) == sorted(SEPARABLE_MODES)
    assert len(BLEND_MODES) == 27


@pytest.mark.parametrize("opacity", [1.0, 0.6])
@pytest.mark.parametrize("mode", SEPARABLE_MODES)
def test_mode_matches_the_published_formula(mode: str, opacity: float) -> None:
    backdrop, source = pixel_pairs()
    got = composite(mode, backdrop, source, opacity).astype(np.float64)
    want = reference(mode, backdrop, source, opacity) * 255
    keep = _decisive(mode, backdrop, source)
    error = np.abs(got - want)[keep]
    worst = int(np.argmax(error.max(axis=1)))
    assert error.max() <= 1.0 + 1e-6, (
        f"{mode} at opacity {opacity}: off by {error.max():.3f}/255 for backdrop "
        f"{backdrop[keep][worst]} and source {source[keep][worst]}: got {got[keep][worst]}, "
        f"want {want[keep][worst].round(3)}"
    )


# -- dissolve ----------------------------------------------------------------------------------


def _dissolve_scene(alpha: int, opacity: float, layer_id: str = "grain") -> tuple[Scene, dict]:
    size = 128
    backdrop = np.zeros((size, size, 4), dtype=np.uint8)
    backdrop[...] = (10, 200, 30, 255)
    source = np.zeros((size, size, 4), dtype=np.uint8)
    source[...] = (250, 20, 120, alpha)
    scene = Scene(
        CanvasMeta(width=size, height=size, background="transparent"),
        (
            Layer(id="backdrop", blob=BLOB_B),
            Layer(id=layer_id, blob=BLOB_S, blend_mode="dissolve", opacity=opacity * 100),
        ),
    )
    return scene, {BLOB_B: backdrop, BLOB_S: source}


@pytest.mark.parametrize(("alpha", "opacity"), [(255, 1.0), (0, 1.0), (128, 1.0), (255, 0.25)])
def test_dissolve_shows_the_source_opaquely_with_probability_alpha(
    alpha: int, opacity: float
) -> None:
    """Photoshop's dissolve: each pixel is either the source at full opacity or the backdrop
    untouched, the source chosen with probability (source alpha x layer opacity)."""
    scene, images = _dissolve_scene(alpha, opacity)
    out = render(scene, images).reshape(-1, 4)
    is_source = np.all(out == (250, 20, 120, 255), axis=1)
    is_backdrop = np.all(out == (10, 200, 30, 255), axis=1)
    assert np.all(is_source | is_backdrop)
    expected = alpha / 255 * opacity
    assert abs(is_source.mean() - expected) < 0.02, (is_source.mean(), expected)


def test_dissolve_is_deterministic_per_layer_and_moves_with_it() -> None:
    scene, images = _dissolve_scene(128, 1.0)
    first = render(scene, images)
    assert np.array_equal(first, render(scene, images))
    other_id, _ = _dissolve_scene(128, 1.0, layer_id="other-grain")
    assert not np.array_equal(first, render(other_id, images))
    # A region render matches the same pixels of the full render.
    from collab.render.compositor import Region

    region = render(scene, images, region=Region(17, 33, 40, 20))
    assert np.array_equal(region, first[33:53, 17:57])
    # Moving the layer moves its pattern with it.
    layers = (scene.layers[0], replace(scene.layers[1], x=5, y=3))
    moved = render(Scene(scene.meta, layers), images)
    assert np.array_equal(moved[3:60, 5:60], first[0:57, 0:55])
