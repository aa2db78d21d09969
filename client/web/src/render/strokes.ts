/**
 * Paint-layer strokes rasterized with Canvas 2D exactly as the server's strokes.py does with
 * skia-python (Chromium's Canvas 2D is Skia too): each stroke one path (a single point is a
 * round dot), round caps and joins, width `size * (1 + h) / 2` and a Gaussian blur of sigma
 * `(1 - h) * size / 12` when the hardness h < 1, colour alpha x opacity; an eraser removes
 * (destination-out) by its opacity.
 *
 * The blur: the server uses Skia's blur mask filter; Canvas 2D's shadow (`shadowBlur = 2 sigma`,
 * the spec's definition), cast by the path drawn far outside the canvas, matches it within 1.5
 * levels, where `ctx.filter = blur()` differs by up to 15 (and more for erasers). Contexts ask for `willReadFrequently`, which keeps Chromium's
 * canvas on its CPU (Skia raster) backend on every machine, the backend the server uses.
 */

import type { Stroke } from "../document/types";
import { parseColor } from "./color";

export type Context2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

/** (stroked width, blur sigma) for a stroke's size and hardness (strokes.py `_soft_ramp`). */
export function softRamp(stroke: Pick<Stroke, "size" | "hardness">): [number, number] {
  const hardness = Math.min(Math.max(stroke.hardness, 0), 1);
  if (hardness >= 1) return [stroke.size, 0];
  return [(stroke.size * (1 + hardness)) / 2, ((1 - hardness) * stroke.size) / 12];
}

/** Whether the stroke draws anything at all. */
export function drawsSomething(stroke: Stroke): boolean {
  return stroke.points.length >= 2 && stroke.size > 0;
}

/** The layer-local rectangle a stroke can touch (strokes.py `stroke_bounds`), or null. */
export function strokeBounds(stroke: Stroke): [number, number, number, number] | null {
  if (!drawsSomething(stroke)) return null;
  const [, sigma] = softRamp(stroke);
  const reach = stroke.size / 2 + 3 * sigma + 2;
  let left = Number.POSITIVE_INFINITY;
  let top = Number.POSITIVE_INFINITY;
  let right = Number.NEGATIVE_INFINITY;
  let bottom = Number.NEGATIVE_INFINITY;
  const points = stroke.points;
  for (let i = 0; i + 1 < points.length; i += 2) {
    left = Math.min(left, points[i]);
    right = Math.max(right, points[i]);
    top = Math.min(top, points[i + 1]);
    bottom = Math.max(bottom, points[i + 1]);
  }
  return [left - reach, top - reach, right + reach, bottom + reach];
}

function cssColor(stroke: Stroke): string {
  const opacity = Math.min(Math.max(stroke.opacity, 0), 100) / 100;
  if (stroke.tool === "eraser") return `rgba(0, 0, 0, ${opacity})`;
  const [r, g, b, a] = parseColor(stroke.color) ?? [0, 0, 0, 1];
  return `rgba(${r * 255}, ${g * 255}, ${b * 255}, ${a * opacity})`;
}

/** One point, or several all at the same place: Skia strokes that as a round dot. */
function isDot(points: readonly number[]): boolean {
  for (let i = 2; i + 1 < points.length; i += 2) {
    if (points[i] !== points[0] || points[i + 1] !== points[1]) return false;
  }
  return true;
}

function tracePath(ctx: Context2D, points: readonly number[], width: number, dx: number): void {
  ctx.beginPath();
  if (isDot(points)) {
    // a zero-length segment with round caps is a dot; Canvas 2D drops such segments, so fill it
    ctx.arc(points[0] + dx, points[1], width / 2, 0, Math.PI * 2);
    return;
  }
  ctx.moveTo(points[0] + dx, points[1]);
  for (let i = 2; i + 1 < points.length; i += 2) ctx.lineTo(points[i] + dx, points[i + 1]);
}

/**
 * The server rasterizes paint layers on a grid of tiles this many document pixels wide, fixed
 * at the document's origin (compositor.TILE), each tile drawn into its own surface. Skia
 * rasterizes a path differently (by up to 20 levels at its edges) when it comes within a few
 * pixels of the clip, and a blurred one when it comes within the blur's reach of it, so every
 * stroke is drawn here tile by tile, clipped to the same tiles: Chromium's Skia then takes the
 * same paths. (A soft stroke's blur still sees the canvas beyond the tile: see PaintLayer's
 * margin.)
 */
export const TILE = 256;

/** Where a layer's strokes go: its offset in the document and the canvas' document origin. */
export interface Placement {
  /** the layer's offset (document pixels) */
  readonly x: number;
  readonly y: number;
  /** the document point at the canvas' top-left pixel (integers) */
  readonly originX: number;
  readonly originY: number;
  /** canvas size in pixels */
  readonly width: number;
  readonly height: number;
}

/**
 * Draw one stroke onto `ctx` (whose transform this sets) as the server draws it into the
 * document at `placement`.
 */
export function drawStroke(ctx: Context2D, stroke: Stroke, placement: Placement): void {
  if (!drawsSomething(stroke)) return;
  const { x, y, originX, originY } = placement;
  ctx.setTransform(1, 0, 0, 1, x - originX, y - originY);
  const bounds = strokeBounds(stroke);
  if (!bounds) return;
  // The tiles the server draws it into: those its bounds (plus a pixel) overlap.
  const left = Math.max(0, Math.floor(x + bounds[0]) - 1);
  const top = Math.max(0, Math.floor(y + bounds[1]) - 1);
  const right = Math.min(originX + placement.width, Math.ceil(x + bounds[2]) + 1);
  const bottom = Math.min(originY + placement.height, Math.ceil(y + bounds[3]) + 1);
  for (let tileY = Math.floor(top / TILE) * TILE; tileY < bottom; tileY += TILE) {
    for (let tileX = Math.floor(left / TILE) * TILE; tileX < right; tileX += TILE) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(tileX - x, tileY - y, TILE, TILE);
      ctx.clip();
      paintStroke(ctx, stroke, placement);
      ctx.restore();
    }
  }
}

function paintStroke(ctx: Context2D, stroke: Stroke, placement: Placement): void {
  const [width, sigma] = softRamp(stroke);
  const dot = isDot(stroke.points);
  const color = cssColor(stroke);
  ctx.save();
  ctx.globalCompositeOperation = stroke.tool === "eraser" ? "destination-out" : "source-over";
  ctx.lineWidth = width;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  let dx = 0;
  let paint = color;
  if (sigma > 0) {
    // The shape is drawn `shift` device pixels to the left, entirely off the canvas, and only
    // its blurred shadow lands; a power of two keeps the float32 path coordinates exact.
    const reach = width / 2 + 3 * sigma + 2;
    const extent = placement.width + Math.abs(placement.x - placement.originX) + reach * 2 + maxX(stroke.points);
    let shift = 1024;
    while (shift < extent) shift *= 2;
    dx = -shift;
    ctx.shadowColor = color;
    ctx.shadowBlur = 2 * sigma;
    ctx.shadowOffsetX = shift;
    ctx.shadowOffsetY = 0;
    paint = "#000";
  }
  tracePath(ctx, stroke.points, width, dx);
  if (dot) {
    ctx.fillStyle = paint;
    ctx.fill();
  } else {
    ctx.strokeStyle = paint;
    ctx.stroke();
  }
  ctx.restore();
}

function maxX(points: readonly number[]): number {
  let most = 0;
  for (let i = 0; i < points.length; i += 2) most = Math.max(most, Math.abs(points[i]));
  return most;
}
