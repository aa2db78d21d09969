/** Stable colours and initials for people (history dots, avatars). */

const PALETTE = [
  "#e5484d",
  "#f76b15",
  "#ffb224",
  "#46a758",
  "#12a594",
  "#0090ff",
  "#3e63dd",
  "#8e4ec6",
  "#d6409f",
  "#a18072",
] as const;

/** FNV-1a 32-bit hash of a string. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A palette colour picked by the user id, the same on every machine. */
export function colorForUser(userId: string): string {
  return PALETTE[hashString(userId) % PALETTE.length];
}

/** One or two letters: "Alice Smith" -> "AS", "bob" -> "B", "" -> "?". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = Array.from(words[0])[0] ?? "";
  const last = words.length > 1 ? (Array.from(words[words.length - 1])[0] ?? "") : "";
  return (first + last).toUpperCase() || "?";
}

/** Black or white text, whichever reads better on `#rrggbb`. */
export function textOn(background: string): string {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(background);
  if (!match) return "#ffffff";
  const [r, g, b] = [match[1], match[2], match[3]].map((h) => Number.parseInt(h, 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 160 ? "#111111" : "#ffffff";
}
