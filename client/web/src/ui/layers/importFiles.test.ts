import { describe, expect, it } from "vitest";
import { layerNameForFile } from "./importFiles";

describe("layerNameForFile", () => {
  it("drops the extension", () => {
    expect(layerNameForFile({ name: "Sky at dusk.png" })).toBe("Sky at dusk");
    expect(layerNameForFile({ name: "photo.final.jpeg" })).toBe("photo.final");
  });
  it("names clipboard images", () => {
    expect(layerNameForFile({ name: "image.png" })).toBe("Pasted image");
    expect(layerNameForFile({ name: "" })).toBe("Pasted image");
  });
});
