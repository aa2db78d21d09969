"""GrabCut, the CPU fallback of segmentation and background removal (private).

It runs on a copy downscaled to ``max_side`` (GrabCut costs about 1.3 s per iteration at
1024² on one core, a quarter of that at 512²) and one iteration at a time, so that progress is
reported and a cancellation is seen between iterations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from inference.pipelines._common import U8, Box, Point
from inference.results import ProgressCallback, report

POINT_RADIUS_FRACTION = 0.02  # seed discs around clicked points, relative to the short side


def grabcut(
    rgb: U8,
    *,
    box: Box,
    fg_points: Sequence[Point] = (),
    bg_points: Sequence[Point] = (),
    max_side: int = 512,
    iterations: int = 5,
    progress: ProgressCallback | None = None,
    progress_span: tuple[float, float] = (0.0, 100.0),
) -> npt.NDArray[np.float32]:
    """Foreground probability in [0, 1] at full size: inside ``box`` is probable foreground,
    outside is background, discs around the points are certain foreground/background."""
    import cv2

    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    small = rgb
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    sh, sw = small.shape[:2]

    mask = np.full((sh, sw), cv2.GC_BGD, dtype=np.uint8)
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    # Keep a 1-pixel background frame: GrabCut needs background samples to model.
    x0, y0 = max(1, x0), max(1, y0)
    x1, y1 = min(sw - 1, max(x1, x0 + 1)), min(sh - 1, max(y1, y0 + 1))
    mask[y0:y1, x0:x1] = cv2.GC_PR_FGD
    radius = max(1, round(POINT_RADIUS_FRACTION * min(sh, sw)))
    for points, label in ((fg_points, cv2.GC_FGD), (bg_points, cv2.GC_BGD)):
        for x, y in points:
            cv2.circle(mask, (round(x * scale), round(y * scale)), radius, int(label), -1)

    if not (mask == cv2.GC_BGD).any() or sh < 3 or sw < 3:
        return np.ones((height, width), dtype=np.float32)

    # GrabCut seeds its colour models from OpenCV's global RNG: a fixed seed makes the same
    # image give the same cut every time (a re-run or a test should not draw a new answer).
    cv2.setRNGSeed(0)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    start, end = progress_span
    for i in range(iterations):
        mode = cv2.GC_INIT_WITH_MASK if i == 0 else cv2.GC_EVAL
        # The rect argument is ignored in mask mode; the mask carries the box.
        cv2.grabCut(small, mask, (0, 0, sw, sh), bgd, fgd, 1, mode)
        report(progress, start + (end - start) * (i + 1) / iterations)

    fg = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 1.0, 0.0).astype(np.float32)
    if scale < 1.0:
        fg = np.asarray(
            cv2.resize(fg, (width, height), interpolation=cv2.INTER_LINEAR), dtype=np.float32
        )
    return np.clip(fg, 0.0, 1.0).astype(np.float32)
