"""Compositing benchmark: 20 layers of 2048x2048 in mixed blend modes.

Prints the compositor's time for the whole document, and for comparison, in the same
process on the same layers, a plain skia-python source-over of the 20 images onto an 8-bit
N32 surface (the floor: what drawing those pixels costs at all), and the same on a float
surface (what the compositor's precision costs before any blend mode). The ratio is
compositor / plain skia. Each figure is the median of ``--repeat`` runs, taken round-robin,
single-threaded.

    .venv/bin/python bench/composite.py [--size 2048] [--layers 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import skia  # type: ignore[import-not-found]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canvasdoc.canvas import CanvasMeta, Layer
from collab.render import blend
from collab.render.compositor import SKIA_MODES, Scene, render

# Half Skia's modes, half the numpy ones, interleaved.
MODES = (
    "normal", "multiply", "linear-burn", "screen", "vivid-light", "overlay", "divide",
    "soft-light", "hard-mix", "hue", "darker-color", "color-dodge", "pin-light", "difference",
    "linear-light", "luminosity", "subtract", "color-burn", "lighter-color", "dissolve",
)  # fmt: skip


def make_layers(size: int, count: int) -> tuple[Scene, dict[str, np.ndarray]]:
    """Smooth gradients with noise and a soft alpha ramp: semi-transparent everywhere."""
    rng = np.random.default_rng(2048)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    layers, images = [], {}
    for i in range(count):
        digest = f"{i:064x}"
        gx, gy = np.meshgrid(np.roll(ramp, i * 97), np.roll(ramp, i * 61))
        pixels = np.empty((size, size, 4), dtype=np.uint8)
        pixels[..., 0] = (gx * 255).astype(np.uint8)
        pixels[..., 1] = (gy * 255).astype(np.uint8)
        pixels[..., 2] = rng.integers(0, 256, (size, size), dtype=np.uint8)
        pixels[..., 3] = (96 + 159 * np.abs(np.sin(gx * 3 + i))).astype(np.uint8)
        images[digest] = pixels
        layers.append(
            Layer(id=f"layer-{i}", blob=digest, blend_mode=MODES[i % len(MODES)], opacity=70 + i)
        )
    meta = CanvasMeta(width=size, height=size, background="#ffffff")
    return Scene(meta, tuple(layers)), images


def plain_skia(scene: Scene, images: dict[str, np.ndarray], color_type: object) -> np.ndarray:
    surface = skia.Surface(scene.meta.width, scene.meta.height, color_type)
    canvas = surface.getCanvas()
    canvas.clear(skia.ColorWHITE)
    for layer in scene.layers:
        image = skia.Image.fromarray(images[layer.blob], skia.ColorType.kRGBA_8888_ColorType)
        paint = skia.Paint(BlendMode=skia.BlendMode.kSrcOver)
        paint.setAlphaf(layer.opacity / 100)
        canvas.drawImage(image, 0, 0, skia.SamplingOptions(), paint)
    result: np.ndarray = surface.toarray(colorType=skia.ColorType.kRGBA_8888_ColorType)
    return result


def timed(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each, run round-robin so that a noisy neighbour hurts all alike."""
    for fn in runs.values():
        fn()  # warm-up: caches, page faults
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scene, images = make_layers(args.size, args.layers)
    skia_layers = sum(layer.blend_mode in SKIA_MODES for layer in scene.layers)
    numpy_layers = sum(layer.blend_mode in blend.NUMPY_MODES for layer in scene.layers)
    print(
        f"{args.layers} layers of {args.size}x{args.size}, {skia_layers} in Skia modes, "
        f"{numpy_layers} in numpy modes; median of {args.repeat}; "
        f"{platform.machine()}, Python {platform.python_version()}, one thread"
    )
    only_skia = Scene(scene.meta, tuple(x for x in scene.layers if x.blend_mode in SKIA_MODES))
    only_numpy = Scene(scene.meta, tuple(x for x in scene.layers if x.blend_mode not in SKIA_MODES))
    medians = timed(
        {
            "ours": lambda: render(scene, images),
            "plain": lambda: plain_skia(scene, images, skia.ColorType.kN32_ColorType),
            "plain_f32": lambda: plain_skia(scene, images, skia.ColorType.kRGBA_F32_ColorType),
            "ours_skia": lambda: render(only_skia, images),
            "ours_numpy": lambda: render(only_numpy, images),
        },
        args.repeat,
    )
    ours, plain, plain_f32 = medians["ours"], medians["plain"], medians["plain_f32"]
    ours_skia, ours_numpy = medians["ours_skia"], medians["ours_numpy"]
    per = 1000 / args.layers
    print(f"compositor, mixed modes          {ours:7.3f} s  ({ours * per:5.0f} ms/layer)")
    print(f"plain skia source-over, N32      {plain:7.3f} s  ({plain * per:5.0f} ms/layer)")
    print(f"plain skia source-over, F32      {plain_f32:7.3f} s  ({plain_f32 * per:5.0f} ms/layer)")
    print(f"ratio compositor / plain N32     {ours / plain:7.1f} x")
    print(f"ratio compositor / plain F32     {ours / plain_f32:7.1f} x")
    print(
        f"  of which {skia_layers} Skia-mode layers   {ours_skia:7.3f} s  "
        f"({ours_skia * 1000 / max(skia_layers, 1):5.0f} ms/layer)"
    )
    print(
        f"  of which {numpy_layers} numpy-mode layers  {ours_numpy:7.3f} s  "
        f"({ours_numpy * 1000 / max(numpy_layers, 1):5.0f} ms/layer)"
    )


if __name__ == "__main__":
    main()
