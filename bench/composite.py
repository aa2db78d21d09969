"""Compositing benchmark: 20 layers of 2048x2048 in mixed blend modes.

Prints the compositor's time for the whole document, and for comparison, in the same
process on the same layers, a plain skia-python source-over of the 20 images onto an 8-bit
N32 surface (the floor: what drawing those pixels costs at all), and the same on a float
surface (what the compositor's precision costs before any blend mode). The ratio is
compositor / plain skia N32, PASS when at most ``TARGET`` (issue 17). Each figure is the
median of ``--repeat`` runs, taken round-robin, single-threaded, as wall time and as this
process's CPU time (the steadier of the two on a shared machine).

The compiled kernels' one-time cost is printed too: loading them from numba's cache in this
process, and (``--cold``) compiling all 22 from scratch in a child process with an empty
cache directory, which is what a fresh install pays once (``python -m collab.render.kernels``).

    .venv/bin/python bench/composite.py [--size 2048] [--layers 20] [--repeat 3] [--cold]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import skia  # type: ignore[import-not-found]

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from canvasdoc.canvas import CanvasMeta, Layer
from collab.render import blend, kernels
from collab.render.compositor import SKIA_MODES, Scene, render

TARGET = 1.2  # compositor / plain Skia N32 source-over

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


def timed(
    runs: dict[str, Callable[[], object]], repeat: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU seconds of each, run round-robin so that a noisy neighbour hurts
    all alike."""
    for fn in runs.values():
        fn()  # warm-up: caches, page faults
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    return (
        {name: statistics.median(values) for name, values in wall.items()},
        {name: statistics.median(values) for name, values in cpu.items()},
    )


def cold_compile_seconds() -> tuple[float, float]:
    """Wall and CPU seconds to compile every kernel with an empty cache, in a child process."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        before = os.times()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "collab.render.kernels"],
            env=env,
            check=True,
            capture_output=True,
        )
        after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return time.perf_counter() - started, cpu


def verdict(ratio: float) -> str:
    return "PASS" if ratio <= TARGET else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="also time a from-scratch compile")
    args = parser.parse_args()
    loaded = kernels.load_all()
    scene, images = make_layers(args.size, args.layers)
    skia_layers = sum(layer.blend_mode in SKIA_MODES for layer in scene.layers)
    numpy_layers = sum(layer.blend_mode in blend.NUMPY_MODES for layer in scene.layers)
    print(
        f"{args.layers} layers of {args.size}x{args.size}, {skia_layers} in Skia modes, "
        f"{numpy_layers} in the compiled kernels' modes; median of {args.repeat}; "
        f"{platform.machine()}, Python {platform.python_version()}, one thread"
    )
    only_skia = Scene(scene.meta, tuple(x for x in scene.layers if x.blend_mode in SKIA_MODES))
    only_numpy = Scene(scene.meta, tuple(x for x in scene.layers if x.blend_mode not in SKIA_MODES))
    wall, cpu = timed(
        {
            "ours": lambda: render(scene, images),
            "plain": lambda: plain_skia(scene, images, skia.ColorType.kN32_ColorType),
            "plain_f32": lambda: plain_skia(scene, images, skia.ColorType.kRGBA_F32_ColorType),
            "ours_skia": lambda: render(only_skia, images),
            "ours_numpy": lambda: render(only_numpy, images),
        },
        args.repeat,
    )
    rows = [
        ("compositor, mixed modes", "ours", args.layers),
        ("plain skia source-over, N32", "plain", args.layers),
        ("plain skia source-over, F32", "plain_f32", args.layers),
        (f"  of which {skia_layers} Skia-mode layers", "ours_skia", skia_layers),
        (f"  of which {numpy_layers} kernel-mode layers", "ours_numpy", numpy_layers),
    ]
    print(f"{'':34}{'wall':>9}{'cpu':>9}   per layer (wall)")
    for label, name, count in rows:
        per = wall[name] * 1000 / max(count, 1)
        print(f"{label:34}{wall[name]:8.3f}s{cpu[name]:8.3f}s   {per:5.0f} ms")
    ratio, ratio_cpu = wall["ours"] / wall["plain"], cpu["ours"] / cpu["plain"]
    print(f"ratio compositor / plain N32      {ratio:8.2f}x{ratio_cpu:8.2f}x")
    print(f"ratio compositor / plain F32      {wall['ours'] / wall['plain_f32']:8.2f}x"
          f"{cpu['ours'] / cpu['plain_f32']:8.2f}x")  # fmt: skip
    print(f"kernels loaded from numba's cache in {loaded:.2f} s (once per process)")
    if args.cold:
        cold_wall, cold_cpu = cold_compile_seconds()
        print(
            f"kernels compiled from scratch in {cold_wall:.1f} s wall, {cold_cpu:.1f} s CPU "
            "(once per installation; numba import included)"
        )
    print(
        f"TARGET compositor <= {TARGET}x plain Skia N32: {verdict(ratio)} ({ratio:.2f}x wall; "
        f"CPU {ratio_cpu:.2f}x {verdict(ratio_cpu)})"
    )


if __name__ == "__main__":
    main()
