import { describe, expect, it } from "vitest";
import { backgroundValue, canvasName, parseDimension, presetFor, SIZE_PRESETS } from "./canvasPresets";

describe("parseDimension", () => {
  it("accepts whole numbers from 1 to 32768", () => {
    expect(parseDimension("1", "Width")).toBe(1);
    expect(parseDimension(" 1920 ", "Width")).toBe(1920);
    expect(parseDimension("32768", "Height")).toBe(32768);
  });
  it("rejects out of range values, naming them", () => {
    expect(parseDimension("0", "Width")).toEqual({
      error: "Width must be from 1 to 32768 pixels, got 0",
    });
    expect(parseDimension("32769", "Height")).toEqual({
      error: "Height must be from 1 to 32768 pixels, got 32769",
    });
  });
  it("rejects fractions, signs, empty text and words", () => {
    for (const text of ["1.5", "-3", "", "abc", "1e3"]) {
      const result = parseDimension(text, "Width");
      expect(typeof result).toBe("object");
      if (typeof result === "object") expect(result.error).toContain(`'${text}'`);
    }
  });
});

describe("presets", () => {
  it("has the five agreed sizes", () => {
    expect(SIZE_PRESETS.map((p) => `${p.width}x${p.height}`)).toEqual([
      "1024x1024",
      "1920x1080",
      "1080x1920",
      "512x512",
      "2048x2048",
    ]);
  });
  it("finds the preset of a size, or none", () => {
    expect(presetFor(1920, 1080)?.label).toBe("Full HD");
    expect(presetFor(1000, 1000)).toBeNull();
  });
});

describe("backgroundValue", () => {
  it("maps the choices to the schema's values", () => {
    expect(backgroundValue("white", "#123456")).toBe("#ffffff");
    expect(backgroundValue("transparent", "#123456")).toBe("transparent");
    expect(backgroundValue("color", "#12AB56")).toBe("#12ab56");
    expect(backgroundValue("color", "red")).toBe("#ffffff");
  });
});

describe("canvasName", () => {
  it("trims and defaults to Untitled", () => {
    expect(canvasName("  Poster ")).toBe("Poster");
    expect(canvasName("   ")).toBe("Untitled");
  });
});
