"""The printed report: per-run figures, medians over runs, ratios and the target."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

CONFIGS = (("top", True), ("top", False), ("middle", True), ("middle", False))
TARGET = 5.0


def key(layer: str, cache: bool) -> str:
    return f"{layer} layer, cache {'on' if cache else 'off'}"


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def median(values: Sequence[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return statistics.median(vals) if vals else math.nan


def _f(v: float, digits: int = 0) -> str:
    return "-" if math.isnan(v) else f"{v:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, sep, *body])


def summarize(run: dict[str, Any]) -> dict[str, Any]:
    """A run's figures: per configuration p50/p95 of frame and input-to-pixels; ratios."""
    out: dict[str, Any] = {"configs": {}, "ratio": {}}
    for layer, cache in CONFIGS:
        r = run["strokes"][key(layer, cache)]
        out["configs"][key(layer, cache)] = {
            "frames": len(r["frame"]),
            "frame_p50": pct(r["frame"], 50),
            "frame_p95": pct(r["frame"], 95),
            "cpu_p50": pct(r["cpu"], 50),
            "latency_p50": pct(r["latency"], 50),
            "latency_p95": pct(r["latency"], 95),
            "warmup": r["warmup_ms"],
        }
    for layer in ("top", "middle"):
        on = out["configs"][key(layer, True)]
        off = out["configs"][key(layer, False)]
        out["ratio"][layer] = off["frame_p50"] / on["frame_p50"]
    out["cold_open"] = run["cold_open"]["first"]
    return out


def render(runs: list[dict[str, Any]], meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    sums = [summarize(r) for r in runs]
    label = meta["label"]
    lines = [
        f"Nexus Canvas browser app, {label}: {meta['gpu']}",
        f"document {meta['size']}x{meta['size']}, 20 layers (9 raster, 11 paint; mixed modes incl. "
        f"dissolve), stroke of {meta['points']} points in batches of {meta['batch']} "
        f"(one transaction + one frame each); viewport {meta['viewport']}",
        "frame = renderer's frame time (CPU) + wait for the GPU to finish it (1-px readPixels); "
        "input-to-pixels = append -> GPU finished the frame that drew it",
        "",
    ]
    header = ["run", "configuration", "frames", "frame p50 ms", "frame p95 ms", "CPU part p50",
              "in-to-px p50 ms", "in-to-px p95 ms", "first frame ms"]  # fmt: skip
    rows = []
    for i, s in enumerate(sums, 1):
        for name, c in s["configs"].items():
            rows.append([str(i), name, str(c["frames"]), _f(c["frame_p50"]), _f(c["frame_p95"]),
                         _f(c["cpu_p50"]), _f(c["latency_p50"]), _f(c["latency_p95"]),
                         _f(c["warmup"])])  # fmt: skip
    lines += ["Each run:", table(header, rows), ""]
    rows = []
    for i, s in enumerate(sums, 1):
        rows.append([str(i), f"{s['ratio']['top']:.1f}x", f"{s['ratio']['middle']:.1f}x",
                     _f(s["cold_open"])])  # fmt: skip
    lines += [table(["run", "top off/on", "middle off/on", "cold open ms"], rows), ""]

    med: dict[str, Any] = {"configs": {}}
    rows = []
    for layer, cache in CONFIGS:
        name = key(layer, cache)
        cs = [s["configs"][name] for s in sums]
        m = {f: median([c[f] for c in cs]) for f in cs[0]}
        med["configs"][name] = m
        frames = "/".join(str(c["frames"]) for c in cs)
        rows.append([name, frames, _f(m["frame_p50"]), _f(m["frame_p95"]),
                     _f(m["latency_p50"]), _f(m["latency_p95"])])  # fmt: skip
    header = ["configuration", "frames per run", "frame p50 ms", "frame p95 ms",
              "in-to-px p50 ms", "in-to-px p95 ms"]  # fmt: skip
    lines += [f"Medians over {len(sums)} run(s), {label}:", table(header, rows), ""]
    top = median([s["ratio"]["top"] for s in sums])
    mid = median([s["ratio"]["middle"] for s in sums])
    cold = median([s["cold_open"] for s in sums])
    med |= {"ratio_top": top, "ratio_middle": mid, "cold_open": cold}
    verdict = "PASS" if top >= TARGET else "FAIL"
    med["verdict"] = verdict
    rows = [
        ["top layer: full re-composite / cached frame (p50)", f"{top:.1f}x",
         f"{verdict} (target >= {TARGET:.0f}x)"],
        ["middle layer: full re-composite / cached frame (p50)", f"{mid:.1f}x", "as measured"],
        [f"cold open of {meta['cold_strokes']} strokes: navigation start -> first complete frame",
         f"{_f(cold)} ms", "as measured"],
    ]  # fmt: skip
    lines += [table(["figure", "median", "verdict"], rows)]
    return "\n".join(lines), med
