import { describe, expect, it } from "vitest";
import { nextPath, signInUrl } from "./nextPath";

describe("nextPath", () => {
	it("follows a path on this site", () => {
		expect(nextPath("?next=%2Fd%2Fplan")).toBe("/d/plan");
		expect(nextPath(`?${signInUrl("/d/a b").split("?")[1]}`)).toBe("/d/a b");
	});

	it("refuses other sites and goes home", () => {
		expect(nextPath("?next=https://evil.example/")).toBe("/");
		expect(nextPath("?next=//evil.example/")).toBe("/");
		expect(nextPath("?next=/\\evil.example")).toBe("/");
		expect(nextPath("")).toBe("/");
	});

	it("sends home without a next", () => {
		expect(signInUrl("/")).toBe("/signin");
	});
});
