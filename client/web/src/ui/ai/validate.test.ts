import { describe, expect, it } from "vitest";
import { checkFill, checkSegmentPoints, FILL_DEFAULTS, fillRegion } from "./validate";

describe("checkFill", () => {
  it("takes the defaults, with a drawn seed unless fixed", () => {
    expect(checkFill(FILL_DEFAULTS)).toEqual({ ok: true, value: { prompt: "", steps: 30, guidance: 7.5, strength: 0.99 } });
    const fixed = checkFill({ ...FILL_DEFAULTS, seedMode: "fixed", seed: "4294967295", negativePrompt: "blur" });
    expect(fixed).toMatchObject({ ok: true, value: { seed: 4294967295, negative_prompt: "blur" } });
  });

  it("names each bad field in the server's words", () => {
    const checked = checkFill({
      ...FILL_DEFAULTS,
      steps: "0",
      guidance: "31",
      strength: "0",
      seedMode: "fixed",
      seed: "-1",
    });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.errors).toEqual({
      steps: "steps must be an integer from 1 to 500, got 0",
      guidance: "guidance must be a number from 0 to 30, got 31",
      strength: "strength must be a number from 0.01 to 1, got 0",
      seed: "seed must be an integer from 0 to 4294967295, got -1",
    });
    expect(checkFill({ ...FILL_DEFAULTS, steps: "2.5" }).ok).toBe(false);
    expect(checkFill({ ...FILL_DEFAULTS, guidance: "" }).ok).toBe(false);
    expect(checkFill({ ...FILL_DEFAULTS, prompt: "x".repeat(100_001) }).ok).toBe(false);
  });
});

describe("fillRegion", () => {
  it("pads the selection inside the canvas", () => {
    expect(fillRegion({ x: 20, y: 2, width: 10, height: 10 }, 64, 64)).toEqual({ x: 4, y: 0, width: 42, height: 28 });
  });

  it("is at least 8x8, or null on a tinier canvas", () => {
    expect(fillRegion({ x: 0, y: 0, width: 1, height: 1 }, 64, 64, 0)).toEqual({ x: 0, y: 0, width: 8, height: 8 });
    expect(fillRegion({ x: 63, y: 63, width: 1, height: 1 }, 64, 64, 0)).toEqual({ x: 56, y: 56, width: 8, height: 8 });
    expect(fillRegion({ x: 0, y: 0, width: 2, height: 2 }, 6, 64)).toBeNull();
  });
});

describe("checkSegmentPoints", () => {
  it("needs an object point inside the canvas", () => {
    expect(checkSegmentPoints([], 10, 10)).toMatch(/needs points/);
    expect(checkSegmentPoints([{ x: 1, y: 1, positive: false }], 10, 10)).toMatch(/at least one object point/);
    expect(checkSegmentPoints([{ x: 10, y: 1, positive: true }], 10, 10)).toMatch(/inside the 10x10 canvas/);
    expect(checkSegmentPoints([{ x: 9.5, y: 1, positive: true }], 10, 10)).toBeNull();
  });
});
