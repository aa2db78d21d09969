"""Real-photo composites with a known foreground mask, for background-removal quality.

The foreground is the motorcycle of scikit-image's ``stereo_motorcycle`` (the Middlebury 2014
"Motorcycle" scene, shipped inside the scikit-image wheel with its ground-truth disparity). Its
mask comes from that measured depth, not from a drawing or a model: a pixel is the motorcycle
when its disparity is known and the point lies well in front of the floor plane (fitted to the
floor at the image's left and right edges) and of the back of the room, keeping the largest
connected part; holes of unknown disparity inside it are filled, holes that see the room
behind (between the spokes, under the engine) stay holes. The result is a clean cut-out of a
real photographed object (checked by eye: every edge follows the bike). scikit-image is a
dependency of rembg, so this needs nothing that background removal does not already install.

The backgrounds are scikit-image's other sample photographs, without a download.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy import ndimage

Mask = npt.NDArray[np.bool_]
RGB = npt.NDArray[np.uint8]

# Disparity margins (pixels of disparity at the photo's full size) that separate the bike from
# the floor under it and from the room behind it.
FLOOR_MARGIN = 4.0
ROOM_DISPARITY = 40.0
BACKGROUNDS = ("grass", "gravel", "brick", "coffee", "rocket", "hubble_deep_field")


@dataclass(frozen=True)
class Composite:
    """An RGB photo and the mask of the object pasted into it (True = foreground)."""

    name: str
    image: RGB
    mask: Mask


def motorcycle() -> tuple[RGB, Mask]:
    """The motorcycle photo cropped to its object, and its mask from ground-truth depth."""
    import skimage.data

    photo, _right, disparity = skimage.data.stereo_motorcycle()
    height, width = disparity.shape
    known = np.isfinite(disparity)
    yy, xx = np.mgrid[:height, :width]
    edges = known & (yy > 0.6 * height) & ((xx < 50) | (xx >= width - 50))
    design = np.c_[xx[edges], yy[edges], np.ones(int(edges.sum()))]
    (ax, ay, c), *_ = np.linalg.lstsq(design, disparity[edges], rcond=None)
    floor = ax * xx + ay * yy + c
    with np.errstate(invalid="ignore"):
        near = known & (disparity > floor + FLOOR_MARGIN) & (disparity > ROOM_DISPARITY)
    labels, count = ndimage.label(near)
    if count == 0:
        raise RuntimeError("no object in front of the floor: the sample data changed")
    sizes = ndimage.sum(near, labels, range(1, count + 1))
    bike = labels == int(np.argmax(sizes)) + 1
    holes, n_holes = ndimage.label(ndimage.binary_fill_holes(bike) & ~bike)
    if n_holes:
        unknown_share = ndimage.mean(~known, holes, range(1, n_holes + 1))
        fill = np.flatnonzero(np.asarray(unknown_share) > 0.5) + 1
        bike |= np.isin(holes, fill)
    rows, cols = np.flatnonzero(bike.any(axis=1)), np.flatnonzero(bike.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return np.ascontiguousarray(photo[top:bottom, left:right]), bike[top:bottom, left:right]


def background(name: str, size: int) -> RGB:
    """A scikit-image sample photo as RGB, centre-cropped to a square and scaled to ``size``."""
    import skimage.data

    pixels = np.asarray(getattr(skimage.data, name)())
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    pixels = pixels[..., :3]
    height, width = pixels.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = Image.fromarray(pixels[top : top + side, left : left + side].astype(np.uint8))
    return np.asarray(square.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)


def composite(name: str, size: int, *, object_share: float = 0.7) -> Composite:
    """The motorcycle, ``object_share`` of the width, standing in the lower middle of the
    background ``name`` at ``size`` x ``size``. The paste is binary, so the mask is exact."""
    photo, mask = motorcycle()
    scale = object_share * size / photo.shape[1]
    obj_w, obj_h = round(photo.shape[1] * scale), round(photo.shape[0] * scale)
    obj = np.asarray(Image.fromarray(photo).resize((obj_w, obj_h), Image.Resampling.LANCZOS))
    obj_mask = (
        np.asarray(
            Image.fromarray(mask.astype(np.uint8) * 255).resize(
                (obj_w, obj_h), Image.Resampling.BILINEAR
            )
        )
        >= 128
    )
    image = background(name, size).copy()
    full = np.zeros((size, size), dtype=bool)
    left, top = (size - obj_w) // 2, round(0.92 * size) - obj_h
    region = (slice(top, top + obj_h), slice(left, left + obj_w))
    image[region][obj_mask] = obj[obj_mask]
    full[region] = obj_mask
    return Composite(name, image, full)


def iou(predicted: Mask, truth: Mask) -> float:
    union = int((predicted | truth).sum())
    return int((predicted & truth).sum()) / union if union else 1.0


def boundary_f(predicted: Mask, truth: Mask, tolerance: float = 2.0) -> float:
    """F-score of the two masks' boundaries, a boundary pixel counting as matched when the
    other boundary lies within ``tolerance`` pixels (the usual matting/segmentation measure)."""
    ours, theirs = _boundary(predicted), _boundary(truth)
    if not ours.any() or not theirs.any():
        return 1.0 if ours.any() == theirs.any() else 0.0
    to_theirs = ndimage.distance_transform_edt(~theirs)
    to_ours = ndimage.distance_transform_edt(~ours)
    precision = float((to_theirs[ours] <= tolerance).mean())
    recall = float((to_ours[theirs] <= tolerance).mean())
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _boundary(mask: Mask) -> Mask:
    return mask & ~ndimage.binary_erosion(mask, border_value=0)
