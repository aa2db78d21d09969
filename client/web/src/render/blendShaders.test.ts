import { describe, expect, it } from "vitest";
import type { BlendMode } from "../document/types";
import { blendFragment } from "./blendShaders";

const MODES: BlendMode[] = [
  "normal", "dissolve", "darken", "multiply", "color-burn", "linear-burn", "darker-color", "lighten", "screen",
  "color-dodge", "linear-dodge", "lighter-color", "overlay", "soft-light", "hard-light", "vivid-light",
  "linear-light", "pin-light", "hard-mix", "difference", "exclusion", "subtract", "divide", "hue", "saturation",
  "color", "luminosity",
];

describe("blend programs", () => {
  it("exist for all 27 modes, as highp GLSL ES 3.00 of the project's own", () => {
    expect(new Set(MODES).size).toBe(27);
    for (const mode of MODES) {
      const source = blendFragment(mode);
      expect(source.startsWith("#version 300 es\nprecision highp float;")).toBe(true);
      expect(source).toContain("precision highp sampler2D;");
      expect(source).toContain(mode === "dissolve" ? "dissolveNoise" : "blendColor(");
    }
  });
});
