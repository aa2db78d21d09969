/**
 * The document composite on the GPU, the browser twin of collab/render/compositor.py: the
 * background, then every drawn layer bottom first, each blended over the result so far with its
 * mode and opacity, in float render targets (so nothing rounds to 8 bits between layers; the
 * server works in float32 too). The layers below the active one are kept composited in a cache
 * target; a frame then blends only the active layer and those above it.
 *
 * A layer covering little of the document is blended in place: its box is copied to the spare
 * target and blended back from there. A large one is blended into the spare target over the
 * whole document, and the two swap.
 */

import { RenderTexture, type TextureSource, type WebGLRenderer } from "pixi.js";
import { type Box, type LayerDraw, Passes } from "./passes";

/** A layer ready to composite: its draw and its box in document pixels (clipped or not). */
export interface PlannedLayer {
  readonly draw: LayerDraw;
  readonly box: Box;
  /** changes whenever anything about the layer's pixels or blending changes */
  readonly key: string;
}

/** What one frame composites. */
export interface CompositePlan {
  readonly width: number;
  readonly height: number;
  /** premultiplied background (zero for transparent) */
  readonly background: readonly [number, number, number, number];
  readonly layers: readonly PlannedLayer[];
  /** layers[0 .. cacheBelow) may come from the cache (the ones below the active layer) */
  readonly cacheBelow: number;
}

/**
 * Float formats: 32-bit up to 2^23 pixels (4096 x 2048), 16-bit beyond, to bound GPU memory
 * (three targets). Half floats match the server within 1 level except near the edges of the
 * discontinuous modes (hard-mix, burn, dodge), where a pixel may flip.
 */
const FLOAT32_MAX_PIXELS = 1 << 23;

function clipBox(box: Box, width: number, height: number): Box | null {
  const left = Math.max(0, Math.floor(box[0]));
  const top = Math.max(0, Math.floor(box[1]));
  const right = Math.min(width, Math.ceil(box[2]));
  const bottom = Math.min(height, Math.ceil(box[3]));
  return left < right && top < bottom ? [left, top, right, bottom] : null;
}

/** Composites plans into float render targets, with the below-the-active-layer cache. */
export class LayerCompositor {
  private readonly passes: Passes;
  private targets: [RenderTexture, RenderTexture] | null = null;
  private cache: RenderTexture | null = null;
  private cacheKey: string | null = null;
  private current = 0;
  private width = 0;
  private height = 0;
  /** passes drawn by the last composite (for tests and the benchmark) */
  lastPassCount = 0;

  constructor(private readonly renderer: WebGLRenderer) {
    this.passes = new Passes(renderer);
  }

  /** The result of the last composite (premultiplied, float), or null before the first. */
  get result(): TextureSource | null {
    return this.targets ? this.targets[this.current].source : null;
  }

  /** Composite `plan`; with `useCache`, the layers below the active one come from the cache. */
  composite(plan: CompositePlan, useCache: boolean): TextureSource {
    this.ensureSize(plan.width, plan.height);
    const targets = this.targets as [RenderTexture, RenderTexture];
    const full: Box = [0, 0, plan.width, plan.height];
    this.lastPassCount = 0;
    let start = 0;
    if (useCache && plan.cacheBelow > 0) {
      const key = this.keyOf(plan, plan.cacheBelow);
      const cache = this.ensureCache();
      if (key !== this.cacheKey) {
        this.current = 0;
        this.fillBackground(plan);
        this.blendRange(plan, 0, plan.cacheBelow);
        this.passes.copy(targets[this.current].source, cache.source, full);
        this.lastPassCount++;
        this.cacheKey = key;
      } else {
        this.current = 0;
        this.passes.copy(cache.source, targets[0].source, full);
        this.lastPassCount++;
      }
      start = plan.cacheBelow;
    } else {
      this.current = 0;
      this.fillBackground(plan);
    }
    this.blendRange(plan, start, plan.layers.length);
    return targets[this.current].source;
  }

  /** Forget the cached composite (the next cached frame rebuilds it). */
  invalidateCache(): void {
    this.cacheKey = null;
  }

  /** Drop the cache target (e.g. while the cache is disabled). */
  releaseCache(): void {
    this.cache?.destroy(true);
    this.cache = null;
    this.cacheKey = null;
  }

  /**
   * 8-bit unpremultiplied RGBA of `source` (float, premultiplied) from (x, y), `width` x
   * `height` pixels, rows top first, read back at once (a GPU stall: for single pixels).
   */
  readPixels(source: TextureSource, x: number, y: number, width: number, height: number): Uint8ClampedArray {
    const out = RenderTexture.create({ width, height, format: "rgba8unorm", scaleMode: "nearest" });
    try {
      this.passes.output(source, out.source, [x, y]);
      return this.renderer.texture.getPixels(out).pixels;
    } finally {
      out.destroy(true);
    }
  }

  /**
   * As readPixels, but through a pixel buffer and a fence, so the page never waits on the GPU
   * (Chromium logs a warning for every synchronous read that stalls).
   */
  async readPixelsAsync(
    source: TextureSource,
    x: number,
    y: number,
    width: number,
    height: number,
  ): Promise<Uint8ClampedArray> {
    const gl = this.renderer.gl;
    const out = RenderTexture.create({ width, height, format: "rgba8unorm", scaleMode: "nearest" });
    const buffer = gl.createBuffer();
    const data = new Uint8ClampedArray(width * height * 4);
    try {
      this.passes.output(source, out.source, [x, y]); // leaves out's framebuffer bound
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, buffer);
      gl.bufferData(gl.PIXEL_PACK_BUFFER, data.byteLength, gl.STREAM_READ);
      gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, 0);
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
      const fence = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
      gl.flush();
      if (fence) {
        const started = performance.now();
        while (gl.clientWaitSync(fence, 0, 0) === gl.TIMEOUT_EXPIRED && performance.now() - started < 10_000) {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        gl.deleteSync(fence);
      }
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, buffer);
      gl.getBufferSubData(gl.PIXEL_PACK_BUFFER, 0, data);
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
      return data;
    } finally {
      gl.deleteBuffer(buffer);
      out.destroy(true);
    }
  }

  destroy(): void {
    this.targets?.forEach((target) => {
      target.destroy(true);
    });
    this.targets = null;
    this.releaseCache();
    this.passes.destroy();
  }

  private keyOf(plan: CompositePlan, count: number): string {
    const parts = [`${plan.width}x${plan.height}`, plan.background.join(",")];
    for (let i = 0; i < count; i++) parts.push(plan.layers[i].key);
    return parts.join("|");
  }

  private fillBackground(plan: CompositePlan): void {
    const target = (this.targets as [RenderTexture, RenderTexture])[this.current];
    this.passes.fill(target.source, [0, 0, plan.width, plan.height], plan.background);
    this.lastPassCount++;
  }

  private blendRange(plan: CompositePlan, from: number, to: number): void {
    const targets = this.targets as [RenderTexture, RenderTexture];
    const area = plan.width * plan.height;
    for (let i = from; i < to; i++) {
      const layer = plan.layers[i];
      const box = clipBox(layer.box, plan.width, plan.height);
      if (!box) continue;
      const current = targets[this.current].source;
      const spare = targets[1 - this.current].source;
      if ((box[2] - box[0]) * (box[3] - box[1]) * 2 < area) {
        this.passes.copy(current, spare, box);
        this.passes.blend(spare, current, box, layer.draw);
        this.lastPassCount += 2;
      } else {
        this.passes.blend(current, spare, [0, 0, plan.width, plan.height], layer.draw);
        this.current = 1 - this.current;
        this.lastPassCount++;
      }
    }
  }

  private format(): "rgba32float" | "rgba16float" {
    return this.width * this.height <= FLOAT32_MAX_PIXELS ? "rgba32float" : "rgba16float";
  }

  private ensureSize(width: number, height: number): void {
    if (this.targets && this.width === width && this.height === height) return;
    this.targets?.forEach((target) => {
      target.destroy(true);
    });
    this.releaseCache();
    this.width = width;
    this.height = height;
    const make = (): RenderTexture =>
      RenderTexture.create({ width, height, format: this.format(), scaleMode: "nearest", antialias: false });
    this.targets = [make(), make()];
    this.current = 0;
  }

  private ensureCache(): RenderTexture {
    this.cache ??= RenderTexture.create({
      width: this.width,
      height: this.height,
      format: this.format(),
      scaleMode: "nearest",
      antialias: false,
    });
    return this.cache;
  }
}
