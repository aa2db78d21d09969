import { describe, expect, it } from "vitest";
import { documentPath } from "./openDocument";

describe("documentPath", () => {
  it("encodes the id", () => {
    expect(documentPath("abc", "")).toBe("/d/abc");
    expect(documentPath("a b/c", "")).toBe("/d/a%20b%2Fc");
  });
  it("keeps only the identity parameters", () => {
    expect(documentPath("x", "?user=u-1&name=Alice&foo=1")).toBe("/d/x?user=u-1&name=Alice");
    expect(documentPath("x", "?foo=1")).toBe("/d/x");
  });
});
