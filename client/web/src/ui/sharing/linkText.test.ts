import { describe, expect, it } from "vitest";
import { linkStatus } from "./linkText";
import type { ShareLink } from "./sharingApi";

const base: ShareLink = {
	id: "l1",
	role: "viewer",
	createdByName: "ann",
	createdAt: 0,
	expiresAt: null,
	revokedAt: null,
	active: true,
};

describe("linkStatus", () => {
	it("says how long an active link lasts", () => {
		expect(linkStatus(base, 1000)).toBe("Active · no expiry");
		expect(linkStatus({ ...base, expiresAt: 3 * 3_600_000 }, 0)).toBe(
			"Active · expires in 3 h",
		);
		expect(linkStatus({ ...base, expiresAt: 7 * 86_400_000 }, 0)).toBe(
			"Active · expires in 7 days",
		);
		expect(linkStatus({ ...base, expiresAt: 10_000 }, 0)).toBe(
			"Active · expires in 1 min",
		);
	});

	it("names revoked and expired links", () => {
		expect(linkStatus({ ...base, revokedAt: 5, active: false }, 10)).toBe(
			"Revoked",
		);
		expect(linkStatus({ ...base, expiresAt: 5 }, 10)).toBe("Expired");
	});
});
