import { describe, expect, it } from "vitest";
import { presenceTitle } from "./presenceText";

describe("presenceTitle", () => {
  it("names the person, their layer and what a click does", () => {
    expect(presenceTitle("Alice", "Sky")).toBe("Alice — on layer 'Sky' · click to follow");
    expect(presenceTitle("Alice", null, { following: true })).toBe("Alice · click to stop following");
    expect(presenceTitle("Me", "Sky", { self: true })).toBe("Me (you) — on layer 'Sky'");
  });
});
