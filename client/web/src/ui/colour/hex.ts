/** `#rrggbb` (lower case) from what the person typed ("#A1B2C3", "a1b2c3", "#abc"), or null. */
export function parseHexColour(text: string): string | null {
  const value = text.trim().replace(/^#/, "").toLowerCase();
  if (/^[0-9a-f]{6}$/.test(value)) return `#${value}`;
  if (/^[0-9a-f]{3}$/.test(value)) return `#${[...value].map((c) => c + c).join("")}`;
  return null;
}
