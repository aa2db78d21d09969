"""The compiled kernels (collab.render.kernels) against the numpy formulas (collab.render.blend).

blend.composite is the reference implementation of the 11 modes Skia lacks; the kernels are
what the compositor runs. They must agree on random and edge-case pixels, for both kinds of
source (a layer's 8-bit image, Skia's premultiplied float scratch), on windows of larger
arrays (the offsets are where an indexing slip would hide), and leave every pixel outside the
window alone. The end-to-end check of every mode against the published formulas is
test_blend_modes.py.
"""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest

from canvasdoc.canvas import CanvasMeta, Layer, Stroke
from collab.render import blend, compositor, kernels
from collab.render.compositor import Scene, render, to_rgba8

MODES = sorted(kernels.MODE_IDS)
LEVELS = np.array([0, 1, 2, 63, 64, 127, 128, 191, 192, 253, 254, 255], dtype=np.uint8)
SHAPE = (37, 53)  # the window; the arrays around it are larger
BAND_AT, SOURCE_AT = (5, 9), (11, 3)  # (left, top) of the window in each array


def _channels(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """uint8 RGBA, half edge-case levels (0, 1, 127, 128, 254, 255...), half uniform."""
    uniform = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    levels = rng.choice(LEVELS, (*shape, 4))
    return np.where(rng.random((*shape, 1)) < 0.5, levels, uniform).astype(np.uint8)


def _premultiplied(rgba: np.ndarray) -> np.ndarray:
    """8-bit unpremultiplied to float premultiplied, as the kernels read an 8-bit image."""
    unit = np.float32(1.0 / 255.0)
    colour = rgba.astype(np.float32) * unit
    out: np.ndarray = colour.copy()
    out[..., :3] = colour[..., :3] * colour[..., 3:4]
    return out


def _case(mode: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A band (premultiplied float32), an 8-bit source image, and its float scratch."""
    rng = np.random.default_rng([seed, kernels.MODE_IDS[mode]])
    height, width = SHAPE
    band = _premultiplied(_channels(rng, (height + 20, width + 15)))
    image = _channels(rng, (height + 7, width + 30))
    return band, image, _premultiplied(image)


def _window(array: np.ndarray, at: tuple[int, int]) -> np.ndarray:
    left, top = at
    return array[top : top + SHAPE[0], left : left + SHAPE[1]]


def _reference(mode: str, band: np.ndarray, source: np.ndarray, opacity: float) -> np.ndarray:
    """blend.composite on the window, dissolve's noise from blend.dissolve_noise."""
    out = band.copy()
    noise = None
    if mode == "dissolve":
        left, top = SOURCE_AT
        xs = np.arange(left, left + SHAPE[1]) - 20  # the layer's origin is 20 px right of it
        ys = np.arange(top, top + SHAPE[0]) + 7
        noise = blend.dissolve_noise(blend.dissolve_seed("layer-1"), xs, ys)
    window = _window(out, BAND_AT)
    source_window = np.ascontiguousarray(_window(source, SOURCE_AT))
    blend.composite(window, source_window, mode, opacity, noise=noise)
    return out


def _run(kernel: kernels.Kernel, band: np.ndarray, source: np.ndarray, opacity: float) -> None:
    height, width = SHAPE
    left, top = SOURCE_AT
    seed = blend.dissolve_seed("layer-1")
    kernel(band, *BAND_AT, width, height, source, *SOURCE_AT, np.float32(opacity), seed,
           left - 20, top + 7)  # fmt: skip


def _decisive(mode: str, band: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Pixels of the band window where darker/lighter-color's pick is not a float tie (the
    numpy Lum is a matrix product, summed in another order)."""
    keep = np.ones(band.shape[:2], dtype=bool)
    if mode in ("darker-color", "lighter-color"):
        backdrop = _window(band, BAND_AT)
        alpha = np.maximum(backdrop[..., 3:4], np.float32(1e-30))
        cb = np.minimum(backdrop[..., :3] / alpha, 1)
        cs = _window(source, SOURCE_AT)[..., :3].astype(np.float64) / 255
        lum = np.array([0.3, 0.59, 0.11])
        _window(keep, BAND_AT)[...] = np.abs(cb @ lum - cs @ lum) > 1e-5
    return keep


@pytest.mark.parametrize("opacity", [1.0, 0.37])
@pytest.mark.parametrize("source", ["image", "scratch"])
@pytest.mark.parametrize("mode", MODES)
def test_the_kernel_agrees_with_the_numpy_formula(mode: str, source: str, opacity: float) -> None:
    band, image, scratch = _case(mode, seed=17)
    want = _reference(mode, band, scratch, opacity)
    got = band.copy()
    if source == "image":
        _run(kernels.image_kernel(mode), got, image, opacity)
    else:
        _run(kernels.scratch_kernel(mode), got, scratch, opacity)
    keep = _decisive(mode, band, image)
    error = np.abs(got - want).max(axis=2)
    assert np.all(error[~keep] == 0) or mode in ("darker-color", "lighter-color")
    worst = np.unravel_index(np.argmax(np.where(keep, error, 0)), error.shape)
    assert error[keep].max() <= 2e-6, (
        f"{mode} ({source}, opacity {opacity}) off by {error[keep].max():.3g} at {worst}: "
        f"backdrop {band[worst]}, got {got[worst]}, want {want[worst]}"
    )
    outside = np.ones(error.shape, dtype=bool)
    _window(outside, BAND_AT)[...] = False
    assert np.array_equal(got[outside], band[outside]), f"{mode} wrote outside its window"


def test_dissolve_noise_is_blend_dissolve_noise_bit_for_bit() -> None:
    seed = blend.dissolve_seed("grain")
    xs = np.array([-(2**31), -70000, -1, 0, 1, 2, 255, 4096, 70001, 2**31 - 1])
    ys = np.array([-(2**31), -3, 0, 5, 2047, 2**31 - 1])
    want = blend.dissolve_noise(seed, xs, ys)
    got = np.array(
        [[kernels._noise(kernels._noise_row(seed, int(y)), int(x)) for x in xs] for y in ys],
        dtype=np.float32,
    )
    assert np.array_equal(got, want)


def test_to_rgba8_is_the_numpy_conversion_bit_for_bit() -> None:
    rng = np.random.default_rng(8)
    pixels = rng.random((61, 83, 4), dtype=np.float32) * np.float32(1.2) - np.float32(0.1)
    pixels[::3, :, 3] = 0  # transparent rows, whatever their colour
    pixels[::5, :, :3] *= pixels[::5, :, 3:4]  # and properly premultiplied ones
    out = np.empty((61, 83, 4), dtype=np.uint8)
    kernels.to_rgba8(pixels, out)
    assert np.array_equal(out, to_rgba8(pixels))


def test_an_unknown_mode_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'multiply'"):
        kernels.image_kernel("multiply")


# -- the compositor with the kernels against the compositor with blend.composite ---------------


def _numpy_kernel(
    mode: str,
    premultiply: bool,
    dst: np.ndarray,
    left: int,
    top: int,
    width: int,
    height: int,
    src: np.ndarray,
    sx: int,
    sy: int,
    alpha: np.float32,
    seed: int,
    nx: int,
    ny: int,
) -> None:
    source = src[sy : sy + height, sx : sx + width]
    source = _premultiplied(source) if premultiply else np.ascontiguousarray(source)
    noise = None
    if mode == "dissolve":
        noise = blend.dissolve_noise(seed, np.arange(nx, nx + width), np.arange(ny, ny + height))
    target = dst[top : top + height, left : left + width]
    blend.composite(target, source, mode, float(alpha), noise=noise)


def _numpy_to_rgba8(src: np.ndarray, out: np.ndarray) -> None:
    out[...] = to_rgba8(src)


NUMPY_KERNELS = SimpleNamespace(
    image_kernel=lambda mode: partial(_numpy_kernel, mode, True),
    scratch_kernel=lambda mode: partial(_numpy_kernel, mode, False),
    to_rgba8=_numpy_to_rgba8,
)


def _document(mode: str) -> tuple[Scene, dict[str, np.ndarray]]:
    """Random images in ``mode`` at an integer and a fractional offset over a random backdrop,
    and a paint layer in ``mode`` (the kernels' two sources: the image, Skia's scratch)."""
    rng = np.random.default_rng([3, kernels.MODE_IDS[mode]])
    images = {
        "a" * 64: _channels(rng, (90, 140)),
        "b" * 64: _channels(rng, (70, 60)),
    }
    strokes = tuple(
        Stroke(id=f"s{i}", color="#40a0c0", size=9 + 4 * i, opacity=70, points=(5, 5, 80, 60 + i))
        for i in range(3)
    )
    layers = (
        Layer(id="backdrop", blob="a" * 64, x=3, y=-4),
        Layer(id="straight", blob="b" * 64, x=17, y=9, blend_mode=mode, opacity=80),
        Layer(id="shifted", blob="b" * 64, x=60.4, y=21.7, blend_mode=mode, opacity=55),
        Layer(id="ink", kind="paint", strokes=strokes, x=2, y=1, blend_mode=mode, opacity=90),
    )
    return Scene(CanvasMeta(width=120, height=80, background="#20202080"), layers), images


@pytest.mark.parametrize("scale", [1.0, 0.6])
@pytest.mark.parametrize("mode", MODES)
def test_the_compositor_renders_as_with_the_numpy_formulas(
    mode: str, scale: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene, images = _document(mode)
    fast = render(scene, images, scale=scale)
    monkeypatch.setattr(compositor, "_kernels", lambda: NUMPY_KERNELS)
    reference = render(scene, images, scale=scale)
    error = np.abs(fast.astype(int) - reference.astype(int))
    assert error.max() <= 1, f"{mode} at scale {scale}: off by {error.max()}/255"
    assert np.mean(error > 0) < 0.01  # the odd rounding tie, not a pattern


@pytest.mark.parametrize(("x", "y"), [(0, 0), (7, -5), (13.5, 4.25)])
def test_dissolve_shows_the_source_where_the_layers_own_noise_is_below_its_alpha(
    x: float, y: float
) -> None:
    """The pattern is blend.dissolve_noise of the pixel counted from the layer's origin."""
    size, alpha = 64, 128
    source = np.zeros((size, size, 4), dtype=np.uint8)
    source[...] = (250, 20, 120, alpha)
    layers = (Layer(id="grain", blob="c" * 64, x=x, y=y, blend_mode="dissolve"),)
    scene = Scene(CanvasMeta(width=80, height=80, background="#0a141e"), layers)
    out = render(scene, {"c" * 64: source})
    left, top = round(x), round(y)
    xs, ys = np.arange(80) - left, np.arange(80) - top
    noise = blend.dissolve_noise(blend.dissolve_seed("grain"), xs, ys)
    inside = np.zeros((80, 80), dtype=bool)
    inside[max(top, 0) : top + size, max(left, 0) : left + size] = True
    shown = np.all(out == (250, 20, 120, 255), axis=2)
    if float(x).is_integer() and float(y).is_integer():
        assert np.array_equal(shown, inside & (noise < np.float32(alpha / 255)))
    else:  # resampled: inside the edges the alpha is still exactly 128
        core = np.zeros_like(inside)
        core[top + 2 : top + size - 2, left + 2 : left + size - 2] = True
        want = noise < np.float32(alpha / 255)
        assert np.array_equal(shown[core], want[core])
