/** Sizes, validation and background choices of the "New canvas" dialog (pure). */

export interface SizePreset {
  readonly label: string;
  readonly width: number;
  readonly height: number;
}

export const SIZE_PRESETS: readonly SizePreset[] = [
  { label: "Square", width: 1024, height: 1024 },
  { label: "Full HD", width: 1920, height: 1080 },
  { label: "Story", width: 1080, height: 1920 },
  { label: "Small", width: 512, height: 512 },
  { label: "Large square", width: 2048, height: 2048 },
];

export const MIN_DIMENSION = 1;
export const MAX_DIMENSION = 32768;

/** A width or height typed by the person: an integer 1..32768, or an error naming the value. */
export function parseDimension(text: string, what: "Width" | "Height"): number | { error: string } {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    return {
      error: `${what} must be a whole number of pixels from ${MIN_DIMENSION} to ${MAX_DIMENSION}, got '${text}'`,
    };
  }
  const value = Number(trimmed);
  if (value < MIN_DIMENSION || value > MAX_DIMENSION) {
    return {
      error: `${what} must be from ${MIN_DIMENSION} to ${MAX_DIMENSION} pixels, got ${value}`,
    };
  }
  return value;
}

/** The preset matching a size, or null (custom). */
export function presetFor(width: number, height: number): SizePreset | null {
  return SIZE_PRESETS.find((p) => p.width === width && p.height === height) ?? null;
}

export type BackgroundChoice = "white" | "transparent" | "color";

/** The document's `background` value: `#ffffff`, `transparent` or the picked `#rrggbb`. */
export function backgroundValue(choice: BackgroundChoice, color: string): string {
  if (choice === "white") return "#ffffff";
  if (choice === "transparent") return "transparent";
  return /^#[0-9a-fA-F]{6}$/.test(color) ? color.toLowerCase() : "#ffffff";
}

/** The name to create with: trimmed, "Untitled" when empty. */
export function canvasName(text: string): string {
  const trimmed = text.trim();
  return trimmed === "" ? "Untitled" : trimmed;
}
