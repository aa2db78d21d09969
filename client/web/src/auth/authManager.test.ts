import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/rest";
import { AuthManager, refreshDelay } from "./authManager";
import type { AccountTokens } from "./tokens";

const user = { id: "u1", name: "ann" };
const tokens = (access: string, expiresAt: number): AccountTokens => ({
	user,
	accessToken: access,
	refreshToken: "r",
	expiresAt,
});

describe("refreshDelay", () => {
	it("refreshes a minute early, or at 80 % of a short lifetime", () => {
		expect(refreshDelay(900_000, 0)).toBe(840_000);
		expect(refreshDelay(100_000, 0)).toBe(80_000);
		expect(refreshDelay(0, 5_000)).toBe(0);
	});
});

describe("AuthManager", () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => vi.useRealTimers());

	it("refreshes before expiry and tells the listeners", async () => {
		let n = 0;
		const saved: (AccountTokens | null)[] = [];
		const manager = new AuthManager({
			load: () => tokens("a0", Date.now() + 100_000),
			save: (t) => saved.push(t),
			refresh: async (t) => ({
				...t,
				accessToken: `a${++n}`,
				expiresAt: Date.now() + 100_000,
			}),
		});
		const seen: (string | null)[] = [];
		manager.onChange((t) => seen.push(t?.accessToken ?? null));
		expect(manager.accessToken()).toBe("a0");
		await vi.advanceTimersByTimeAsync(79_000);
		expect(seen).toEqual([]);
		await vi.advanceTimersByTimeAsync(2_000);
		expect(seen).toEqual(["a1"]);
		expect(saved.at(-1)?.accessToken).toBe("a1");
		await vi.advanceTimersByTimeAsync(80_000);
		expect(seen).toEqual(["a1", "a2"]);
		manager.destroy();
	});

	it("signs out when the server refuses the refresh token, retries when unreachable", async () => {
		let answer: ApiError = new ApiError(0, "network_error", "down");
		const manager = new AuthManager({
			load: () => tokens("a0", Date.now() + 10_000),
			save: () => {},
			refresh: async () => {
				throw answer;
			},
		});
		await manager.refreshNow();
		expect(manager.user).toEqual(user); // unreachable: still signed in
		answer = new ApiError(401, "bad_token", "token expired");
		await vi.advanceTimersByTimeAsync(10_000);
		expect(manager.user).toBeNull();
		manager.destroy();
	});

	it("refreshes an expired token before handing it out", async () => {
		const manager = new AuthManager({
			load: () => tokens("old", Date.now() - 1),
			save: () => {},
			refresh: async (t) => ({
				...t,
				accessToken: "new",
				expiresAt: Date.now() + 900_000,
			}),
		});
		expect(await manager.freshToken()).toBe("new");
		manager.destroy();
	});
});
