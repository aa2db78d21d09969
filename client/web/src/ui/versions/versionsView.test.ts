import { describe, expect, it } from "vitest";
import type { VersionSummary } from "../../api/rest";
import { displayScale, previewScale } from "./VersionPreview";
import { filterVersions, sameVersions, sortVersions, versionNameProblem, versionTitle } from "./versionsView";

function version(id: number, label: string | null, createdAt: number): VersionSummary {
  return { id, label, kind: label ? "named" : "auto", createdAt, seq: id, size: 10 };
}

describe("versions view", () => {
  it("names automatic versions and sorts newest first", () => {
    const list = [version(1, null, 1000), version(3, "Before paint", 3000), version(2, null, 3000)];
    expect(sortVersions(list).map((v) => v.id)).toEqual([3, 2, 1]);
    expect(versionTitle(list[0] as VersionSummary)).toBe("Auto-save #1");
    expect(versionTitle(list[1] as VersionSummary)).toBe("Before paint");
    expect(filterVersions(list, "named").map((v) => v.id)).toEqual([3]);
  });

  it("sees an unchanged refetch as the same list", () => {
    const a = [version(2, "x", 1), version(1, null, 0)];
    expect(sameVersions(a, a.map((v) => ({ ...v })))).toBe(true);
    expect(sameVersions(a, [version(2, "y", 1), version(1, null, 0)])).toBe(false);
    expect(sameVersions(a, a.slice(1))).toBe(false);
  });

  it("checks a name as the server does", () => {
    expect(versionNameProblem("  ")).toBe("Give the version a name.");
    expect(versionNameProblem("x".repeat(201))).toMatch(/At most 200/);
    expect(versionNameProblem("ok")).toBeNull();
  });

  it("renders large versions scaled down and enlarges small ones in the browser", () => {
    expect(previewScale(64, 64)).toBe(1);
    expect(previewScale(1120, 500)).toBe(0.5);
    expect(displayScale(64, 64)).toBe(4);
    expect(displayScale(300, 200)).toBe(1);
  });
});
