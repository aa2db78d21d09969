"""``python -m bench.web``: the browser app's benchmark in headless Chromium (docs/performance.md).

    .venv/bin/python -m bench.web                       # the issue's sizes, 3 runs
    .venv/bin/python -m bench.web --runs 1 --size 1024 --cold-strokes 2000   # a quick look

A 20-layer document (raster images and paint layers, mixed modes incl. dissolve) gets a
scripted stroke on its top layer and on its middle layer, layer cache on and off, in the same
page; then a fresh browser opens a document of many strokes cold. The server is
``nexus-canvas serve`` on a temporary data directory; the browser is /usr/bin/chromium through
Python Playwright with the tests' flags (WebGL on SwiftShader, software, where there is no GPU).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.web import documents, page, report, server
from tests.web.browser import WEB_DIST, PageLog, chromium


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.web",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--size", type=int, default=2048, help="document width = height (2048)")
    p.add_argument("--points", type=int, default=600, help="points in the scripted stroke (600)")
    p.add_argument("--batch", type=int, default=10, help="points appended per frame (10)")
    p.add_argument("--runs", type=int, default=3, help="repetitions; medians over them (3)")
    p.add_argument(
        "--off-frames",
        type=int,
        default=10,
        help="measure the cache-off configurations over at most this many frames (their "
        "stroke stops there; 0 = the whole stroke); default 10, as a software full re-composite "
        "takes seconds",
    )
    p.add_argument(
        "--middle-frames",
        type=int,
        default=20,
        help="the same cap for the middle layer with the cache on (default 20; 0 = all)",
    )
    p.add_argument(
        "--strokes-per-layer", type=int, default=30, help="strokes on each paint layer (30)"
    )
    p.add_argument(
        "--cold-strokes", type=int, default=20000, help="strokes of the cold-open document"
    )
    p.add_argument("--json", type=Path, help="write every measurement here")
    return p


def stroke_path(size: int, n: int) -> list[float]:
    """A wave across the document, left to right (x, y flat)."""
    points: list[float] = []
    for i in range(n):
        u = i / max(n - 1, 1)
        x = size * (0.1 + 0.8 * u)
        y = size * (0.5 + 0.3 * math.sin(6 * math.pi * u))
        points += [round(x, 2), round(y, 2)]
    return points


def _label(renderer: str) -> str:
    if "swiftshader" in renderer.lower() or not renderer:
        return "software WebGL (SwiftShader)"
    return f"WebGL on {renderer}"


def _cap(frames: int, total: int) -> int:
    return total if frames <= 0 else min(frames, total)


def main(argv: list[str] | None = None) -> int:
    opts = _parser().parse_args(argv)
    if not (WEB_DIST / "index.html").is_file():
        raise SystemExit(f"the browser app is not built in {WEB_DIST} (make web)")
    started = time.monotonic()
    points = stroke_path(opts.size, opts.points)
    total_frames = math.ceil(max(opts.points - opts.batch, 0) / opts.batch)
    caps = {
        ("top", True): total_frames,
        ("top", False): _cap(opts.off_frames, total_frames),
        ("middle", True): _cap(opts.middle_frames, total_frames),
        ("middle", False): _cap(opts.off_frames, total_frames),
    }
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)
    runs: list[dict[str, Any]] = []
    problems: list[str] = []
    gpu: dict[str, str] = {}
    with server.serve() as base:
        t = time.monotonic()
        doc = documents.build_stroke_doc(base, opts.size, opts.strokes_per_layer)
        cold_id = documents.build_many_strokes_doc(base, opts.size, opts.cold_strokes)
        print(f"documents built in {time.monotonic() - t:.0f} s", file=sys.stderr)
        for run in range(1, opts.runs + 1):
            record: dict[str, Any] = {"strokes": {}}
            with chromium() as browser:
                log = PageLog()
                t = time.monotonic()
                p = page.open_doc(browser, base, doc.doc_id, log)
                record["open_s"] = time.monotonic() - t
                gpu = page.gpu_info(p)
                for (layer, cache), cap in caps.items():
                    t = time.monotonic()
                    layer_id = doc.top if layer == "top" else doc.middle
                    r = page.stroke(
                        p, layer_id, points, batch=opts.batch, cache=cache, max_frames=cap
                    )
                    record["strokes"][report.key(layer, cache)] = asdict(r)
                    print(
                        f"[run {run}] {report.key(layer, cache)}: {len(r.frame)} frames in "
                        f"{time.monotonic() - t:.0f} s, frame p50 {report.pct(r.frame, 50):.0f} "
                        f"ms, input-to-pixels p50 {report.pct(r.latency, 50):.0f} ms"
                        + (f", {r.extra_frames} extra frames" if r.extra_frames else ""),
                        file=sys.stderr,
                    )
                problems += log.problems
            with chromium() as browser:  # a fresh browser process and context
                log = PageLog()
                record["cold_open"] = page.cold_open(browser, base, cold_id, log)
                problems += log.problems
                print(
                    f"[run {run}] cold open: first complete frame at "
                    f"{record['cold_open']['first']:.0f} ms",
                    file=sys.stderr,
                )
            runs.append(record)
    meta = {
        "size": opts.size,
        "points": opts.points,
        "batch": opts.batch,
        "gpu": gpu.get("renderer", "?"),
        "gl_version": gpu.get("version", "?"),
        "label": _label(gpu.get("renderer", "")),
        "viewport": "{width}x{height}".format(**page.viewport()),
        "cold_strokes": opts.cold_strokes,
        "load_before": load,
        "load_after": os.getloadavg(),
        "seconds": time.monotonic() - started,
    }
    text, medians = report.render(runs, meta)
    print(text)
    other = sorted({p for p in problems if "GPU stall due to ReadPixels" not in p})
    if other:
        print("\nThe pages logged:\n" + "\n".join(other[:20]))
    la = meta["load_after"]
    print(
        f"\ntook {meta['seconds']:.0f} s; load average after: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}"
    )
    if opts.json:
        opts.json.write_text(
            json.dumps({"meta": meta, "runs": runs, "medians": medians}, indent=1) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
