import { describe, expect, it } from "vitest";
import { relativeTime, toMillis } from "./relativeTime";

const now = Date.UTC(2026, 5, 15, 12, 0, 0);

describe("relativeTime", () => {
  it("says just now for the last 45 s and for clock skew into the future", () => {
    expect(relativeTime(now, now)).toBe("just now");
    expect(relativeTime(now - 44_000, now)).toBe("just now");
    expect(relativeTime(now + 5_000, now)).toBe("just now");
  });
  it("counts minutes, then hours", () => {
    expect(relativeTime(now - 46_000, now)).toBe("1 min ago");
    expect(relativeTime(now - 5 * 60_000, now)).toBe("5 min ago");
    expect(relativeTime(now - 59 * 60_000, now)).toBe("59 min ago");
    expect(relativeTime(now - 60 * 60_000, now)).toBe("1 h ago");
    expect(relativeTime(now - 23 * 3_600_000, now)).toBe("23 h ago");
  });
  it("says yesterday, then days", () => {
    expect(relativeTime(now - 25 * 3_600_000, now)).toBe("yesterday");
    expect(relativeTime(now - 3 * 86_400_000, now)).toBe("3 days ago");
    expect(relativeTime(now - 6.5 * 86_400_000, now)).toBe("6 days ago");
  });
  it("gives a date after a week", () => {
    const text = relativeTime(now - 30 * 86_400_000, now);
    expect(text).not.toMatch(/ago|yesterday/);
    expect(text.length).toBeGreaterThan(0);
  });
  it("accepts seconds as well as ms", () => {
    expect(toMillis(1_700_000_000)).toBe(1_700_000_000_000);
    expect(toMillis(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(relativeTime((now - 5 * 60_000) / 1000, now)).toBe("5 min ago");
  });
  it("returns an empty string for non-numbers", () => {
    expect(relativeTime(Number.NaN, now)).toBe("");
  });
});
