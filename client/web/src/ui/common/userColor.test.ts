import { describe, expect, it } from "vitest";
import { colorForUser, hashString, initials, textOn } from "./userColor";

describe("colorForUser", () => {
  it("is stable and a #rrggbb colour", () => {
    expect(colorForUser("u-alice")).toBe(colorForUser("u-alice"));
    expect(colorForUser("u-alice")).toMatch(/^#[0-9a-f]{6}$/);
  });
  it("spreads different ids over the palette", () => {
    const colours = new Set(["a", "b", "c", "d", "e", "f", "g", "h"].map((id) => colorForUser(`u-${id}`)));
    expect(colours.size).toBeGreaterThan(3);
  });
  it("hashes with FNV-1a", () => {
    expect(hashString("")).toBe(0x811c9dc5);
    expect(hashString("a")).toBe(0xe40c292c);
  });
});

describe("initials", () => {
  it("takes the first letters of the first and last word", () => {
    expect(initials("Alice Smith")).toBe("AS");
    expect(initials("bob")).toBe("B");
    expect(initials("  mary  jane  watson ")).toBe("MW");
    expect(initials("")).toBe("?");
  });
});

describe("textOn", () => {
  it("picks dark text on light colours", () => {
    expect(textOn("#ffffff")).toBe("#111111");
    expect(textOn("#000000")).toBe("#ffffff");
    expect(textOn("nonsense")).toBe("#ffffff");
  });
});
