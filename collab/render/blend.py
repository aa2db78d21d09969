"""The blend modes Skia does not implement, vectorized with numpy.

Skia has the 16 modes of W3C Compositing and Blending Level 1 (see ``compositor.SKIA_MODES``).
The other 11 of the schema are the usual Photoshop definitions, written here as blend
functions ``B(Cb, Cs)`` of unpremultiplied backdrop and source colours in 0..1 and composited
with the same W3C source-over formula Skia uses for its own modes::

    co = cs * (1 - ab) + cb * (1 - as) + as * ab * B(Cb, Cs)      (premultiplied)
    ao = as + ab * (1 - as)

so a mode behaves alike whichever library runs it, semi-transparent pixels included.

=============  =================================================================
linear-burn    max(0, Cb + Cs - 1)
linear-dodge   min(1, Cb + Cs)                               ("add")
subtract       max(0, Cb - Cs)
divide         min(1, Cb / Cs); x / 0 = 1 for x > 0, 0 / 0 = 0
vivid-light    Cs <= 0.5: color-burn(Cb, 2 Cs), else color-dodge(Cb, 2 Cs - 1)
linear-light   clamp(Cb + 2 Cs - 1, 0, 1)
pin-light      Cs <= 0.5: min(Cb, 2 Cs), else max(Cb, 2 Cs - 1)
hard-mix       1 if Cb + Cs >= 1 else 0
darker-color   Cs if Lum(Cs) < Lum(Cb) else Cb   (whole colour; Lum as in W3C)
lighter-color  Cs if Lum(Cs) > Lum(Cb) else Cb
dissolve       a pixel shows the source opaquely where noise(x, y) < as, else the backdrop
=============  =================================================================

color-burn and color-dodge keep the W3C edge rules (Cb = 1 burns to 1, Cb = 0 dodges to 0).
Dissolve's noise is a deterministic integer hash of (layer id, x, y), so every render of a
document is the same; the coordinates are output pixels relative to the layer's origin, so
the pattern travels with the layer and a region render matches the full render.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

Array = np.ndarray
BlendFunction = Callable[[Array, Array], Array]

# Values within EPS of an edge count as on it: unpremultiplying a float32 colour can turn an
# exact 1 into 0.99999994, which must not flip a discontinuous mode (burn, dodge, hard-mix).
EPS = 1e-5
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
# Lum weights (W3C); a fourth, zero weight lets colours carry their alpha channel along.
_LUM = np.array([0.3, 0.59, 0.11, 0.0], dtype=np.float32)


def _color_burn(b: Array, s: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        burned = _ONE - np.minimum(_ONE, (_ONE - b) / s)
    return np.where(b >= _ONE - EPS, _ONE, np.where(s <= EPS, 0, burned)).astype(np.float32)


def _color_dodge(b: Array, s: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        dodged = np.minimum(_ONE, b / (_ONE - s))
    return np.where(b <= EPS, 0, np.where(s >= _ONE - EPS, _ONE, dodged)).astype(np.float32)


def linear_burn(b: Array, s: Array) -> Array:
    out: Array = np.maximum(b + s - _ONE, 0)
    return out


def linear_dodge(b: Array, s: Array) -> Array:
    out: Array = np.minimum(b + s, _ONE)
    return out


def subtract(b: Array, s: Array) -> Array:
    out: Array = np.maximum(b - s, 0)
    return out


def divide(b: Array, s: Array) -> Array:
    out = (b > EPS).astype(np.float32)
    np.divide(b, s, out=out, where=s > 0)
    return np.minimum(out, _ONE)


def vivid_light(b: Array, s: Array) -> Array:
    low = s <= _HALF
    out: Array = np.where(low, _color_burn(b, 2 * s), _color_dodge(b, 2 * s - _ONE))
    return out


def linear_light(b: Array, s: Array) -> Array:
    out: Array = np.clip(b + 2 * s - _ONE, 0, _ONE)
    return out


def pin_light(b: Array, s: Array) -> Array:
    out: Array = np.where(s <= _HALF, np.minimum(b, 2 * s), np.maximum(b, 2 * s - _ONE))
    return out


def hard_mix(b: Array, s: Array) -> Array:
    out: Array = (b + s >= _ONE - EPS).astype(np.float32)
    return out


def _lum(c: Array) -> Array:
    return c @ _LUM[: c.shape[-1]]


def darker_color(b: Array, s: Array) -> Array:
    return np.where((_lum(s) < _lum(b))[..., None], s, b)


def lighter_color(b: Array, s: Array) -> Array:
    return np.where((_lum(s) > _lum(b))[..., None], s, b)


BLEND_FUNCTIONS: dict[str, BlendFunction] = {
    "linear-burn": linear_burn,
    "linear-dodge": linear_dodge,
    "subtract": subtract,
    "divide": divide,
    "vivid-light": vivid_light,
    "linear-light": linear_light,
    "pin-light": pin_light,
    "hard-mix": hard_mix,
    "darker-color": darker_color,
    "lighter-color": lighter_color,
}
NUMPY_MODES = frozenset([*BLEND_FUNCTIONS, "dissolve"])


# Pixels per numpy pass: small enough that a pass's temporaries stay in the CPU cache.
CHUNK_PIXELS = 1 << 12
_TINY = np.float32(1e-30)


def _unpremultiply(color: Array, alpha: Array) -> Array:
    # Premultiplied colour never exceeds its alpha, and is 0 where alpha is 0.
    out: Array = color / np.maximum(alpha, _TINY)
    np.minimum(out, _ONE, out=out)
    return out


def composite(
    dst: Array,
    src: Array,
    mode: str,
    opacity: float,
    *,
    noise: Array | None = None,
) -> None:
    """Blend ``src`` onto ``dst`` in place; both ``(h, w, 4)`` float32, premultiplied.

    ``src`` is the layer's content at full opacity; ``opacity`` (0..1) scales its alpha.
    ``noise`` (``(h, w)`` in [0, 1)) is required for dissolve: see :func:`dissolve_noise`.
    """
    if mode == "dissolve" and noise is None:
        raise ValueError("dissolve needs noise, see dissolve_noise()")
    if mode != "dissolve" and mode not in BLEND_FUNCTIONS:
        raise ValueError(f"{mode!r} is not one of {', '.join(sorted(NUMPY_MODES))}")
    height, width = dst.shape[:2]
    rows = max(1, CHUNK_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        part = slice(top, top + rows)
        if mode == "dissolve":
            assert noise is not None
            _dissolve(dst[part], src[part], opacity, noise[part])
        else:
            _blend(dst[part], src[part], BLEND_FUNCTIONS[mode], np.float32(opacity))


def _blend(dst: Array, src: Array, blend: BlendFunction, alpha: np.float32) -> None:
    # All four channels at once, in contiguous arrays (numpy is several times slower on the
    # strided RGB view of RGBA pixels). With B = 1 for alpha, the colour formula also gives
    # ao = as + ab * (1 - as), so one expression serves every channel.
    da = dst[..., 3:4].copy()
    sa = src[..., 3:4] * alpha
    mixed = blend(_unpremultiply(dst, da), _unpremultiply(src, src[..., 3:4]))
    mixed[..., 3] = _ONE
    mixed *= sa * da
    mixed += src * (alpha * (_ONE - da))
    mixed += dst * (_ONE - sa)
    dst[...] = mixed


def _dissolve(dst: Array, src: Array, opacity: float, noise: Array) -> None:
    shown = noise < src[..., 3] * np.float32(opacity)
    if not shown.any():
        return
    colour = _unpremultiply(src, src[..., 3:4])  # alpha becomes 1 where there is any
    dst[shown] = colour[shown]


def dissolve_seed(layer_id: str) -> int:
    return int.from_bytes(hashlib.sha256(layer_id.encode("utf-8")).digest()[:4], "little")


def _mix32(h: Array) -> Array:
    # murmur3's 32-bit finaliser: every input bit flips about half the output bits.
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def dissolve_noise(seed: int, xs: Array, ys: Array) -> Array:
    """Uniform values in [0, 1) for the grid ``ys x xs`` (integer pixel coordinates, which
    may be negative), a pure function of (seed, x, y)."""
    x = (np.asarray(xs, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32)
    y = (np.asarray(ys, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32)
    row = _mix32(y * np.uint32(0x9E3779B1) ^ np.uint32(seed & 0xFFFFFFFF))
    h = _mix32(row[:, None] ^ (x * np.uint32(0x85EBCA77))[None, :])
    return (h >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))
