#!/usr/bin/env python3
"""GPU check of the inference pipelines with tiny random-weight models.

Builds the same tiny models as the tests (SD and SDXL inpainting, SAM2, an ONNX matte for
rembg) in a temporary folder, loads them through the project's pipeline code on CUDA in
float16 (SAM2 keeps float32 weights under half-precision autocast; rembg runs where
onnxruntime can), and prints for every job the median latency of several runs after
warm-up and the peak GPU memory (torch.cuda.max_memory_allocated). It then checks the
memory manager on the real device: with a budget smaller than two models, loading the second
must move the first to host memory and lower torch.cuda.memory_allocated.

    python scripts/gpu_check.py [--runs 5] [--warmup 2] [--size 512] [--steps 4] [--json F]

Without CUDA it exits with status 2 and says so; ``--allow-cpu`` runs the same script on the
CPU in float32 to check the script itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference import (
    AIConfig,
    InferenceContext,
    PipelineResult,
    inpaint,
    remove_background,
    segment,
)
from tests.support.tiny_models import (
    build_tiny_inpaint,
    build_tiny_rembg,
    build_tiny_sam2,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per job (median)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs before timing")
    parser.add_argument("--size", type=int, default=512, help="image side in pixels")
    parser.add_argument("--steps", type=int, default=4, help="diffusion steps")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--allow-cpu", action="store_true", help="run on the CPU without CUDA")
    args = parser.parse_args(argv)

    try:
        import torch
    except ImportError:
        print("gpu_check: torch is not installed; install the AI stack first", file=sys.stderr)
        return 2
    cuda = torch.cuda.is_available()
    if not cuda and not args.allow_cpu:
        print(
            "gpu_check: no CUDA device visible to torch "
            f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); nothing to check. "
            "Run it on a GPU machine, or pass --allow-cpu to exercise the script on the CPU.",
            file=sys.stderr,
        )
        return 2
    warnings.filterwarnings("ignore", message=".*torch.jit.script. is deprecated")
    device, dtype = ("cuda", "float16") if cuda else ("cpu", "float32")
    report: dict[str, Any] = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "dtype": dtype,
        "runs": args.runs,
        "warmup": args.warmup,
        "size": args.size,
        "jobs": {},
    }
    print(f"gpu_check on {report['device']} ({device}, {dtype}), torch {torch.__version__}")

    with tempfile.TemporaryDirectory(prefix="nexus-gpu-check-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        sd = build_tiny_inpaint(root / "sd")
        sdxl = build_tiny_inpaint(root / "sdxl", xl=True)
        sam = build_tiny_sam2(root / "sam2", image_size=256)
        rembg_home = root / "rembg"
        matte = build_tiny_rembg(rembg_home)
        print(f"built tiny models in {time.perf_counter() - started:.1f} s")

        image, mask = _scene(args.size)
        half = args.size // 2
        jobs: list[tuple[str, AIConfig, Callable[[InferenceContext], PipelineResult]]] = [
            (
                "inpaint-sd15",
                AIConfig(device=device, dtype=dtype, inpaint_model=str(sd)),
                lambda c: inpaint(
                    c,
                    image=image,
                    mask=mask,
                    prompt="a cat",
                    seed=1,
                    steps=args.steps,
                    strength=1.0,
                ),
            ),
            (
                "inpaint-sdxl",
                AIConfig(device=device, dtype=dtype, inpaint_model=str(sdxl)),
                lambda c: inpaint(
                    c,
                    image=image,
                    mask=mask,
                    prompt="a cat",
                    seed=1,
                    steps=args.steps,
                    strength=1.0,
                ),
            ),
            (
                "segment-sam2",
                AIConfig(
                    device=device,
                    dtype=dtype,
                    sam2_config=sam.config,
                    sam2_checkpoint=sam.checkpoint,
                    sam2_overrides=sam.overrides,
                ),
                lambda c: segment(c, image=image, points=[(half, half)], box=(8, 8, half, half)),
            ),
            (
                "remove_bg-rembg",
                AIConfig(device=device, dtype=dtype, rembg_home=rembg_home, rembg_model_path=matte),
                lambda c: remove_background(c, image=image),
            ),
            (
                "inpaint-fallback",
                AIConfig(device=device, dtype=dtype),
                lambda c: inpaint(c, image=image, mask=mask),
            ),
            (
                "segment-fallback",
                AIConfig(device=device, dtype=dtype),
                lambda c: segment(c, image=image, box=(8, 8, half, half)),
            ),
        ]
        failed = False
        for name, config, job in jobs:
            try:
                report["jobs"][name] = _time_job(torch, config, job, args.warmup, args.runs)
            except Exception as exc:  # report every job, then fail at the end
                failed = True
                report["jobs"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            _print_job(name, report["jobs"][name])

        if cuda:
            report["memory_manager"] = _check_eviction(torch, sd, sam)
            print("memory manager:", json.dumps(report["memory_manager"]))
            failed = failed or not report["memory_manager"]["ok"]

    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if failed else 0


def _scene(size: int) -> tuple[Any, Any]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    mask = Image.new("L", (size, size), 0)
    mask.paste(255, (size // 4, size // 4, size // 2, size // 2))
    return image, mask


def _time_job(
    torch: Any,
    config: AIConfig,
    job: Callable[[InferenceContext], PipelineResult],
    warmup: int,
    runs: int,
) -> dict[str, Any]:
    cuda = torch.cuda.is_available()
    with InferenceContext(config) as ctx:
        load_started = time.perf_counter()
        result = job(ctx)  # the first run loads the model
        first = time.perf_counter() - load_started
        for _ in range(max(0, warmup - 1)):
            job(ctx)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            result = job(ctx)
            if cuda:
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - started)
        models = ctx.registry.snapshot()["models"]
    return {
        "backend": result.backend,
        "device": result.device,
        "dtype": result.dtype,
        "first_run_s": round(first, 4),
        "median_s": round(statistics.median(seconds), 4),
        "min_s": round(min(seconds), 4),
        "peak_gpu_bytes": int(torch.cuda.max_memory_allocated()) if cuda else None,
        "model_bytes": sum(m["bytes"] for m in models),
        "model_bytes_measured": all(m["measured"] for m in models) if models else None,
        "size": list(result.image.size),
    }


def _print_job(name: str, row: dict[str, Any]) -> None:
    if "error" in row:
        print(f"{name:18s} FAILED {row['error']}")
        return
    peak = row["peak_gpu_bytes"]
    peak_text = f"{peak / 2**20:8.1f} MiB peak" if peak is not None else "   (no GPU)"
    print(
        f"{name:18s} {row['backend']:22s} {row['device']:7s} {row['dtype']:9s} "
        f"median {row['median_s'] * 1000:8.1f} ms  first {row['first_run_s']:.2f} s  {peak_text}"
        f"  models {row['model_bytes'] / 2**20:.1f} MiB"
    )


def _check_eviction(torch: Any, sd: Path, sam: Any) -> dict[str, Any]:
    """Budget of 1 byte: using SAM2 after SD must move SD's weights off the GPU."""
    config = AIConfig(
        device="cuda",
        dtype="float16",
        vram_budget=1,
        evict_to="cpu",
        inpaint_model=str(sd),
        sam2_config=sam.config,
        sam2_checkpoint=sam.checkpoint,
        sam2_overrides=sam.overrides,
    )
    image, mask = _scene(256)
    with InferenceContext(config) as ctx:
        inpaint(ctx, image=image, mask=mask, steps=1, strength=1.0, seed=0)
        torch.cuda.synchronize()
        with_sd = int(torch.cuda.memory_allocated())
        segment(ctx, image=image, box=(8, 8, 200, 200))
        torch.cuda.synchronize()
        snapshot = ctx.registry.snapshot()
        after = int(torch.cuda.memory_allocated())
        states = {m["backend"]: m["state"] for m in snapshot["models"]}
        sizes = {m["backend"]: m["bytes"] for m in snapshot["models"]}
        inpaint(ctx, image=image, mask=mask, steps=1, strength=1.0, seed=0)  # moves back
        back = {m["backend"]: m["state"] for m in ctx.registry.snapshot()["models"]}
    ok = states.get("diffusers") == "offloaded" and back.get("diffusers") == "resident"
    return {
        "ok": ok,
        "states_after_segment": states,
        "states_after_second_inpaint": back,
        "measured_bytes": sizes,
        "allocated_with_sd": with_sd,
        "allocated_after_sd_offloaded": after,
        "evictions": snapshot["evictions"],
    }


if __name__ == "__main__":
    sys.exit(main())
