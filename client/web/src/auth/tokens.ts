/**
 * Token storage for token mode (docs/security.md): the account's access and refresh tokens in
 * localStorage ("nexus.auth"), and share-link tokens per document in sessionStorage
 * ("nexus.share.<docId>", this tab only). A share link is `/d/{docId}#share=<token>`: the token
 * travels in the fragment, which the browser never sends to a server or in a Referer.
 */

export const AUTH_KEY = "nexus.auth";
const SHARE_PREFIX = "nexus.share.";

export interface AccountTokens {
	readonly user: { readonly id: string; readonly name: string };
	readonly accessToken: string;
	readonly refreshToken: string;
	/** when the access token expires, ms since the epoch */
	readonly expiresAt: number;
}

function storageOf(kind: "local" | "session"): Storage | null {
	try {
		if (kind === "local")
			return typeof localStorage === "undefined" ? null : localStorage;
		return typeof sessionStorage === "undefined" ? null : sessionStorage;
	} catch {
		return null; // storage disabled
	}
}

function isText(value: unknown): value is string {
	return typeof value === "string" && value !== "";
}

/** The stored tokens, or null when there are none (or they are not readable). */
export function parseTokens(text: string | null): AccountTokens | null {
	if (!text) return null;
	try {
		const raw: unknown = JSON.parse(text);
		if (typeof raw !== "object" || raw === null) return null;
		const { user, accessToken, refreshToken, expiresAt } = raw as Record<
			string,
			unknown
		>;
		if (typeof user !== "object" || user === null) return null;
		const { id, name } = user as Record<string, unknown>;
		if (
			!isText(id) ||
			!isText(name) ||
			!isText(accessToken) ||
			!isText(refreshToken)
		)
			return null;
		if (typeof expiresAt !== "number" || !Number.isFinite(expiresAt))
			return null;
		return { user: { id, name }, accessToken, refreshToken, expiresAt };
	} catch {
		return null;
	}
}

export function loadTokens(): AccountTokens | null {
	try {
		return parseTokens(storageOf("local")?.getItem(AUTH_KEY) ?? null);
	} catch {
		return null;
	}
}

export function saveTokens(tokens: AccountTokens | null): void {
	const store = storageOf("local");
	try {
		if (tokens) store?.setItem(AUTH_KEY, JSON.stringify(tokens));
		else store?.removeItem(AUTH_KEY);
	} catch {
		// private mode or quota: the tokens live for this page only
	}
}

/** The share-link URL of `docId` for `token`, on `origin`. */
export function shareLinkUrl(
	origin: string,
	docId: string,
	token: string,
): string {
	return `${origin.replace(/\/+$/, "")}/d/${encodeURIComponent(docId)}#share=${encodeURIComponent(token)}`;
}

/** The share token a URL fragment carries (`#share=...`), or null. */
export function shareTokenOf(hash: string): string | null {
	const params = new URLSearchParams(hash.replace(/^#/, ""));
	const token = params.get("share");
	return token ? token : null;
}

/** Keep a share link's token for `docId` in this tab (null forgets it). */
export function rememberShareToken(docId: string, token: string | null): void {
	const store = storageOf("session");
	try {
		if (token) store?.setItem(SHARE_PREFIX + docId, token);
		else store?.removeItem(SHARE_PREFIX + docId);
	} catch {
		// storage disabled: the token lives in this page's URL only
	}
}

export function shareTokenFor(docId: string): string | null {
	try {
		return storageOf("session")?.getItem(SHARE_PREFIX + docId) ?? null;
	} catch {
		return null;
	}
}

/**
 * Take a share token out of the page's URL fragment (and keep it for this tab) so that it does
 * not stay in the address bar or the history; answers the share token for `docId`, if any.
 */
export function adoptShareToken(docId: string): string | null {
	if (typeof location === "undefined") return shareTokenFor(docId);
	const fromUrl = shareTokenOf(location.hash);
	if (fromUrl) {
		rememberShareToken(docId, fromUrl);
		try {
			history.replaceState(
				history.state,
				"",
				`${location.pathname}${location.search}`,
			);
		} catch {
			// a sandboxed page: the fragment stays
		}
	}
	return fromUrl ?? shareTokenFor(docId);
}
