"""Render a canvas document to RGBA pixels, as a person sees it.

Every visible layer, bottom first, is drawn with its offset, opacity and blend mode onto the
document's background. Staged proposals (layers with a ``proposal``: AI results awaiting
review) are not part of the document yet: they are left out unless a render asks for them.
The working surface is premultiplied RGBA in 32-bit float (Skia's ``kRGBA_F32`` raster
surface over a numpy array), so blending semi-transparent pixels loses nothing to 8-bit
rounding; the result is rounded to 8-bit, unpremultiplied RGBA once, at the end. Colours are
not colour-managed: values are blended as stored (sRGB-encoded), as browsers and image editors
blend them.

- The 16 W3C modes are Skia's own (``SKIA_MODES``), drawn with the mode and the opacity on
  the paint; the other 11 (``blend.NUMPY_MODES``, whose formulas :mod:`collab.render.blend`
  defines) are blended by the compiled kernels of :mod:`collab.render.kernels`, in one pass
  per pixel, straight from the layer's 8-bit image or from Skia's scratch of its content.
- A raster layer at an integer offset and scale 1 is copied pixel for pixel. Anything Skia
  must resample or rasterize (strokes, scaled or sub-pixel images) is drawn tile by tile on
  a grid of ``TILE`` output pixels fixed at the canvas origin, then blended: Skia's
  antialiasing depends on the clip it draws into, and the fixed grid makes any region, band
  or full render of a document agree to the bit.
- Large outputs are rendered in horizontal bands (about ``BAND_PIXELS`` each), which bounds
  memory; a band is just a region.

Rendering is a pure function of the scene and the images: the same document gives the same
bytes on every run and on every replica (there is no randomness; dissolve hashes pixel
coordinates). Skia holds the GIL while it draws, so servers run this in worker processes
(see :mod:`collab.render.pool`), never on the event loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import skia  # type: ignore[import-not-found]  # skia-python ships no type stubs
from pycrdt import Doc

from canvasdoc.canvas import Canvas, CanvasMeta, Layer, Stroke
from collab.render import blend
from collab.render.strokes import (
    Bounds,
    draw_strokes,
    parse_color,
    stroke_bounds,
    strokes_bounds,
)

SKIA_MODES: dict[str, skia.BlendMode] = {
    "normal": skia.BlendMode.kSrcOver,
    "multiply": skia.BlendMode.kMultiply,
    "screen": skia.BlendMode.kScreen,
    "overlay": skia.BlendMode.kOverlay,
    "darken": skia.BlendMode.kDarken,
    "lighten": skia.BlendMode.kLighten,
    "color-dodge": skia.BlendMode.kColorDodge,
    "color-burn": skia.BlendMode.kColorBurn,
    "hard-light": skia.BlendMode.kHardLight,
    "soft-light": skia.BlendMode.kSoftLight,
    "difference": skia.BlendMode.kDifference,
    "exclusion": skia.BlendMode.kExclusion,
    "hue": skia.BlendMode.kHue,
    "saturation": skia.BlendMode.kSaturation,
    "color": skia.BlendMode.kColor,
    "luminosity": skia.BlendMode.kLuminosity,
}
BAND_PIXELS = 1 << 20
TILE = 256  # strokes are rasterized on this grid of output pixels, whatever the band
MAX_SCALE = 16.0
_F32 = skia.ColorType.kRGBA_F32_ColorType
_PREMUL = skia.AlphaType.kPremul_AlphaType
_EXACT = skia.SamplingOptions()  # nearest: for pixel-aligned copies
Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels


@dataclass(frozen=True)
class Scene:
    """An immutable, picklable copy of what a document shows: its meta and its layers."""

    meta: CanvasMeta
    layers: tuple[Layer, ...]

    @classmethod
    def from_canvas(cls, canvas: Canvas) -> Scene:
        with canvas.doc.transaction():
            return cls(canvas.read_meta(), tuple(canvas.read_layers()))

    @classmethod
    def from_update(cls, update: bytes) -> Scene:
        """The scene of a document state (e.g. ``doc.get_update()`` of a live room)."""
        doc: Doc[Any] = Doc()
        if update:
            doc.apply_update(update)
        return cls.from_canvas(Canvas(doc))

    def layer(self, layer_id: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.id == layer_id), None)

    def blobs(self, *, layer_id: str | None = None, proposals: bool = False) -> list[str]:
        """The images a render needs: of the visible raster layers (proposals only if
        ``proposals``), or of one layer."""
        if layer_id is not None:
            chosen = [layer for layer in self.layers if layer.id == layer_id]
        else:
            chosen = [layer for layer in self.layers if _drawn(layer, proposals)]
        found = (layer.blob for layer in chosen if layer.kind == "raster" and layer.blob)
        return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Region:
    """A rectangle of output pixels (after scaling)."""

    x: int
    y: int
    width: int
    height: int


def _drawn(layer: Layer, proposals: bool) -> bool:
    """Whether a layer contributes to the composite."""
    return layer.visible and layer.opacity > 0 and (proposals or not layer.is_proposal)


def output_size(meta: CanvasMeta, scale: float) -> tuple[int, int]:
    return max(1, round(meta.width * scale)), max(1, round(meta.height * scale))


def render(
    scene: Scene,
    images: Mapping[str, np.ndarray],
    *,
    scale: float = 1.0,
    region: Region | None = None,
    layer_id: str | None = None,
    proposals: bool = False,
) -> np.ndarray:
    """The document (or the layer ``layer_id`` alone) as ``(h, w, 4)`` uint8 RGBA, not
    premultiplied, at ``scale``, cropped to ``region`` (output pixels) if given. Staged
    proposals are left out of the document unless ``proposals``.

    ``images`` maps blob hashes to decoded ``(h, w, 4)`` uint8 RGBA (see
    :func:`collab.render.images.decode_rgba`); a raster layer whose image is missing draws
    nothing. A single layer is drawn alone on transparency, at its offset, with normal blending
    at full opacity whether or not it is visible: its content, not its contribution.
    """
    if not (0 < scale <= MAX_SCALE) or not math.isfinite(scale):
        raise ValueError(f"scale must be > 0 and <= {MAX_SCALE:g}, got {scale}")
    width, height = output_size(scene.meta, scale)
    if region is None:
        region = Region(0, 0, width, height)
    if region.width < 1 or region.height < 1:
        raise ValueError(f"region must be at least 1x1 pixels, got {region}")
    if layer_id is not None:
        found = scene.layer(layer_id)
        layers: list[Layer] = [] if found is None else [found]
        plan = [_Planned.of(layer, "normal", 1.0) for layer in layers]
        background = None
    else:
        plan = [
            _Planned.of(layer, layer.blend_mode, layer.opacity / 100)
            for layer in scene.layers
            if _drawn(layer, proposals) and layer.kind in ("raster", "paint")
        ]
        background = _background(scene.meta.background)
    sources = {
        digest: _Source.of(pixels)
        for digest, pixels in images.items()
        if pixels.ndim == 3 and pixels.shape[2] == 4 and pixels.dtype == np.uint8
    }
    kernels = _kernels()
    out = np.empty((region.height, region.width, 4), dtype=np.uint8)
    rows = max(1, BAND_PIXELS // region.width)
    for top in range(0, region.height, rows):
        band = Region(region.x, region.y + top, region.width, min(rows, region.height - top))
        pixels = _render_band(plan, sources, band, scale, background)
        kernels.to_rgba8(pixels, out[top : top + band.height])
    return out


def _kernels() -> ModuleType:
    # Imported on first render, not with this module: a server process that only hands
    # renders to workers never loads numba and LLVM (measured: 0.7 s, 150 MiB resident).
    from collab.render import kernels

    return kernels


@dataclass(frozen=True)
class _Source:
    """A decoded image: its pixels (C-contiguous, for the kernels) and Skia's view of them."""

    pixels: np.ndarray
    image: Any

    @classmethod
    def of(cls, pixels: np.ndarray) -> _Source:
        pixels = np.ascontiguousarray(pixels)
        image = skia.Image.fromarray(pixels, skia.ColorType.kRGBA_8888_ColorType, copy=False)
        return cls(pixels, image)


@dataclass(frozen=True)
class _Planned:
    layer: Layer
    mode: str
    opacity: float
    # paint layers: each stroke that draws something, with its layer-local bounds
    strokes: tuple[tuple[Stroke, Bounds], ...] = ()

    @classmethod
    def of(cls, layer: Layer, mode: str, opacity: float) -> _Planned:
        strokes = tuple(
            (stroke, box) for stroke in layer.strokes if (box := stroke_bounds(stroke)) is not None
        )
        return cls(layer, mode, opacity, strokes)


def _background(value: str) -> tuple[float, float, float, float] | None:
    if value == "transparent":
        return None
    red, green, blue, alpha = parse_color(value)
    return red * alpha, green * alpha, blue * alpha, alpha


def _surface(pixels: np.ndarray) -> Any:
    return skia.Surface(pixels, colorType=_F32, alphaType=_PREMUL)


def _render_band(
    plan: list[_Planned],
    images: Mapping[str, _Source],
    band: Region,
    scale: float,
    background: tuple[float, float, float, float] | None,
) -> np.ndarray:
    pixels = np.zeros((band.height, band.width, 4), dtype=np.float32)
    if background is not None:
        pixels[...] = background
    surface = _surface(pixels)
    canvas = surface.getCanvas()
    for item in plan:
        if item.layer.kind == "paint":
            _paint_layer(pixels, canvas, item, band, scale)
        elif item.layer.blob is not None and item.layer.blob in images:
            _raster_layer(pixels, canvas, item, images[item.layer.blob], band, scale)
    del canvas, surface
    return pixels


def _raster_layer(
    pixels: np.ndarray, canvas: Any, item: _Planned, source: _Source, band: Region, scale: float
) -> None:
    layer = item.layer
    image = source.image
    local = (0.0, 0.0, float(image.width()), float(image.height()))
    if not _pixel_aligned(layer, scale):

        def draw(tile_canvas: Any, tile: Box) -> bool:
            if not _overlaps(_output_box(layer, local, scale), tile):
                return False
            tile_canvas.drawImage(image, 0, 0, _sampling(scale), skia.Paint(AntiAlias=True))
            return True

        _tiled_layer(pixels, canvas, item, local, draw, band, scale)
        return
    box = _clip(_output_box(layer, local, scale), band)
    if box is None:
        return
    # A pixel-aligned copy is clip-independent: drawn straight into the band.
    if item.mode in SKIA_MODES:
        canvas.save()
        _place(canvas, layer, band.x, band.y, scale)
        canvas.drawImage(image, 0, 0, _EXACT, _blend_paint(item))
        canvas.restore()
        return
    # The image's own pixels are the kernel's source: no scratch surface, no conversion.
    origin_x, origin_y = int(layer.x), int(layer.y)
    left, top = max(origin_x, band.x), max(origin_y, band.y)
    right = min(origin_x + image.width(), band.x + band.width)
    bottom = min(origin_y + image.height(), band.y + band.height)
    if left < right and top < bottom:
        kernel = _kernels().image_kernel(item.mode)
        at = (left - origin_x, top - origin_y)
        _run_kernel(kernel, pixels, (left, top, right, bottom), band, source.pixels, at, item, at)


def _paint_layer(
    pixels: np.ndarray, canvas: Any, item: _Planned, band: Region, scale: float
) -> None:
    layer = item.layer
    found = strokes_bounds([stroke for stroke, _ in item.strokes])
    if found is None:
        return

    def draw(tile_canvas: Any, tile: Box) -> bool:
        here = [
            stroke
            for stroke, bounds in item.strokes
            if _overlaps(_output_box(layer, bounds, scale), tile)
        ]
        if all(stroke.tool == "eraser" for stroke in here):
            return False
        draw_strokes(tile_canvas, here)
        return True

    _tiled_layer(pixels, canvas, item, found, draw, band, scale)


def _tiled_layer(
    pixels: np.ndarray,
    canvas: Any,
    item: _Planned,
    local: Bounds,
    draw: Callable[[Any, Box], bool],
    band: Region,
    scale: float,
) -> None:
    """Rasterize the layer's content tile by tile on a grid fixed in output space, then
    blend each tile's part of the band. Skia's antialiasing and resampling depend on the
    clip they draw into, not only on the geometry; a fixed grid makes every band, region
    and full render agree to the bit."""
    layer = item.layer
    box = _clip(_output_box(layer, local, scale), band)
    if box is None:
        return
    left, top = band.x + box[0], band.y + box[1]  # absolute output pixels from here on
    right, bottom = band.x + box[2], band.y + box[3]
    paint = _blend_paint(item) if item.mode in SKIA_MODES else None
    for tile_y in range(top // TILE * TILE, bottom, TILE):
        for tile_x in range(left // TILE * TILE, right, TILE):
            scratch = np.zeros((TILE, TILE, 4), dtype=np.float32)
            scratch_surface = _surface(scratch)
            scratch_canvas = scratch_surface.getCanvas()
            _place(scratch_canvas, layer, tile_x, tile_y, scale)
            drawn = draw(scratch_canvas, (tile_x, tile_y, tile_x + TILE, tile_y + TILE))
            del scratch_canvas, scratch_surface
            if not drawn:
                continue
            x0, y0 = max(left, tile_x), max(top, tile_y)
            x1, y1 = min(right, tile_x + TILE), min(bottom, tile_y + TILE)
            part = scratch[y0 - tile_y : y1 - tile_y, x0 - tile_x : x1 - tile_x]
            if paint is None:
                kernel = _kernels().scratch_kernel(item.mode)
                at = (x0 - tile_x, y0 - tile_y)
                noise_at = (x0 - round(layer.x * scale), y0 - round(layer.y * scale))
                _run_kernel(kernel, pixels, (x0, y0, x1, y1), band, scratch, at, item, noise_at)
            else:
                tile_image = skia.Image.fromarray(
                    np.ascontiguousarray(part), colorType=_F32, alphaType=_PREMUL
                )
                canvas.drawImage(tile_image, x0 - band.x, y0 - band.y, _EXACT, paint)


def _blend_paint(item: _Planned) -> Any:
    paint = skia.Paint(BlendMode=SKIA_MODES[item.mode])
    paint.setAlphaf(item.opacity)
    return paint


def _run_kernel(
    kernel: Callable[..., None],
    pixels: np.ndarray,
    box: Box,
    band: Region,
    source: np.ndarray,
    at: tuple[int, int],
    item: _Planned,
    noise_at: tuple[int, int],
) -> None:
    """Blend ``source`` from its pixel ``at`` onto the absolute output pixels ``box`` of the
    band; ``noise_at`` is the box's top-left counted from the layer's origin (dissolve's
    pattern moves with the layer)."""
    left, top, right, bottom = box
    seed = blend.dissolve_seed(item.layer.id) if item.mode == "dissolve" else 0
    kernel(
        pixels,
        left - band.x,
        top - band.y,
        right - left,
        bottom - top,
        source,
        at[0],
        at[1],
        np.float32(item.opacity),
        seed,
        noise_at[0],
        noise_at[1],
    )


def _place(canvas: Any, layer: Layer, origin_x: float, origin_y: float, s: float) -> None:
    """Map layer-local coordinates to the pixels of a buffer whose top-left output pixel is
    (origin_x, origin_y)."""
    canvas.translate(-origin_x, -origin_y)
    canvas.scale(s, s)
    canvas.translate(layer.x, layer.y)


def _pixel_aligned(layer: Layer, scale: float) -> bool:
    return scale == 1 and float(layer.x).is_integer() and float(layer.y).is_integer()


def _sampling(scale: float) -> Any:
    if scale < 1:
        return skia.SamplingOptions(skia.FilterMode.kLinear, skia.MipmapMode.kLinear)
    return skia.SamplingOptions(skia.FilterMode.kLinear)


def _output_box(layer: Layer, local: Bounds, scale: float) -> Box:
    """Layer-local bounds as absolute output pixels, with a pixel of margin for filtering."""
    return (
        math.floor((layer.x + local[0]) * scale) - 1,
        math.floor((layer.y + local[1]) * scale) - 1,
        math.ceil((layer.x + local[2]) * scale) + 1,
        math.ceil((layer.y + local[3]) * scale) + 1,
    )


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _clip(box: Box, band: Region) -> Box | None:
    """``box`` (absolute) within the band, in band pixels, or None if they do not meet."""
    left, top = max(box[0] - band.x, 0), max(box[1] - band.y, 0)
    right, bottom = min(box[2] - band.x, band.width), min(box[3] - band.y, band.height)
    if left >= right or top >= bottom:
        return None
    return left, top, right, bottom


def to_rgba8(premultiplied: np.ndarray) -> np.ndarray:
    """Float premultiplied RGBA to 8-bit unpremultiplied RGBA, rounding to nearest: the numpy
    statement of what ``kernels.to_rgba8`` computes bit for bit (and renders use)."""
    alpha = np.clip(premultiplied[..., 3:4], 0, 1)
    # Premultiplied colour is 0 where alpha is 0: dividing by a tiny alpha keeps it 0.
    scaled = premultiplied / np.maximum(alpha, np.float32(1e-30))
    scaled[..., 3:4] = alpha
    np.clip(scaled, 0, 1, out=scaled)
    scaled *= 255
    np.rint(scaled, out=scaled)
    result: np.ndarray = scaled.astype(np.uint8)
    return result
