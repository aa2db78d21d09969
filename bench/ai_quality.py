"""Background removal quality: U²-Net-p (the default model) against the GrabCut fallback.

Real-photo composites with a known mask (tests/inference/composites.py: the Middlebury
motorcycle, its mask from measured depth, pasted onto scikit-image's sample photographs) at
each ``--sizes`` side. For each method and image: IoU and boundary F-score (2-pixel tolerance)
of the alpha (>= 128) against the known mask, and the median latency of ``--repeat`` runs of
the pipeline function after one warm-up run (the model load). Each method runs in its own
child process, whose peak RSS (``ru_maxrss``) is reported with its RSS before the first job
(libraries imported, composites built; the model loads during the warm-up).

    .venv/bin/python -m bench.ai_quality [--sizes 512,1024] [--repeat 3] [--share 0.6]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METHODS = {"u2netp": {}, "grabcut": {"NEXUS_REMBG_MODEL": "none"}}
DEFAULT_BACKGROUNDS = ("rocket", "coffee", "chelsea", "hubble_deep_field", "grass", "brick")


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child(method: str, sizes: list[int], backgrounds: list[str], repeat: int, share: float) -> None:
    """Run one method over every composite; print one JSON object."""
    import numpy as np
    from PIL import Image

    from inference import AIConfig, InferenceContext, remove_background
    from tests.inference.composites import boundary_f, composite, iou

    env = {"NEXUS_AI_DEVICE": "cpu", **METHODS[method]}
    rows: list[dict[str, Any]] = []
    with InferenceContext(AIConfig.from_env(env)) as ctx:
        images = [
            composite(name, size, object_share=share) for size in sizes for name in backgrounds
        ]
        after_imports = _rss_kib()
        remove_background(ctx, image=Image.fromarray(images[0].image))  # warm-up: model load
        for photo in images:
            picture = Image.fromarray(photo.image)
            seconds, result = [], None
            for _ in range(repeat):
                started = time.perf_counter()
                result = remove_background(ctx, image=picture)
                seconds.append(time.perf_counter() - started)
            assert result is not None
            alpha = np.asarray(result.image.getchannel("A")) >= 128
            rows.append(
                {
                    "image": photo.name,
                    "size": photo.mask.shape[0],
                    "iou": iou(alpha, photo.mask),
                    "bf": boundary_f(alpha, photo.mask, 2.0),
                    "ms": statistics.median(seconds) * 1000,
                    "backend": result.backend,
                    "model": result.model_id,
                }
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"rows": rows, "rss_imports_kib": after_imports, "rss_peak_kib": peak}))


def run_method(method: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "bench.ai_quality",
        "--child",
        method,
        "--sizes",
        args.sizes,
        "--backgrounds",
        args.backgrounds,
        "--repeat",
        str(args.repeat),
        "--share",
        str(args.share),
    ]
    done = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=os.environ.copy()
    )
    if done.returncode != 0:
        raise SystemExit(f"{method} run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024", help="square sides, comma-separated")
    parser.add_argument("--backgrounds", default=",".join(DEFAULT_BACKGROUNDS))
    parser.add_argument("--repeat", type=int, default=3, help="runs per image (median)")
    parser.add_argument("--share", type=float, default=0.6, help="object width / image width")
    parser.add_argument("--child", choices=sorted(METHODS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    backgrounds = [b for b in args.backgrounds.split(",") if b]
    if args.child:
        child(args.child, sizes, backgrounds, args.repeat, args.share)
        return

    print(
        f"background removal on {len(backgrounds)} composites x sizes {sizes}, median of "
        f"{args.repeat} after a warm-up; {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; each method in its own process"
    )
    results = {method: run_method(method, args) for method in METHODS}
    names = list(METHODS)
    header = f"{'image':<20}{'size':>6}"
    for name in names:
        header += f" | {name + ' IoU':>12}{'BF@2px':>8}{'ms':>8}"
    print(header)
    print("-" * len(header))
    by_method = {name: results[name]["rows"] for name in names}
    for i, row in enumerate(by_method[names[0]]):
        line = f"{row['image']:<20}{row['size']:>6}"
        for name in names:
            r = by_method[name][i]
            line += f" | {r['iou']:>12.3f}{r['bf']:>8.3f}{r['ms']:>8.0f}"
        print(line)
    print("-" * len(header))
    for size in sizes:
        line = f"{'mean / median':<20}{size:>6}"
        for name in names:
            rows = [r for r in by_method[name] if r["size"] == size]
            line += (
                f" | {statistics.mean(r['iou'] for r in rows):>12.3f}"
                f"{statistics.mean(r['bf'] for r in rows):>8.3f}"
                f"{statistics.median(r['ms'] for r in rows):>8.0f}"
            )
        print(line)
    for name in names:
        r = results[name]
        models = {row["model"] for row in by_method[name]}
        print(
            f"{name}: model {', '.join(sorted(models))}; RSS before the first job "
            f"{r['rss_imports_kib'] / 1024:.0f} MiB, peak {r['rss_peak_kib'] / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
