import { describe, expect, it } from "vitest";
import type { Layer, Stroke } from "../document/types";
import { backgroundPremultiplied, parseColor } from "./color";
import { isDrawn, paintBox } from "./drawnLayers";
import { drawsSomething, softRamp, strokeBounds } from "./strokes";

const stroke = (fields: Partial<Stroke>): Stroke => ({
  id: "s",
  tool: "brush",
  color: "#000000",
  size: 8,
  hardness: 1,
  opacity: 100,
  points: [],
  ...fields,
});

const layer = (fields: Partial<Layer>): Layer => ({
  id: "l",
  name: "",
  kind: "paint",
  blendMode: "normal",
  opacity: 100,
  visible: true,
  locked: false,
  x: 0,
  y: 0,
  blob: null,
  strokes: [],
  provenance: null,
  ...fields,
});

describe("strokes as strokes.py draws them", () => {
  it("softens the outer part of the radius (_soft_ramp)", () => {
    expect(softRamp({ size: 12, hardness: 1 })).toEqual([12, 0]);
    expect(softRamp({ size: 12, hardness: 0 })).toEqual([6, 1]);
    expect(softRamp({ size: 12, hardness: 0.5 })).toEqual([9, 0.5]);
    expect(softRamp({ size: 12, hardness: 7 })).toEqual([12, 0]); // clamped
  });

  it("bounds a stroke by its reach (stroke_bounds)", () => {
    expect(strokeBounds(stroke({ size: 10, points: [5, 6, 20, 1] }))).toEqual([-2, -6, 27, 13]);
    expect(strokeBounds(stroke({ size: 12, hardness: 0, points: [0, 0] }))).toEqual([-11, -11, 11, 11]);
    expect(strokeBounds(stroke({ points: [1] }))).toBeNull();
    expect(drawsSomething(stroke({ size: 0, points: [1, 2] }))).toBe(false);
  });

  it("bounds a paint layer by its brush strokes, erasers aside, in document pixels", () => {
    const strokes = [
      stroke({ size: 10, points: [5, 6, 20, 1] }),
      stroke({ tool: "eraser", size: 50, points: [100, 100] }),
    ];
    expect(paintBox(layer({ strokes, x: 0.5, y: -3 }))).toEqual([-3, -10, 29, 11]);
    expect(paintBox(layer({ strokes: [strokes[1]] }))).toBeNull();
  });

  it("draws the layers the server draws", () => {
    expect(isDrawn(layer({}))).toBe(true);
    expect(isDrawn(layer({ visible: false }))).toBe(false);
    expect(isDrawn(layer({ opacity: 0 }))).toBe(false);
    expect(isDrawn(layer({ kind: "group" }))).toBe(false);
  });
});

describe("colours", () => {
  it("reads #rrggbb and #rrggbbaa", () => {
    expect(parseColor("#ff0080")).toEqual([1, 0, 128 / 255, 1]);
    expect(parseColor("#00000080")).toEqual([0, 0, 0, 128 / 255]);
    expect(parseColor("red")).toBeNull();
  });

  it("premultiplies the background, transparent being zero", () => {
    expect(backgroundPremultiplied("transparent")).toEqual([0, 0, 0, 0]);
    expect(backgroundPremultiplied("#ff000080")).toEqual([128 / 255, 0, 0, 128 / 255]);
  });
});
