"""Live fan-out latency of 20 editing clients, without and with exports running.

Starts ``nexus-canvas serve`` as a child process (once per render mode), creates a
2048x2048 document of raster layers in mixed blend modes plus a paint layer, connects 20
Python clients and measures, for a window without exports and an equal window during which
one client after another downloads the flattened PNG export back to back:

- fan-out latency: client 0 writes a probe value every ``--probe-ms``; each of the 19 others
  records when the change reaches it (all clients live in this process, one clock);
- meanwhile clients 1..19 each append points to their own stroke ``--rate`` times a second.

Prints p50 / p99 / max per window and render mode, and the ratio p99 exporting / p99 not
exporting, median over ``--runs`` runs (each with a fresh server), PASS when at most
``TARGET`` (issue 17). ``process`` (the default) renders in worker processes; ``thread`` in
threads of the server process, where Skia holds the GIL. The document is bench/composite.py's
(20 layers by default).

    .venv/bin/python bench/export_under_load.py [--seconds 10] [--runs 3] [--modes process,thread]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from pycrdt import Map

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.composite import make_layers
from client import CanvasClient
from tests.support.servers import ServerProcess

CLIENTS = 20
TARGET = 1.5  # fan-out p99 while exporting / p99 of the same run without


@contextlib.contextmanager
def server(data_dir: Path, mode: str) -> Any:
    proc = ServerProcess(
        data_dir,
        NEXUS_RENDER_MODE=mode,
        NEXUS_RENDER_WORKERS="1",
        NEXUS_LOG_LEVEL="WARNING",
        NEXUS_MAX_BLOB_BYTES=str(64 * 1024 * 1024),
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


async def build_document(http: httpx.AsyncClient, doc: str, layers: int) -> None:
    r = await http.post("/api/docs", json={"id": doc, "width": 2048, "height": 2048})
    r.raise_for_status()
    scene, images = make_layers(2048, layers)
    for layer in scene.layers:
        buffer = io.BytesIO()
        Image.fromarray(images[layer.blob], "RGBA").save(buffer, "PNG", compress_level=1)
        r = await http.post(
            f"/api/docs/{doc}/layers",
            files={"image": ("layer.png", buffer.getvalue())},
            data={"blend_mode": layer.blend_mode, "opacity": str(layer.opacity)},
        )
        r.raise_for_status()


@contextlib.asynccontextmanager
async def clients(url: str, doc: str) -> AsyncIterator[list[CanvasClient]]:
    group = [CanvasClient(url, doc, user=f"editor-{i}") for i in range(CLIENTS)]
    for client in group:
        await client.start()
    try:
        for client in group:
            await client.wait_synced(timeout=60)
        yield group
    finally:
        for client in group:
            await client.stop()


class Probe:
    """Client 0 writes ``bench.probe = n``; everyone else timestamps its arrival."""

    def __init__(self, group: list[CanvasClient]) -> None:
        self.sender = group[0]
        self.sent: dict[int, float] = {}
        self.samples: list[float] = []
        self.recording = False
        self._subscriptions = []
        for receiver in group[1:]:
            shared: Map[Any] = receiver.doc.get("bench", type=Map)
            self._subscriptions.append(shared.observe(self._arrived))

    def _arrived(self, event: Any) -> None:
        now = time.perf_counter()
        value = event.target.get("probe")
        sent = self.sent.get(int(value)) if isinstance(value, int | float) else None
        if sent is not None and self.recording:
            self.samples.append(now - sent)

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        shared: Map[Any] = self.sender.doc.get("bench", type=Map)
        n = 0
        while not stop.is_set():
            n += 1
            self.sent[n] = time.perf_counter()
            shared["probe"] = n
            await asyncio.sleep(interval)


async def scribble(client: CanvasClient, layer: str, rate: float, stop: asyncio.Event) -> None:
    stroke = client.canvas.begin_stroke(layer, size=4)
    x = 0
    while not stop.is_set():
        x = (x + 7) % 2048
        client.canvas.append_points(layer, stroke, [x, (x * 3) % 2048])
        await asyncio.sleep(1 / rate)


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def describe(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p50, tail, top = statistics.median(ordered) * 1000, p99(ordered) * 1000, ordered[-1] * 1000
    return f"p50 {p50:6.1f} ms  p99 {tail:6.1f} ms  max {top:6.1f} ms  n={len(ordered)}"


async def measure(url: str, http_url: str, args: argparse.Namespace) -> dict[str, Any]:
    doc = "bench-export"
    async with httpx.AsyncClient(base_url=http_url, timeout=300) as http:
        await build_document(http, doc, args.layers)
        warm = await http.get(f"/api/docs/{doc}/export")
        warm.raise_for_status()
        async with clients(url, doc) as group:
            layer = group[1].canvas.add_layer("ink", kind="paint", layer_id="ink")
            for client in group:
                await client.wait_for(lambda c=client: "ink" in c.canvas.layer_ids(), 30)
            probe = Probe(group)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(probe.run(stop, args.probe_ms / 1000))]
            tasks += [asyncio.create_task(scribble(c, layer, args.rate, stop)) for c in group[1:]]
            gc.collect()
            gc.freeze()
            await asyncio.sleep(1.0)  # settle
            probe.recording = True
            await asyncio.sleep(args.seconds)
            idle = probe.samples
            probe.samples = []
            exports: list[float] = []
            deadline = time.perf_counter() + args.seconds
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                r = await http.get(f"/api/docs/{doc}/export")
                r.raise_for_status()
                exports.append(time.perf_counter() - started)
            busy = probe.samples
            probe.recording = False
            stop.set()
            await asyncio.gather(*tasks)
            gc.unfreeze()
    return {"idle": idle, "busy": busy, "exports": exports}


async def main_async(args: argparse.Namespace) -> None:
    print(
        f"{CLIENTS} clients: a probe every {args.probe_ms} ms seen by {CLIENTS - 1}, plus "
        f"{CLIENTS - 1} x {args.rate}/s stroke points; {args.layers} layers of 2048x2048; "
        f"windows of {args.seconds} s"
    )
    for mode in args.modes.split(","):
        ratios = []
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory() as tmp, server(Path(tmp) / "data", mode) as proc:
                result = await measure(proc.url, f"http://127.0.0.1:{proc.port}", args)
            exports = result["exports"]
            mean_export = statistics.mean(exports) if exports else float("nan")
            ratios.append(p99(result["busy"]) / p99(result["idle"]))
            print(f"render mode {mode}, run {run}:")
            print(f"  fan-out, no export     {describe(result['idle'])}")
            print(f"  fan-out, exporting     {describe(result['busy'])}")
            print(f"  exports: {len(exports)} back to back, {mean_export:.2f} s each on average")
            print(f"  p99 exporting / not    {ratios[-1]:.2f}x")
        ratio = statistics.median(ratios)
        verdict = "PASS" if ratio <= TARGET else "FAIL"
        print(
            f"TARGET render mode {mode}: fan-out p99 while exporting <= {TARGET}x without: "
            f"{verdict} ({ratio:.2f}x, median of {len(ratios)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=5.0, help="points/s per scribbling client")
    parser.add_argument("--probe-ms", type=float, default=50.0)
    parser.add_argument("--modes", default="process,thread")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
