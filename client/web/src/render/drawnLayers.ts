/** Which layers the server's compositor draws, and where a paint layer can have pixels. */

import type { Layer } from "../document/types";
import type { Box } from "./passes";
import { strokeBounds } from "./strokes";

/** Whether the server's compositor draws the layer at all. */
export function isDrawn(layer: Layer): boolean {
  return layer.visible && layer.opacity > 0 && (layer.kind === "raster" || layer.kind === "paint");
}

/** The brush strokes' reach in document pixels, with the server's pixel of margin, or null. */
export function paintBox(layer: Layer): Box | null {
  let box: [number, number, number, number] | null = null;
  for (const stroke of layer.strokes) {
    if (stroke.tool === "eraser") continue; // erasers only remove
    const bounds = strokeBounds(stroke);
    if (!bounds) continue;
    box = box
      ? [Math.min(box[0], bounds[0]), Math.min(box[1], bounds[1]), Math.max(box[2], bounds[2]), Math.max(box[3], bounds[3])]
      : bounds;
  }
  if (!box) return null;
  return [
    Math.floor(layer.x + box[0]) - 1,
    Math.floor(layer.y + box[1]) - 1,
    Math.ceil(layer.x + box[2]) + 1,
    Math.ceil(layer.y + box[3]) + 1,
  ];
}
