import { describe, expect, it } from "vitest";
import { parseHexColour } from "./hex";

describe("parseHexColour", () => {
  it("accepts #rrggbb in any case, with or without #, and #rgb", () => {
    expect(parseHexColour("#A1B2C3")).toBe("#a1b2c3");
    expect(parseHexColour(" a1b2c3 ")).toBe("#a1b2c3");
    expect(parseHexColour("#abc")).toBe("#aabbcc");
  });

  it("refuses anything else", () => {
    for (const bad of ["", "#", "#12345", "#1234567", "#gg0000", "red", "#12345678"]) {
      expect(parseHexColour(bad)).toBeNull();
    }
  });
});
