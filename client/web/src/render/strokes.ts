/**
 * Paint-layer strokes rasterized with Canvas 2D exactly as the server's strokes.py does with
 * skia-python (Chromium's Canvas 2D is Skia too): each stroke one path (a single point is a
 * round dot), round caps and joins, width `size * (1 + h) / 2` and a Gaussian blur of sigma
 * `(1 - h) * size / 12` when the hardness h < 1, colour alpha x opacity; an eraser removes
 * (destination-out) by its opacity.
 *
 * The blur is Skia's blur mask filter, as on the server: Canvas 2D reaches it through a shadow
 * (`shadowBlur = 2 sigma`, the spec's definition) cast by the path drawn far outside the canvas.
 * `ctx.filter = blur()` is an image filter instead and differs by up to 15 levels (and more for
 * erasers), so it is not used. Contexts ask for `willReadFrequently`, which keeps Chromium's
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

function tracePath(ctx: Context2D, points: readonly number[], width: number, dx: number): void {
  ctx.beginPath();
  if (points.length < 4) {
    // a zero-length segment with round caps is a dot; Canvas 2D drops such segments, so fill it
    ctx.arc(points[0] + dx, points[1], width / 2, 0, Math.PI * 2);
    return;
  }
  ctx.moveTo(points[0] + dx, points[1]);
  for (let i = 2; i + 1 < points.length; i += 2) ctx.lineTo(points[i] + dx, points[i + 1]);
}

/**
 * Draw one stroke onto `ctx`, whose transform maps layer-local coordinates to its pixels (a
 * translation). `reachX` is how far right of the canvas a shadow caster must go to be outside.
 */
export function drawStroke(ctx: Context2D, stroke: Stroke, canvasWidth: number): void {
  if (!drawsSomething(stroke)) return;
  const [width, sigma] = softRamp(stroke);
  const dot = stroke.points.length < 4;
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
    const transform = ctx.getTransform();
    const reach = width / 2 + 3 * sigma + 2;
    let shift = 1024;
    while (shift < canvasWidth + Math.abs(transform.e) + reach * 2 + maxX(stroke.points)) shift *= 2;
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
