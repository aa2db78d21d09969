"""Paint-layer strokes rasterized with Skia: antialiased, round caps and joins.

A stroke is one path through its points, stroked once, so its opacity is uniform where the
path crosses itself (as a brush stroke looks in Chromium, which draws with Skia too). A
single point is a round dot. Brush strokes draw source-over; eraser strokes draw
destination-out, removing the layer's earlier strokes by the eraser's opacity.

Hardness ``h`` (0..1) softens the outer part of the radius: the outer ``(1 - h) * size / 2``
becomes a Gaussian ramp, i.e. the path is stroked ``size * (1 + h) / 2`` wide (to the
ramp's midpoint) and blurred with sigma ``(1 - h) * size / 12`` (the ramp spans +-3 sigma).
So the core stays opaque even at ``h = 0`` and the stroke fades out at ``size / 2``; ``h = 1``
is a hard, merely antialiased edge.

Skia's antialiasing of a path depends (slightly) on the clip it is drawn into, not only on
the geometry, so the compositor always rasterizes strokes on the same fixed grid of tiles
(see ``compositor.TILE``): a region or a band then gets exactly the pixels of a full render.
"""

from __future__ import annotations

from collections.abc import Sequence

import skia  # type: ignore[import-not-found]  # skia-python ships no type stubs

from canvasdoc.canvas import Stroke


def parse_color(value: str) -> tuple[float, float, float, float]:
    """``#rrggbb`` or ``#rrggbbaa`` as unpremultiplied floats in 0..1."""
    digits = value.lstrip("#")
    channels = [int(digits[i : i + 2], 16) / 255 for i in range(0, len(digits), 2)]
    if len(channels) == 3:
        channels.append(1.0)
    red, green, blue, alpha = channels
    return red, green, blue, alpha


def _soft_ramp(stroke: Stroke) -> tuple[float, float]:
    """(stroked width, blur sigma) for the stroke's size and hardness."""
    hardness = min(max(stroke.hardness, 0.0), 1.0)
    if hardness >= 1.0:
        return stroke.size, 0.0
    return stroke.size * (1 + hardness) / 2, (1 - hardness) * stroke.size / 12


def _path(points: Sequence[float]) -> skia.Path:
    path = skia.Path()
    path.moveTo(points[0], points[1])
    if len(points) == 2:
        path.lineTo(points[0], points[1])  # zero-length segment + round cap = a dot
        return path
    for i in range(2, len(points) - 1, 2):
        path.lineTo(points[i], points[i + 1])
    return path


def stroke_paint(stroke: Stroke) -> skia.Paint:
    width, sigma = _soft_ramp(stroke)
    red, green, blue, alpha = parse_color(stroke.color)
    paint = skia.Paint(
        AntiAlias=True,
        Style=skia.Paint.kStroke_Style,
        StrokeWidth=width,
        StrokeCap=skia.Paint.kRound_Cap,
        StrokeJoin=skia.Paint.kRound_Join,
    )
    opacity = alpha * min(max(stroke.opacity, 0.0), 100.0) / 100
    if stroke.tool == "eraser":
        paint.setColor4f(skia.Color4f(0, 0, 0, opacity))
        paint.setBlendMode(skia.BlendMode.kDstOut)
    else:
        paint.setColor4f(skia.Color4f(red, green, blue, opacity))
    if sigma > 0:
        paint.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, sigma))
    return paint


def draw_strokes(canvas: skia.Canvas, strokes: Sequence[Stroke]) -> None:
    """Draw ``strokes`` in order onto ``canvas`` (layer-local coordinates)."""
    for stroke in strokes:
        if len(stroke.points) < 2 or stroke.size <= 0:
            continue
        canvas.drawPath(_path(stroke.points), stroke_paint(stroke))


Bounds = tuple[float, float, float, float]  # left, top, right, bottom


def stroke_bounds(stroke: Stroke) -> Bounds | None:
    """The layer-local rectangle the stroke can touch (None if it draws nothing)."""
    if len(stroke.points) < 2 or stroke.size <= 0:
        return None
    _, sigma = _soft_ramp(stroke)
    reach = stroke.size / 2 + 3 * sigma + 2  # Skia's blur kernel stops at 3 sigma
    xs, ys = stroke.points[0::2], stroke.points[1::2]
    return min(xs) - reach, min(ys) - reach, max(xs) + reach, max(ys) + reach


def strokes_bounds(strokes: Sequence[Stroke]) -> Bounds | None:
    """The rectangle covering every brush stroke's pixels, or None."""
    boxes = [stroke_bounds(s) for s in strokes if s.tool != "eraser"]  # erasers only remove
    found = [box for box in boxes if box is not None]
    if not found:
        return None
    return (
        min(b[0] for b in found),
        min(b[1] for b in found),
        max(b[2] for b in found),
        max(b[3] for b in found),
    )
