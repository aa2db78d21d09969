import { describe, expect, it } from "vitest";
import { parseTokens, shareLinkUrl, shareTokenOf } from "./tokens";

describe("tokens", () => {
	it("reads back what was stored and refuses anything else", () => {
		const t = {
			user: { id: "u1", name: "ann" },
			accessToken: "a",
			refreshToken: "r",
			expiresAt: 5,
		};
		expect(parseTokens(JSON.stringify(t))).toEqual(t);
		expect(parseTokens(null)).toBeNull();
		expect(parseTokens("{")).toBeNull();
		expect(parseTokens(JSON.stringify({ ...t, accessToken: 3 }))).toBeNull();
		expect(parseTokens(JSON.stringify({ ...t, user: null }))).toBeNull();
	});

	it("puts a share token in the fragment and reads it back", () => {
		const url = shareLinkUrl("http://h:1/", "my doc", "x.y-z");
		expect(url).toBe("http://h:1/d/my%20doc#share=x.y-z");
		expect(shareTokenOf(new URL(url).hash)).toBe("x.y-z");
		expect(shareTokenOf("#other=1")).toBeNull();
	});
});
