/** Which layers accept paint or a move, and the hint shown when one refuses. */
import type { Layer, StrokeTool } from "../document/types";

function quoted(layer: Layer): string {
  return `‘${layer.name || "Untitled"}’`;
}

/** null when `tool` may paint on `layer`, else the hint to show. */
export function paintRefusal(layer: Layer, tool: StrokeTool): string | null {
  if (layer.locked) return `${quoted(layer)} is locked — unlock it in the Layers panel`;
  if (!layer.visible) return `${quoted(layer)} is hidden — show it in the Layers panel to paint on it`;
  if (layer.kind === "group") return `${quoted(layer)} is a group — pick a paint layer to ${verb(tool)}`;
  if (layer.kind !== "paint") {
    return `${quoted(layer)} is an image layer — add or pick a paint layer to ${verb(tool)}`;
  }
  return null;
}

function verb(tool: StrokeTool): string {
  return tool === "eraser" ? "erase" : "paint";
}

/** null when `layer` may be moved, else the hint to show. */
export function moveRefusal(layer: Layer): string | null {
  if (layer.locked) return `${quoted(layer)} is locked — unlock it in the Layers panel`;
  if (!layer.visible) return `${quoted(layer)} is hidden — show it in the Layers panel to move it`;
  return null;
}

/** The layer the tools act on: the selected one, else the top one, else null. */
export function targetLayer(layers: readonly Layer[], activeId: string | null): Layer | null {
  if (activeId) {
    const found = layers.find((layer) => layer.id === activeId);
    if (found) return found;
  }
  return layers.length > 0 ? layers[layers.length - 1] : null;
}

/** `[` / `]`: brush size steps that feel even from 1 px to large brushes. */
export function nextBrushSize(size: number, direction: 1 | -1): number {
  const step = sizeStep(direction > 0 ? size : size - 1e-6);
  const next = direction > 0 ? Math.floor(size / step) * step + step : Math.ceil(size / step) * step - step;
  return Math.min(MAX_BRUSH_SIZE, Math.max(1, next));
}

function sizeStep(size: number): number {
  return size < 10 ? 1 : size < 50 ? 5 : size < 100 ? 10 : size < 300 ? 25 : 50;
}

export const MAX_BRUSH_SIZE = 1000;
