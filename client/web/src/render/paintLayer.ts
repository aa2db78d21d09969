/**
 * A paint layer's pixels: its strokes rasterized into a canvas on the document's pixel grid
 * (the layer's offset applied while drawing, as the server draws them), uploaded as a
 * premultiplied texture. The canvas covers the server's tiles over the document, plus a margin
 * for soft strokes' blur (marginFor).
 *
 * A growing stroke stays cheap: once a layer is edited, a second canvas keeps every stroke but
 * the last; the next frame copies it and draws only the last stroke on top. Any other change
 * (a stroke removed or changed below the top one, the layer moved) redraws the layer.
 */

import { CanvasSource } from "pixi.js";
import type { Layer, Stroke } from "../document/types";
import { type Context2D, drawStroke, drawsSomething, type Placement, softRamp, TILE } from "./strokes";

interface DrawnStroke {
  readonly stroke: Stroke;
  /** the stroke's point count when drawn (points only ever grow in place) */
  readonly pointCount: number;
}

function sameStyle(a: Stroke, b: Stroke): boolean {
  return (
    a.id === b.id &&
    a.tool === b.tool &&
    a.color === b.color &&
    a.size === b.size &&
    a.hardness === b.hardness &&
    a.opacity === b.opacity
  );
}

/** Whether `next` draws exactly what `drawn` drew. */
function unchanged(drawn: DrawnStroke, next: Stroke): boolean {
  if (drawn.stroke === next && next.points.length === drawn.pointCount) return true;
  if (!sameStyle(drawn.stroke, next) || next.points.length !== drawn.pointCount) return false;
  const old = drawn.stroke.points;
  if (old === next.points) return true;
  for (let i = 0; i < drawn.pointCount; i++) if (old[i] !== next.points[i]) return false;
  return true;
}

/** The index of the first stroke of `next` that `drawn` does not hold as is. */
function firstDifference(drawn: readonly DrawnStroke[], next: readonly Stroke[]): number {
  const n = Math.min(drawn.length, next.length);
  for (let i = 0; i < n; i++) if (!unchanged(drawn[i], next[i])) return i;
  return n;
}

function remembered(strokes: readonly Stroke[]): DrawnStroke[] {
  return strokes.map((stroke) => ({ stroke, pointCount: stroke.points.length }));
}

/**
 * Canvas pixels needed beyond the document's edges for `layer`: a shadow's blur only sees the
 * canvas, so a soft stroke near an edge needs its blur's reach (3 sigma) of canvas beyond it
 * to fade as on the server (whose blur sees the whole path). Rounded up to 32 pixels.
 */
export function marginFor(layer: Layer): number {
  let sigma = 0;
  for (const stroke of layer.strokes) if (drawsSomething(stroke)) sigma = Math.max(sigma, softRamp(stroke)[1]);
  if (sigma === 0) return 0;
  return Math.ceil((3 * sigma + 4) / 32) * 32;
}

function context(canvas: OffscreenCanvas): Context2D {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!ctx) throw new Error("no 2D context for a paint layer");
  return ctx;
}

/** The rasterized strokes of one paint layer. */
export class PaintLayer {
  readonly source: CanvasSource;
  private readonly canvas: OffscreenCanvas;
  private readonly ctx: Context2D;
  private base: OffscreenCanvas | null = null;
  private baseCtx: Context2D | null = null;
  /** the strokes `base` holds */
  private baseDrawn: DrawnStroke[] = [];
  /** the strokes the visible canvas holds */
  private drawn: DrawnStroke[] = [];
  private offset: [number, number] = [Number.NaN, Number.NaN];
  /** bumped whenever the pixels change */
  version = 0;

  /**
   * canvas pixels: the server's tiles over the document (whole tiles, so that a hard stroke is
   * clipped where the server clips it), plus `margin` on every side
   */
  readonly width: number;
  readonly height: number;

  constructor(
    documentWidth: number,
    documentHeight: number,
    /** canvas pixels beyond the tiles (the canvas' top-left is document (-margin, -margin)) */
    readonly margin: number,
  ) {
    this.width = Math.ceil(documentWidth / TILE) * TILE + 2 * margin;
    this.height = Math.ceil(documentHeight / TILE) * TILE + 2 * margin;
    this.canvas = new OffscreenCanvas(this.width, this.height);
    this.ctx = context(this.canvas);
    this.source = new CanvasSource({
      resource: this.canvas,
      alphaMode: "premultiply-alpha-on-upload", // the canvas is premultiplied: uploaded as is
      scaleMode: "nearest",
      autoGarbageCollect: false,
    });
  }

  /** Bring the pixels up to date with `layer`; returns whether they changed. */
  update(layer: Layer): boolean {
    const strokes = layer.strokes;
    if (this.offset[0] !== layer.x || this.offset[1] !== layer.y) {
      this.offset = [layer.x, layer.y];
      this.redraw(strokes);
      return true;
    }
    const first = firstDifference(this.drawn, strokes);
    if (first === strokes.length && first === this.drawn.length) return false;
    if (strokes.length > 0 && (this.base !== null || first >= strokes.length - 1)) {
      this.drawTop(strokes);
    } else {
      this.redraw(strokes);
    }
    return true;
  }

  destroy(): void {
    this.source.destroy();
    this.canvas.width = 0;
    this.canvas.height = 0;
    this.base = null;
    this.baseCtx = null;
  }

  private draw(ctx: Context2D, strokes: readonly Stroke[], from: number, to: number): void {
    const placement: Placement = {
      x: this.offset[0],
      y: this.offset[1],
      originX: -this.margin,
      originY: -this.margin,
      width: this.width,
      height: this.height,
    };
    for (let i = from; i < to; i++) drawStroke(ctx, strokes[i], placement);
  }

  /** Everything from scratch into the visible canvas; the base is dropped. */
  private redraw(strokes: readonly Stroke[]): void {
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.ctx.clearRect(0, 0, this.width, this.height);
    this.draw(this.ctx, strokes, 0, strokes.length);
    this.base = null;
    this.baseCtx = null;
    this.baseDrawn = [];
    this.remember(strokes);
  }

  /** Make `base` hold strokes[0 .. n-1) (n = strokes.length), drawing only what it lacks. */
  private ensureBase(strokes: readonly Stroke[]): void {
    const want = strokes.length - 1;
    if (!this.base || !this.baseCtx) {
      this.base = new OffscreenCanvas(this.width, this.height);
      this.baseCtx = context(this.base);
      this.baseDrawn = [];
    }
    let from = this.baseDrawn.length;
    if (from > want || firstDifference(this.baseDrawn, strokes) < from) {
      this.baseCtx.setTransform(1, 0, 0, 1, 0, 0);
      this.baseCtx.clearRect(0, 0, this.width, this.height);
      from = 0;
    }
    this.draw(this.baseCtx, strokes, from, want);
    this.baseDrawn = remembered(strokes.slice(0, want));
  }

  /** The base (brought to strokes[0 .. n-1)), then the last stroke, into the visible canvas. */
  private drawTop(strokes: readonly Stroke[]): void {
    this.ensureBase(strokes);
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.save();
    ctx.globalCompositeOperation = "copy";
    ctx.drawImage(this.base as OffscreenCanvas, 0, 0);
    ctx.restore();
    this.draw(ctx, strokes, strokes.length - 1, strokes.length);
    this.remember(strokes);
  }

  private remember(strokes: readonly Stroke[]): void {
    this.drawn = remembered(strokes);
    this.version++;
    this.source.update();
  }
}
