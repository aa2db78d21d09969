/**
 * How this tab connects to a document in token mode: with the share link's token when the page
 * was opened from one (kept for this tab), else with the signed-in account's access token, kept
 * fresh by the AuthManager. In open mode: no token, the local identity as before.
 */
import { setApiToken } from "../api/rest";
import { looksFor } from "../document/identity";
import type { LocalUser } from "../document/types";
import { currentAuthMode } from "./authApi";
import { authManager } from "./authManager";
import { adoptShareToken } from "./tokens";

export interface DocAuth {
	/** "share": opened from a share link; "account": signed in; "open": no tokens on this server */
	readonly kind: "open" | "share" | "account";
	readonly token: string | null;
	/** who the person is in presence (null: the local identity) */
	readonly user: LocalUser | null;
	/** calls `onToken` with each refreshed token; returns the unsubscribe */
	follow(onToken: (token: string | null) => void): () => void;
}

const NONE = () => () => {};

/** The token and identity to open `docId` with; also points the REST client at that token. */
export function docAuth(docId: string): DocAuth {
	if (currentAuthMode() !== "tokens")
		return { kind: "open", token: null, user: null, follow: NONE };
	const share = adoptShareToken(docId);
	if (share) {
		setApiToken(() => share);
		return { kind: "share", token: share, user: null, follow: NONE };
	}
	const manager = authManager();
	setApiToken(() => manager.accessToken());
	const account = manager.user;
	const user = account
		? { id: account.id, name: account.name, color: looksFor(account.id).color }
		: null;
	return {
		kind: "account",
		token: manager.accessToken(),
		user,
		follow: (onToken) =>
			manager.onChange((tokens) => onToken(tokens?.accessToken ?? null)),
	};
}

/** The REST client speaks with the account's token (home page, token mode). */
export function apiWithAccount(): void {
	if (currentAuthMode() !== "tokens") return;
	const manager = authManager();
	setApiToken(() => manager.accessToken());
}
