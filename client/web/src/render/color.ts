/** Colours of the document schema (`#rrggbb`, `#rrggbbaa`) as the server's strokes.py reads them. */

/** Unpremultiplied RGBA in 0..1. */
export type Rgba01 = [number, number, number, number];

/** `#rrggbb` or `#rrggbbaa` as unpremultiplied floats in 0..1; null for anything else. */
export function parseColor(value: string): Rgba01 | null {
  const match = /^#([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$/.exec(value);
  if (!match) return null;
  const digits = match[1] + (match[2] ?? "ff");
  const channel = (i: number): number => Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16) / 255;
  return [channel(0), channel(1), channel(2), channel(3)];
}

/** The document background as premultiplied RGBA (transparent, or an unreadable value, is zero). */
export function backgroundPremultiplied(background: string): Rgba01 {
  const color = background === "transparent" ? null : parseColor(background);
  if (!color) return [0, 0, 0, 0];
  const [r, g, b, a] = color;
  return [r * a, g * a, b * a, a];
}
