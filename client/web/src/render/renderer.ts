/**
 * The canvas of the editor: a Pixi v8 WebGL application that draws the document exactly as
 * the server's compositor exports it (collab/render/compositor.py), under the camera, over a
 * checkerboard. Frames are drawn on demand (a change marks the view dirty and asks for one
 * animation frame), never in a loop.
 *
 * Layers: raster images from the blob store, paint layers rasterized from their strokes
 * (paintLayer.ts), composited in float on the GPU by the project's own blend programs
 * (compositor.ts, blendShaders.ts). The layers below the active one stay composited in a cache;
 * a frame re-blends the active layer and those above it (setCacheEnabled(false): everything).
 */

import { Application, type WebGLRenderer } from "pixi.js";
import type { Camera, CanvasMeta, DocumentChange, Layer } from "../document/types";
import { BlobTextures } from "./blobTextures";
import { LayerCompositor } from "./compositor";
import { Scene } from "./scene";
import { DocumentView } from "./view";

export interface RendererOptions {
  /** the below-the-active-layer cache (default on) */
  cache?: boolean;
  /** where raster layers' images are fetched (default `/api/blobs/{sha256}`, same origin) */
  blobUrl?: (sha256: string) => string;
}

/** Draws a document into a host element; see the module comment. */
export class CanvasRenderer {
  readonly rendererName: string;
  readonly canvas: HTMLCanvasElement;
  private readonly renderer: WebGLRenderer;
  private readonly view: DocumentView;
  private readonly compositor: LayerCompositor;
  private readonly blobs: BlobTextures;
  private readonly scene: Scene;
  private readonly resizeObserver: ResizeObserver;
  private meta: CanvasMeta | null = null;
  private layers: readonly Layer[] = [];
  private activeId: string | null = null;
  private cacheEnabled: boolean;
  private documentDirty = false;
  private frameRequested = 0;
  private frames = 0;
  private lastMs = 0;
  private waiters: (() => void)[] = [];
  private destroyed = false;

  private constructor(
    private readonly app: Application,
    private readonly host: HTMLElement,
    options: RendererOptions,
  ) {
    this.renderer = app.renderer as WebGLRenderer;
    this.rendererName = app.renderer.name;
    this.canvas = app.canvas;
    this.cacheEnabled = options.cache ?? true;
    this.compositor = new LayerCompositor(this.renderer);
    const blobUrl = options.blobUrl ?? ((sha: string) => `/api/blobs/${encodeURIComponent(sha)}`);
    this.blobs = new BlobTextures(blobUrl, () => this.markDocumentDirty());
    this.scene = new Scene(this.blobs);
    this.view = new DocumentView(Boolean(this.renderer.context.extensions.floatTextureLinear));
    app.stage.addChild(this.view.stage);
    this.canvas.style.display = "block";
    this.canvas.style.touchAction = "none";
    host.appendChild(this.canvas);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
    this.canvas.addEventListener("webglcontextrestored", this.onContextRestored);
    this.resize();
  }

  /** A renderer filling `host` (and following its size). */
  static async create(host: HTMLElement, opts: RendererOptions = {}): Promise<CanvasRenderer> {
    const app = new Application();
    await app.init({
      preference: "webgl",
      useBackBuffer: true,
      antialias: false,
      premultipliedAlpha: true,
      resolution: 1,
      autoDensity: false,
      backgroundAlpha: 0,
      autoStart: false,
      sharedTicker: false,
      width: Math.max(1, host.clientWidth),
      height: Math.max(1, host.clientHeight),
    });
    return new CanvasRenderer(app, host, opts);
  }

  /** Show this document state; `change` (from the session) says what to redraw. */
  setDocument(meta: CanvasMeta, layers: readonly Layer[], change?: DocumentChange): void {
    const resized = !this.meta || this.meta.width !== meta.width || this.meta.height !== meta.height;
    this.meta = meta;
    this.layers = layers;
    if (!change || change.meta || change.structure || resized) this.scene.markChanged("all");
    else this.scene.markChanged(change.layers);
    this.markDocumentDirty();
  }

  /** The layer being edited: the ones below it are cached together. */
  setActiveLayer(id: string | null): void {
    if (id === this.activeId) return;
    this.activeId = id;
    this.markDocumentDirty();
  }

  setCamera(camera: Camera): void {
    this.view.setCamera(camera);
    this.requestFrame();
  }

  /** Off: every frame composites every layer (the benchmark's baseline). */
  setCacheEnabled(on: boolean): void {
    this.cacheEnabled = on;
    if (!on) this.compositor.releaseCache();
    this.markDocumentDirty();
  }

  /** Resolves after a frame that drew every layer with all its images loaded. */
  whenRendered(): Promise<void> {
    if (this.isComplete()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.requestFrame();
    });
  }

  /** The document at 100 % (no checkerboard, no camera): 8-bit RGBA, not premultiplied. */
  async readDocumentPixels(): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
    await this.whenRendered();
    const meta = this.meta;
    const result = this.compositor.result;
    if (!meta || !result) return { width: 0, height: 0, data: new Uint8ClampedArray(0) };
    return {
      width: meta.width,
      height: meta.height,
      data: await this.compositor.readPixelsAsync(result, 0, 0, meta.width, meta.height),
    };
  }

  /** The composite's colour (unpremultiplied RGBA, 0..255) at a document pixel, or null outside. */
  samplePixel(docX: number, docY: number): [number, number, number, number] | null {
    const meta = this.meta;
    const result = this.compositor.result;
    const x = Math.floor(docX);
    const y = Math.floor(docY);
    if (!meta || !result || x < 0 || y < 0 || x >= meta.width || y >= meta.height) return null;
    const pixel = this.compositor.readPixels(result, x, y, 1, 1);
    return [pixel[0], pixel[1], pixel[2], pixel[3]];
  }

  frameStats(): { frames: number; lastMs: number } {
    return { frames: this.frames, lastMs: this.lastMs };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.frameRequested) cancelAnimationFrame(this.frameRequested);
    this.resizeObserver.disconnect();
    this.canvas.removeEventListener("webglcontextrestored", this.onContextRestored);
    this.scene.destroy();
    this.blobs.destroy();
    this.compositor.destroy();
    this.view.destroy();
    this.app.destroy({ removeView: true }, { children: true });
    for (const resolve of this.waiters) resolve();
    this.waiters = [];
  }

  private readonly onContextRestored = (): void => {
    this.compositor.invalidateCache();
    this.scene.markChanged("all");
    this.markDocumentDirty();
  };

  private markDocumentDirty(): void {
    this.documentDirty = true;
    this.requestFrame();
  }

  private requestFrame(): void {
    if (this.frameRequested || this.destroyed) return;
    this.frameRequested = requestAnimationFrame(() => {
      this.frameRequested = 0;
      this.frame();
    });
  }

  private isComplete(): boolean {
    return !this.documentDirty && this.frames > 0 && !this.scene.pending(this.layers);
  }

  private frame(): void {
    if (this.destroyed) return;
    const started = performance.now();
    if (this.documentDirty && this.meta) {
      this.documentDirty = false;
      const plan = this.scene.plan(this.meta, this.layers, this.activeId);
      const result = this.compositor.composite(plan, this.cacheEnabled);
      this.view.setDocument(result, this.meta.width, this.meta.height);
    }
    this.app.render();
    this.frames++;
    this.lastMs = performance.now() - started;
    this.host.dataset.rendered = String(this.frames);
    if (this.isComplete()) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private resize(): void {
    const width = Math.max(1, this.host.clientWidth);
    const height = Math.max(1, this.host.clientHeight);
    if (this.renderer.width !== width || this.renderer.height !== height) this.renderer.resize(width, height);
    this.requestFrame();
  }
}
