/**
 * Index math of the layers panel. The panel lists layers top first; the document (and
 * CanvasDoc.moveLayer / addLayer) count bottom first. A drop target is a gap between rows:
 * gap g (0..n) in display order lies just above display row g.
 */

/** Display (top-first) position of the layer at bottom-first `index` among `count`. */
export function displayIndex(index: number, count: number): number {
  return count - 1 - index;
}

/**
 * The bottom-first `newIndex` for CanvasDoc.moveLayer when the row at display position `from`
 * is dropped into gap `gap`; null when the drop leaves the layer where it is.
 */
export function dropToMoveIndex(from: number, gap: number, count: number): number | null {
  if (count <= 1 || from < 0 || from >= count) return null;
  const clamped = Math.max(0, Math.min(count, gap));
  const finalDisplay = clamped > from ? clamped - 1 : clamped;
  if (finalDisplay === from) return null;
  return count - 1 - finalDisplay;
}

/** Which gap a pointer at `offsetY` within a row of `height` (display position `row`) means. */
export function gapForPointer(row: number, offsetY: number, height: number): number {
  return offsetY < height / 2 ? row : row + 1;
}

/** Where addLayer puts a new layer "above the active one" (bottom-first index; top when none). */
export function insertAboveIndex(activeIndex: number, count: number): number {
  return activeIndex < 0 || activeIndex >= count ? count : activeIndex + 1;
}

/** "Layer N" with the smallest N above every existing "Layer k" name, at least count + 1. */
export function nextLayerName(names: readonly string[]): string {
  let highest = names.length;
  for (const name of names) {
    const match = /^Layer (\d+)$/.exec(name.trim());
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return `Layer ${highest + 1}`;
}
