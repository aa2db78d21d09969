import { describe, expect, it } from "vitest";
import { BLEND_MODES, blendModeGroups, blendModeLabel } from "./blendModes";

describe("blend modes", () => {
  it("lists the 27 modes, normal first", () => {
    expect(BLEND_MODES).toHaveLength(27);
    expect(BLEND_MODES[0]).toBe("normal");
    expect(new Set(BLEND_MODES).size).toBe(27);
  });
  it("groups them like Photoshop", () => {
    const groups = blendModeGroups();
    expect(groups.map((g) => g[0])).toEqual(["normal", "darken", "lighten", "overlay", "difference", "hue"]);
    expect(groups.flat()).toEqual([...BLEND_MODES]);
  });
  it("labels them", () => {
    expect(blendModeLabel("color-burn")).toBe("Color burn");
    expect(blendModeLabel("normal")).toBe("Normal");
    expect(blendModeLabel("linear-dodge")).toBe("Linear dodge (add)");
  });
});
