"""Argument checks and image conversions shared by the pipelines (private)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image

from inference.exceptions import InvalidInput

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in image pixels
Point = tuple[float, float]  # x, y in image pixels
U8 = npt.NDArray[np.uint8]


def split_image(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """RGB view of ``image`` and its alpha channel (None when it has none)."""
    if not isinstance(image, Image.Image):
        raise InvalidInput(f"image must be a PIL image, got {type(image).__name__}")
    if image.width < 1 or image.height < 1:
        raise InvalidInput(f"image must not be empty, got {image.width}x{image.height}")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        return rgba.convert("RGB"), rgba.getchannel("A")
    return image.convert("RGB"), None


def check_mask(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``mask`` as mode L of the image's size (white = the region to work on)."""
    if not isinstance(mask, Image.Image):
        raise InvalidInput(f"mask must be a PIL image, got {type(mask).__name__}")
    if mask.size != size:
        raise InvalidInput(f"mask must be {size[0]}x{size[1]} like the image, got {mask.size}")
    gray = mask.convert("L")
    if int(np.asarray(gray).max()) < 128:
        raise InvalidInput("mask must mark a region to fill (pixels >= 128), got an empty mask")
    return gray


def check_prompts(
    size: tuple[int, int],
    points: Sequence[Point] | None,
    point_labels: Sequence[int] | None,
    box: Box | None,
) -> tuple[list[Point], list[int], Box | None]:
    """Validated point prompts (with labels: 1 foreground, 0 background) and box, all in
    image pixels: points inside the image, the box inside it too (edges may touch it), not
    inverted (x0 <= x1, y0 <= y1) and at least 2x2. Messages name the value sent."""
    width, height = size
    pts = [(float(x), float(y)) for x, y in (points or [])]
    if point_labels is None:
        labels = [1] * len(pts)
    else:
        labels = [int(v) for v in point_labels]
        if len(labels) != len(pts):
            raise InvalidInput(
                f"point_labels: {_count(len(labels), 'label')} for {_count(len(pts), 'point')}"
                " (one label per point)"
            )
        if any(v not in (0, 1) for v in labels):
            raise InvalidInput(f"point_labels must be 0 or 1, got {labels}")
    for x, y in pts:
        if not (0 <= x < width and 0 <= y < height):
            raise InvalidInput(f"point ({x:g}, {y:g}) must lie inside the {width}x{height} image")
    checked_box: Box | None = None
    if box is not None:
        if len(box) != 4:
            raise InvalidInput(f"box must be (x0, y0, x1, y1), got {box!r}")
        x0, y0, x1, y1 = (float(v) for v in box)
        shown = f"({x0:g}, {y0:g}, {x1:g}, {y1:g})"
        if x1 < x0 or y1 < y0:
            raise InvalidInput(
                f"box {shown} is inverted: give (left, top, right, bottom) with x0 <= x1 and "
                "y0 <= y1"
            )
        if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
            raise InvalidInput(f"box {shown} must lie inside the {width}x{height} image")
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise InvalidInput(f"box {shown} must cover at least 2x2 pixels of the image")
        checked_box = (x0, y0, x1, y1)
    if not pts and checked_box is None:
        raise InvalidInput("segmentation needs points or a box, got neither")
    if pts and checked_box is None and 1 not in labels:
        raise InvalidInput("points must include a foreground point (label 1) when no box is given")
    return pts, labels, checked_box


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def box_around_points(points: Sequence[Point], size: tuple[int, int]) -> Box:
    """A box around the foreground points, padded so that GrabCut sees the object's edges."""
    width, height = size
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    # A click says where the object is, not how big it is: GrabCut cannot grow past the box,
    # so the box is generous (about 70 % of the image's longer side around a single click).
    pad = max(8.0, 0.5 * span, 0.35 * max(width, height))
    return (
        max(0.0, min(xs) - pad),
        max(0.0, min(ys) - pad),
        min(float(width), max(xs) + pad),
        min(float(height), max(ys) + pad),
    )


def merge_alpha(rgb: Image.Image, alpha: Image.Image | None, extra: Image.Image) -> Image.Image:
    """RGBA from ``rgb`` whose alpha is ``min(alpha, extra)`` (``extra`` alone without alpha)."""
    if alpha is not None:
        a = np.minimum(np.asarray(alpha), np.asarray(extra))
        extra = Image.fromarray(a)
    out = rgb.convert("RGBA")
    out.putalpha(extra)
    return out


def as_array(image: Image.Image) -> U8:
    return np.asarray(image, dtype=np.uint8).copy()
