"""What runs in the page: the scripted stroke and the cold open (see the module's JS)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tests.web.browser import PageLog, wait_ready

# One page.evaluate per configuration. Each batch of points is appended in its own
# transaction, as the brush tool does once per pointer-move frame; the session's change event
# marks the renderer dirty synchronously, the next animation frame draws it, and a 1-pixel
# read-back of the composite (samplePixel: a synchronous readPixels) waits until the GPU has
# finished every command of that frame. So:
#   input-to-pixels = from just before the append to the end of that read-back;
#   frame           = the renderer's own time for the frame (frameStats().lastMs: the CPU side,
#                     issuing the GL commands) + the read-back's wait (the GPU side).
STROKE_JS = """
async (cfg) => {
  const {session, renderer, store} = window.__nexus;
  const canvas = session.canvas;
  const drain = () => renderer.samplePixel(0, 0);
  store.getState().setActiveLayer(cfg.layerId);
  renderer.setCacheEnabled(cfg.cache);
  await renderer.whenRendered();
  drain();
  const n = cfg.points.length / 2;
  const first = Math.min(cfg.batch, n);
  let strokeId = "";
  // the stroke's first frame (a cache-on frame also rebuilds the cache below the newly active
  // layer here): warm-up, reported apart
  let t0 = performance.now();
  session.transact(() => {
    strokeId = canvas.beginStroke(cfg.layerId, {tool: "brush", color: "#ff2266", size: 28,
      hardness: 0.8, opacity: 100, points: cfg.points.slice(0, 2 * first)});
  });
  await renderer.whenRendered();
  drain();
  const warmupMs = performance.now() - t0;
  const frame = [], cpu = [], latency = [];
  let extraFrames = 0, sent = first;
  for (let i = first; i < n && frame.length < cfg.maxFrames; i += cfg.batch) {
    const chunk = cfg.points.slice(2 * i, 2 * Math.min(i + cfg.batch, n));
    const before = renderer.frameStats().frames;
    t0 = performance.now();
    session.transact(() => canvas.appendPoints(cfg.layerId, strokeId, chunk));
    await renderer.whenRendered();
    const t1 = performance.now();
    const stats = renderer.frameStats();
    drain();
    const t2 = performance.now();
    extraFrames += stats.frames - before - 1;
    frame.push(stats.lastMs + (t2 - t1));
    cpu.push(stats.lastMs);
    latency.push(t2 - t0);
    sent += chunk.length / 2;
  }
  const stroke = canvas.getLayer(cfg.layerId).strokes.find((s) => s.id === strokeId);
  return {frame, cpu, latency, warmupMs, extraFrames, pointsSent: sent,
          pointsInDoc: stroke ? stroke.points.length / 2 : -1};
}
"""

GPU_JS = """
() => {
  const c = window.__nexus.renderer.canvas;
  const gl = c.getContext("webgl2") || c.getContext("webgl");
  if (!gl) return {version: "", renderer: "", vendor: ""};
  const ext = gl.getExtension("WEBGL_debug_renderer_info");
  return {
    version: String(gl.getParameter(gl.VERSION)),
    renderer: String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER)),
    vendor: String(gl.getParameter(ext ? ext.UNMASKED_VENDOR_WEBGL : gl.VENDOR)),
  };
}
"""

# Installed before the page's own scripts. Every frame sets the canvas host's data-rendered:
# a MutationObserver (a microtask right after the frame, still before the frame's promise
# callbacks) then waits for the GPU (gl.finish, a blocking round trip in Chromium) and notes the
# time; performance.now() counts from the navigation's start. Once the editor exposes its hooks,
# wait for the first sync and then for a complete frame: the first complete frame is the last
# frame noted when that resolves (it may have been drawn before the hooks appeared).
FIRST_FRAME_INIT = """
(() => {
  const frames = [];
  window.__benchFrames = frames;
  new MutationObserver((records) => {
    const host = records[records.length - 1].target;
    const c = host.querySelector("canvas");
    const gl = c && (c.getContext("webgl2") || c.getContext("webgl"));
    if (gl) gl.finish();
    frames.push(performance.now());
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-rendered"]});
  const poll = setInterval(() => {
    const n = window.__nexus;
    if (!n || !n.session || !n.renderer) return;
    clearInterval(poll);
    window.__benchHooksAt = performance.now();
    n.session.synced
      .then(() => n.renderer.whenRendered())
      .then(() => {
        window.__benchFirstFrame = frames.length ? frames[frames.length - 1] : performance.now();
        window.__benchFramesBefore = frames.length;
      });
  }, 5);
})();
"""


@dataclass
class StrokeResult:
    frame: list[float]
    cpu: list[float]
    latency: list[float]
    warmup_ms: float
    extra_frames: int
    points: int


def viewport() -> dict[str, int]:
    return {"width": 1280, "height": 800}


def open_doc(browser: Any, base_url: str, doc_id: str, log: PageLog) -> Any:
    context = browser.new_context(viewport=viewport())
    page = context.new_page()
    log.attach(page)
    page.goto(f"{base_url}/d/{doc_id}?user=bench-web&name=Bench", timeout=120_000)
    wait_ready(page, timeout=300_000)
    return page


def gpu_info(page: Any) -> dict[str, str]:
    info: dict[str, str] = page.evaluate(GPU_JS)
    return info


def stroke(
    page: Any, layer_id: str, points: list[float], *, batch: int, cache: bool, max_frames: int
) -> StrokeResult:
    cfg = {
        "layerId": layer_id,
        "points": points,
        "batch": batch,
        "cache": cache,
        "maxFrames": max_frames,
    }
    r: dict[str, Any] = page.evaluate(STROKE_JS, cfg)
    if r["pointsInDoc"] != r["pointsSent"]:
        raise RuntimeError(f"the stroke holds {r['pointsInDoc']} points, sent {r['pointsSent']}")
    return StrokeResult(
        r["frame"], r["cpu"], r["latency"], r["warmupMs"], r["extraFrames"], r["pointsSent"]
    )


def cold_open(browser: Any, base_url: str, doc_id: str, log: PageLog) -> dict[str, Any]:
    """A fresh context (no HTTP cache, no IndexedDB): navigation start to the first complete
    frame of the synced document, GPU work included."""
    context = browser.new_context(viewport=viewport())
    try:
        context.add_init_script(FIRST_FRAME_INIT)
        page = context.new_page()
        log.attach(page)
        started = time.monotonic()
        page.goto(f"{base_url}/d/{doc_id}?user=bench-cold&name=Cold", timeout=300_000)
        page.wait_for_function("() => window.__benchFirstFrame", timeout=600_000, polling=100)
        wall = (time.monotonic() - started) * 1000
        times: dict[str, Any] = page.evaluate(
            """() => ({hooks: window.__benchHooksAt, first: window.__benchFirstFrame,
                       frames: window.__benchFramesBefore,
                       strokes: window.__nexus.session.canvas.readLayers()
                         .reduce((n, l) => n + l.strokes.length, 0),
                       name: window.__nexus.renderer.rendererName})"""
        )
        if times.pop("name") != "webgl":
            raise RuntimeError("the renderer is not WebGL")
        times["wall"] = wall
        return times
    finally:
        context.close()
