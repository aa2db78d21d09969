/** The server's account routes (`/api/auth/*`) and how it runs (`/health`'s `auth` field). */
import { ApiError } from "../api/rest";
import { type AccountTokens, loadTokens } from "./tokens";

export type AuthMode = "open" | "tokens";

async function post(
	path: string,
	body: unknown,
): Promise<Record<string, unknown>> {
	let response: Response;
	try {
		response = await fetch(path, {
			method: "POST",
			headers: {
				Accept: "application/json",
				"Content-Type": "application/json",
			},
			body: JSON.stringify(body),
		});
	} catch (error) {
		throw new ApiError(
			0,
			"network_error",
			`Cannot reach the server (${(error as Error).message || "network error"}).`,
		);
	}
	let parsed: unknown = null;
	try {
		parsed = await response.json();
	} catch {
		parsed = null;
	}
	const data =
		typeof parsed === "object" && parsed !== null
			? (parsed as Record<string, unknown>)
			: {};
	if (!response.ok) {
		const code =
			typeof data.error === "string" ? data.error : `http_${response.status}`;
		const message =
			typeof data.message === "string"
				? data.message
				: `${response.status} ${response.statusText}`.trim();
		throw new ApiError(response.status, code, message);
	}
	return data;
}

function expiresAt(data: Record<string, unknown>, now: number): number {
	const seconds =
		typeof data.expires_in === "number" && data.expires_in > 0
			? data.expires_in
			: 900;
	return now + seconds * 1000;
}

function tokensOf(data: Record<string, unknown>, now: number): AccountTokens {
	const user = (data.user ?? {}) as Record<string, unknown>;
	const { access_token, refresh_token } = data;
	if (
		typeof user.id !== "string" ||
		typeof user.name !== "string" ||
		typeof access_token !== "string" ||
		typeof refresh_token !== "string"
	) {
		throw new ApiError(
			0,
			"bad_response",
			"The server's answer did not carry the tokens.",
		);
	}
	return {
		user: { id: user.id, name: user.name },
		accessToken: access_token,
		refreshToken: refresh_token,
		expiresAt: expiresAt(data, now),
	};
}

/** Create an account (and sign in). */
export async function register(
	name: string,
	password: string,
	now = Date.now(),
): Promise<AccountTokens> {
	return tokensOf(await post("/api/auth/register", { name, password }), now);
}

export async function login(
	name: string,
	password: string,
	now = Date.now(),
): Promise<AccountTokens> {
	return tokensOf(await post("/api/auth/login", { name, password }), now);
}

/** A new access token for `tokens` (same refresh token). */
export async function refresh(
	tokens: AccountTokens,
	now = Date.now(),
): Promise<AccountTokens> {
	const data = await post("/api/auth/refresh", {
		refresh_token: tokens.refreshToken,
	});
	if (typeof data.access_token !== "string")
		throw new ApiError(
			0,
			"bad_response",
			"The server's answer did not carry a token.",
		);
	return {
		...tokens,
		accessToken: data.access_token,
		expiresAt: expiresAt(data, now),
	};
}

let modeOnce: Promise<AuthMode> | null = null;
let knownMode: AuthMode = "open";

/** The mode `serverAuthMode()` found ("open" until it answered). */
export function currentAuthMode(): AuthMode {
	return knownMode;
}

/** "tokens" when the server wants a token on every request (`/health` says `auth`). */
export function serverAuthMode(): Promise<AuthMode> {
	modeOnce ??= fetch("/health", { headers: { Accept: "application/json" } })
		.then((r) => r.json())
		.then((body: unknown) =>
			(body as { auth?: unknown } | null)?.auth === "tokens"
				? "tokens"
				: "open",
		)
		// unreachable (offline reload): tokens kept from an earlier visit say which
		.catch((): AuthMode => (loadTokens() ? "tokens" : "open"))
		.then((mode) => {
			knownMode = mode;
			return mode;
		});
	return modeOnce;
}
