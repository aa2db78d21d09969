"""Compiled kernels: the 11 blend modes Skia lacks, and the final conversion to 8-bit.

The formulas are those of :mod:`collab.render.blend` (which stays the numpy reference, and
the documentation of each mode), computed pixel by pixel in one pass with numba instead of
a dozen full-size numpy temporaries per layer: float32 arithmetic in the same order, the same
``EPS`` edge rules, the same dissolve hash. ``tests/collab/render/test_kernels.py`` checks
that both agree on random and edge-case inputs for every mode.

Two sources feed the blend: a raster layer's own 8-bit image (unpremultiplied RGBA, read in
place: a pixel-aligned layer needs no scratch surface at all) and Skia's premultiplied float
scratch of anything it had to rasterize or resample. There is one kernel per mode and source
(22), each taking whole C-contiguous arrays and a window, releasing the GIL (``nogil``).
Compiling all of them takes about 30 s of CPU, once per installation: ``cache=True`` keeps the
machine code next to this file (or in ``NUMBA_CACHE_DIR``), ``python -m collab.render.kernels``
fills that cache at install time, and a process loads a mode's kernel the first time it
blends in that mode (about 15 ms; 1.3 s to compile it if the cache is cold). The compositor
imports this module at its first render, so a server process that hands renders to workers
never loads numba.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit, types

log = logging.getLogger(__name__)

# Mode numbers for the kernels; dissolve is not a blend function, so it comes last.
MODE_IDS: dict[str, int] = {
    "linear-burn": 0,
    "linear-dodge": 1,
    "subtract": 2,
    "divide": 3,
    "vivid-light": 4,
    "linear-light": 5,
    "pin-light": 6,
    "hard-mix": 7,
    "darker-color": 8,
    "lighter-color": 9,
    "dissolve": 10,
}
_DARKER, _LIGHTER, _DISSOLVE = 8, 9, 10

# The constants of blend.py, typed float32 so that numba keeps the arithmetic in float32.
_EPS = np.float32(1e-5)
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)
_TWO = np.float32(2.0)
_HALF = np.float32(0.5)
_TINY = np.float32(1e-30)
_INV255 = np.float32(1.0 / 255.0)
_F255 = np.float32(255.0)
_LUM_R, _LUM_G, _LUM_B = np.float32(0.3), np.float32(0.59), np.float32(0.11)
_NOISE_UNIT = np.float32(1.0 / (1 << 24))
_M32 = 0xFFFFFFFF

# Scalars inside a kernel are whatever numba infers (float32 here); to mypy they are Any.
Scalar = Any
Kernel = Callable[..., None]
_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(function: _F) -> _F:
    """numba-compile ``function``, cached on disk, without the GIL, with IEEE division (a
    division by zero gives inf or nan, not an exception: the formulas select around it)."""
    # A Dispatcher calls through to the function it compiled: to its callers, it is that.
    return cast(_F, njit(cache=True, nogil=True, error_model="numpy")(function))


def _jit_eager(signature: Any) -> Callable[[_F], _F]:
    """As :func:`_jit`, compiled now (or loaded from the cache) for exactly ``signature``."""

    def compile_now(function: _F) -> _F:
        return cast(_F, njit([signature], cache=True, nogil=True, error_model="numpy")(function))

    return compile_now


_band = types.Array(types.float32, 3, "C")
_image = types.Array(types.uint8, 3, "C", readonly=True)
_scratch = types.Array(types.float32, 3, "C", readonly=True)
_out8 = types.Array(types.uint8, 3, "C")


@_jit
def _vivid_light(b: Scalar, s: Scalar) -> Scalar:
    # color-burn(b, 2s) or color-dodge(b, 2s - 1), with one division; every value is computed
    # and then selected, so that a row vectorizes.
    low = s <= _HALF
    burn_s = _TWO * s
    dodge_s = burn_s - _ONE
    numerator = (_ONE - b) if low else b
    denominator = burn_s if low else _ONE - dodge_s
    ratio = min(_ONE, numerator / denominator)
    burned = _ONE - ratio
    burned = _ZERO if burn_s <= _EPS else burned
    burned = _ONE if b >= _ONE - _EPS else burned
    dodged = _ONE if dodge_s >= _ONE - _EPS else ratio
    dodged = _ZERO if b <= _EPS else dodged
    return burned if low else dodged


@_jit
def _separable(mode: int, b: Scalar, s: Scalar) -> Scalar:
    # ``mode`` is a compile-time constant in each kernel: all but one branch fold away.
    if mode == 0:  # linear-burn
        return max(b + s - _ONE, _ZERO)
    if mode == 1:  # linear-dodge
        return min(b + s, _ONE)
    if mode == 2:  # subtract
        return max(b - s, _ZERO)
    if mode == 3:  # divide
        edge = _ONE if b > _EPS else _ZERO
        quotient = min(b / s, _ONE)
        return quotient if s > _ZERO else edge
    if mode == 4:  # vivid-light
        return _vivid_light(b, s)
    if mode == 5:  # linear-light
        return min(max(b + _TWO * s - _ONE, _ZERO), _ONE)
    if mode == 6:  # pin-light
        low = min(b, _TWO * s)
        high = max(b, _TWO * s - _ONE)
        return low if s <= _HALF else high
    # hard-mix
    return _ONE if b + s >= _ONE - _EPS else _ZERO


@_jit
def _mix32(h: int) -> int:
    # murmur3's finaliser on a 32-bit value held in an int64, as blend._mix32 on uint32.
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


@_jit
def _noise_row(seed: int, y: int) -> int:
    return _mix32((((y & _M32) * 0x9E3779B1) & _M32) ^ (seed & _M32))


@_jit
def _noise(row: int, x: int) -> Scalar:
    h = _mix32(row ^ (((x & _M32) * 0x85EBCA77) & _M32))
    return np.float32(h >> 8) * _NOISE_UNIT


@_jit
def _mix(
    mode: int, b0: Scalar, b1: Scalar, b2: Scalar, c0: Scalar, c1: Scalar, c2: Scalar
) -> tuple[Scalar, Scalar, Scalar]:
    """B(Cb, Cs) of the colour: separable modes channel by channel, or a whole colour."""
    if mode == _DARKER or mode == _LIGHTER:
        lum_s = c0 * _LUM_R + c1 * _LUM_G + c2 * _LUM_B
        lum_b = b0 * _LUM_R + b1 * _LUM_G + b2 * _LUM_B
        pick = lum_s < lum_b if mode == _DARKER else lum_s > lum_b
        return (c0 if pick else b0), (c1 if pick else b1), (c2 if pick else b2)
    return _separable(mode, b0, c0), _separable(mode, b1, c1), _separable(mode, b2, c2)


@_jit
def _load_image(pixels: np.ndarray, p: int) -> tuple[Scalar, ...]:
    """An 8-bit unpremultiplied pixel: premultiplied (s0..s3) and unpremultiplied colour."""
    a = np.float32(pixels[p + 3]) * _INV255
    c0 = np.float32(pixels[p]) * _INV255
    c1 = np.float32(pixels[p + 1]) * _INV255
    c2 = np.float32(pixels[p + 2]) * _INV255
    return c0 * a, c1 * a, c2 * a, a, c0, c1, c2


@_jit
def _load_scratch(pixels: np.ndarray, p: int) -> tuple[Scalar, ...]:
    """A premultiplied float pixel, and its colour unpremultiplied as blend._unpremultiply."""
    s0, s1, s2, s3 = pixels[p], pixels[p + 1], pixels[p + 2], pixels[p + 3]
    unit = max(s3, _TINY)
    return s0, s1, s2, s3, min(s0 / unit, _ONE), min(s1 / unit, _ONE), min(s2 / unit, _ONE)


@_jit
def _row(array: np.ndarray, y: int, x: int, width: int) -> np.ndarray:
    """Pixels x..x+width of row y of a C-contiguous (h, w, 4) array, as a flat view."""
    flat = array.reshape(-1)
    start = (y * array.shape[1] + x) * 4
    return flat[start : start + width * 4]


def _kernel(mode: int, premultiplied: bool) -> Kernel:
    """A kernel for one mode and one kind of source (8-bit image, or premultiplied float
    scratch); both are constants in its code, so every other branch folds away. (Closure
    variables must be plain values: numba's cache keys a closure on their pickle.)

    Its arguments: the band, the window of it to blend (left, top, width, height), the source
    and the window's top-left in it, the opacity, dissolve's seed and the window's top-left
    counted from the layer's origin. The loop body is written out here, not in a helper:
    LLVM vectorizes the loop over a flat row indexed from 0 (3-4x faster with AVX2), but not
    a loop that still calls a helper it found too big to inline, nor one over offset 3-d
    indices, whose negative-index wraparound it cannot rule out."""

    def kernel(dst, left, top, width, height, src, sx, sy, alpha, seed, nx, ny):  # type: ignore[no-untyped-def]
        for y in range(height):
            row = _noise_row(seed, ny + y)
            out, pixels = _row(dst, top + y, left, width), _row(src, sy + y, sx, width)
            for i in range(width):
                p = 4 * i
                if premultiplied:
                    s0, s1, s2, s3, c0, c1, c2 = _load_scratch(pixels, p)
                else:
                    s0, s1, s2, s3, c0, c1, c2 = _load_image(pixels, p)
                d0, d1, d2, da = out[p], out[p + 1], out[p + 2], out[p + 3]
                if mode == _DISSOLVE:
                    # the source at full opacity where noise < its alpha, else the backdrop
                    shown = _noise(row, nx + i) < s3 * alpha
                    out[p] = c0 if shown else d0
                    out[p + 1] = c1 if shown else d1
                    out[p + 2] = c2 if shown else d2
                    out[p + 3] = min(s3 / max(s3, _TINY), _ONE) if shown else da
                    continue
                # blend._blend: B for the colour, 1 for the alpha, then source-over
                unit = max(da, _TINY)
                b0, b1, b2 = min(d0 / unit, _ONE), min(d1 / unit, _ONE), min(d2 / unit, _ONE)
                m0, m1, m2 = _mix(mode, b0, b1, b2, c0, c1, c2)
                sa = s3 * alpha
                both = sa * da
                alone = alpha * (_ONE - da)
                rest = _ONE - sa
                out[p] = m0 * both + s0 * alone + d0 * rest
                out[p + 1] = m1 * both + s1 * alone + d1 * rest
                out[p + 2] = m2 * both + s2 * alone + d2 * rest
                out[p + 3] = both + s3 * alone + da * rest

    source = _scratch if premultiplied else _image
    window = (types.int64,) * 4
    at = (types.int64,) * 2
    signature = types.void(_band, *window, source, *at, types.float32, types.int64, *at)
    compiled: Kernel = _jit_eager(signature)(kernel)
    return compiled


@_jit_eager(types.void(_scratch, _out8))
def to_rgba8(src: np.ndarray, out: np.ndarray) -> None:
    """compositor.to_rgba8 in one pass: premultiplied float RGBA to 8-bit unpremultiplied,
    rounding half to even, into ``out``."""
    pixels, result = src.reshape(-1), out.reshape(-1)
    for i in range(pixels.size // 4):
        p = 4 * i
        a = min(max(pixels[p + 3], _ZERO), _ONE)
        unit = max(a, _TINY)
        for c in range(3):
            value = min(max(pixels[p + c] / unit, _ZERO), _ONE)
            result[p + c] = np.uint8(np.rint(value * _F255))
        result[p + 3] = np.uint8(np.rint(a * _F255))


@functools.cache
def image_kernel(mode: str) -> Kernel:
    """The kernel blending an 8-bit image in ``mode``: compiled, or loaded from numba's cache,
    on first use in a process (about 1.5 s to compile one, 0.1 s to load it)."""
    return _timed(mode, premultiplied=False)


@functools.cache
def scratch_kernel(mode: str) -> Kernel:
    """The kernel blending a premultiplied float32 scratch in ``mode``."""
    return _timed(mode, premultiplied=True)


def _timed(mode: str, *, premultiplied: bool) -> Kernel:
    if mode not in MODE_IDS:
        raise ValueError(f"mode must be one of {', '.join(MODE_IDS)}, got {mode!r}")
    started = time.perf_counter()
    kernel = _kernel(MODE_IDS[mode], premultiplied)
    seconds = round(time.perf_counter() - started, 3)
    log.debug(
        "blend kernel ready",
        extra={"mode": mode, "premultiplied": premultiplied, "seconds": seconds},
    )
    return kernel


def load_all() -> float:
    """Compile (or load from the cache) every kernel now; the seconds it took."""
    started = time.perf_counter()
    for mode in MODE_IDS:
        image_kernel(mode)
        scratch_kernel(mode)
    return time.perf_counter() - started


if __name__ == "__main__":
    # `python -m collab.render.kernels`: fill numba's cache at install or image build time.
    print(f"blend kernels compiled or loaded in {load_all():.1f} s")
