import { describe, expect, it } from "vitest";
import { exportFileName } from "./fileName";

describe("exportFileName", () => {
  it("keeps ordinary names", () => {
    expect(exportFileName("Poster draft", "png")).toBe("Poster draft.png");
  });

  it("removes path and reserved characters", () => {
    expect(exportFileName("a/b\\c: d?", "jpg")).toBe("a b c d.jpg");
    expect(exportFileName("..hidden", "webp")).toBe("hidden.webp");
  });

  it("never gives an empty name", () => {
    expect(exportFileName("  ", "png")).toBe("canvas.png");
    expect(exportFileName("///", "png")).toBe("canvas.png");
  });
});
