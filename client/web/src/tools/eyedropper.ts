/** The eyedropper: the composited colour under a document point. */
import type { CanvasRenderer } from "../render/renderer";

function hex2(value: number): string {
  return Math.max(0, Math.min(255, Math.round(value)))
    .toString(16)
    .padStart(2, "0");
}

export function rgbToHex(r: number, g: number, b: number): string {
  return `#${hex2(r)}${hex2(g)}${hex2(b)}`;
}

export type PickResult = { readonly color: string } | { readonly hint: string } | null;

/** The colour at (x, y) in document pixels; a hint when there is nothing opaque there; null outside. */
export function pickColour(renderer: Pick<CanvasRenderer, "samplePixel">, x: number, y: number): PickResult {
  const rgba = renderer.samplePixel(x, y);
  if (!rgba) return null;
  const [r, g, b, a] = rgba;
  if (a === 0)
    return {
      hint: "Nothing to pick there: the canvas is transparent at that point",
    };
  return { color: rgbToHex(r, g, b) };
}
