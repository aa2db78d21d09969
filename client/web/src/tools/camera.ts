/**
 * Camera math (no DOM, no React): a document point (dx, dy) is drawn at screen
 * (x + dx * zoom, y + dy * zoom), screen coordinates being relative to the canvas area.
 */
import type { Camera } from "../document/types";

export const MIN_ZOOM = 0.02;
export const MAX_ZOOM = 64;
/** the zoom levels `+` and `-` step through */
export const ZOOM_STEPS: readonly number[] = [
  0.02, 0.03, 0.05, 0.0625, 0.1, 0.125, 0.1667, 0.25, 0.3333, 0.5, 0.6667, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48,
  64,
];

export type Point = readonly [number, number];

export interface Size {
  readonly width: number;
  readonly height: number;
}

export function clampZoom(zoom: number): number {
  if (!Number.isFinite(zoom)) return 1;
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

export function screenToDoc(camera: Camera, point: Point): [number, number] {
  return [(point[0] - camera.x) / camera.zoom, (point[1] - camera.y) / camera.zoom];
}

export function docToScreen(camera: Camera, point: Point): [number, number] {
  return [camera.x + point[0] * camera.zoom, camera.y + point[1] * camera.zoom];
}

/** Set the zoom to `zoom` (clamped) keeping the document point under `screen` in place. */
export function zoomAround(camera: Camera, screen: Point, zoom: number): Camera {
  const next = clampZoom(zoom);
  const [dx, dy] = screenToDoc(camera, screen);
  return { x: screen[0] - dx * next, y: screen[1] - dy * next, zoom: next };
}

/** Multiply the zoom by `factor` around `screen`. */
export function zoomBy(camera: Camera, screen: Point, factor: number): Camera {
  return zoomAround(camera, screen, camera.zoom * factor);
}

export function panBy(camera: Camera, dx: number, dy: number): Camera {
  return { x: camera.x + dx, y: camera.y + dy, zoom: camera.zoom };
}

export function viewCentre(view: Size): [number, number] {
  return [view.width / 2, view.height / 2];
}

/** The whole document centred in the view, `margin` screen pixels clear on each side. */
export function fitCamera(doc: Size, view: Size, margin = 24): Camera {
  if (doc.width <= 0 || doc.height <= 0 || view.width <= 0 || view.height <= 0) {
    return { x: 0, y: 0, zoom: 1 };
  }
  const room = (length: number) => Math.max(1, length - 2 * margin);
  const zoom = clampZoom(Math.min(room(view.width) / doc.width, room(view.height) / doc.height));
  return {
    x: Math.round((view.width - doc.width * zoom) / 2),
    y: Math.round((view.height - doc.height * zoom) / 2),
    zoom,
  };
}

/** 100 %: zoom 1 around the centre of the view, snapped to whole screen pixels. */
export function actualSize(camera: Camera, view: Size): Camera {
  const next = zoomAround(camera, viewCentre(view), 1);
  return { x: Math.round(next.x), y: Math.round(next.y), zoom: 1 };
}

/** The next zoom step above (direction 1) or below (-1) `zoom`. */
export function nextZoomStep(zoom: number, direction: 1 | -1): number {
  if (direction > 0) {
    return ZOOM_STEPS.find((step) => step > zoom * 1.001) ?? MAX_ZOOM;
  }
  for (let i = ZOOM_STEPS.length - 1; i >= 0; i--) {
    if (ZOOM_STEPS[i] < zoom / 1.001) return ZOOM_STEPS[i];
  }
  return MIN_ZOOM;
}

/** A wheel delta in CSS pixels (DOM_DELTA_LINE and DOM_DELTA_PAGE converted). */
export function wheelPixels(delta: number, deltaMode: number, pageHeight: number): number {
  if (deltaMode === 1) return delta * 16;
  if (deltaMode === 2) return delta * pageHeight;
  return delta;
}

/**
 * The zoom factor for a ctrl/cmd + wheel event (a trackpad pinch arrives as one): a mouse
 * notch (~100 px) zooms by about 1.6x, a pinch's small deltas smoothly.
 */
export function wheelZoomFactor(deltaPixels: number): number {
  const clamped = Math.max(-100, Math.min(100, deltaPixels));
  return Math.exp(-clamped * 0.005);
}

export function zoomPercent(zoom: number): string {
  const percent = zoom * 100;
  return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)} %`;
}
