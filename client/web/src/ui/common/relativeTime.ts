/**
 * "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then a date.
 * Times are ms since the epoch; a value below 1e11 is taken as seconds (the server's records
 * carry seconds), so callers may pass either.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** ms since the epoch from a timestamp in ms or seconds. */
export function toMillis(at: number): number {
  return Math.abs(at) < 1e11 ? at * 1000 : at;
}

export function relativeTime(at: number, now: number = Date.now()): string {
  const ms = toMillis(at);
  const diff = now - ms;
  if (!Number.isFinite(diff)) return "";
  if (diff < 45_000) return "just now";
  if (diff < HOUR) return `${Math.max(1, Math.round(diff / MINUTE))} min ago`;
  if (diff < DAY) return `${Math.round(diff / HOUR)} h ago`;
  if (diff < 2 * DAY) return "yesterday";
  if (diff < 7 * DAY) return `${Math.floor(diff / DAY)} days ago`;
  const date = new Date(ms);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString(
    undefined,
    sameYear ? { month: "short", day: "numeric" } : { year: "numeric", month: "short", day: "numeric" },
  );
}

/** The full date and time, for a title tooltip. */
export function absoluteTime(at: number): string {
  return new Date(toMillis(at)).toLocaleString();
}
