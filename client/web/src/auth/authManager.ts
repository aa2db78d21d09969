/**
 * The signed-in account of this tab in token mode: its tokens, kept fresh. The access token is
 * refreshed shortly before it expires (a minute before, or at 80 % of a shorter lifetime); each
 * new token goes to the listeners (the REST client, the open document's connection). A refresh
 * the server refuses (401: the refresh token expired or is forged) signs the person out; one
 * that cannot reach the server is tried again a little later.
 */
import { ApiError } from "../api/rest";
import { refresh as refreshTokens } from "./authApi";
import { type AccountTokens, loadTokens, saveTokens } from "./tokens";

const RETRY_MS = 10_000;
const MIN_DELAY_MS = 1_000;

export interface AuthManagerOptions {
	refresh?: (tokens: AccountTokens) => Promise<AccountTokens>;
	load?: () => AccountTokens | null;
	save?: (tokens: AccountTokens | null) => void;
	now?: () => number;
}

/** When to refresh a token that expires at `expiresAt`, as a delay from `now` (ms). */
export function refreshDelay(
	expiresAt: number,
	now: number,
	lifetime = expiresAt - now,
): number {
	const early = Math.min(60_000, Math.max(0, lifetime) * 0.2);
	return Math.max(0, expiresAt - now - early);
}

export class AuthManager {
	private tokens: AccountTokens | null;
	private timer: ReturnType<typeof setTimeout> | null = null;
	private inflight: Promise<AccountTokens | null> | null = null;
	private readonly listeners = new Set<
		(tokens: AccountTokens | null) => void
	>();
	private readonly doRefresh: (tokens: AccountTokens) => Promise<AccountTokens>;
	private readonly save: (tokens: AccountTokens | null) => void;
	private readonly now: () => number;

	constructor(opts: AuthManagerOptions = {}) {
		this.doRefresh = opts.refresh ?? ((t) => refreshTokens(t));
		this.save = opts.save ?? saveTokens;
		this.now = opts.now ?? Date.now;
		this.tokens = (opts.load ?? loadTokens)();
		this.schedule();
	}

	/** The account signed in, or null. */
	get user(): AccountTokens["user"] | null {
		return this.tokens?.user ?? null;
	}

	/** The current access token (possibly about to be refreshed), or null when signed out. */
	accessToken(): string | null {
		return this.tokens?.accessToken ?? null;
	}

	/** A usable access token: refreshed first when it has expired (null: signed out). */
	async freshToken(): Promise<string | null> {
		if (this.tokens && this.tokens.expiresAt - this.now() < MIN_DELAY_MS)
			await this.refreshNow();
		return this.accessToken();
	}

	/** Called with every new token, and with null on sign-out. */
	onChange(listener: (tokens: AccountTokens | null) => void): () => void {
		this.listeners.add(listener);
		return () => {
			this.listeners.delete(listener);
		};
	}

	signIn(tokens: AccountTokens): void {
		this.set(tokens);
	}

	signOut(): void {
		this.set(null);
	}

	/** Refresh now (one request at a time); resolves with the tokens after it. */
	refreshNow(): Promise<AccountTokens | null> {
		const current = this.tokens;
		if (!current) return Promise.resolve(null);
		this.inflight ??= this.doRefresh(current)
			.then((next) => {
				if (this.tokens === current) this.set(next);
				return this.tokens;
			})
			.catch((error: unknown) => {
				if (
					error instanceof ApiError &&
					error.status === 401 &&
					this.tokens === current
				)
					this.set(null);
				else this.retryLater();
				return this.tokens;
			})
			.finally(() => {
				this.inflight = null;
			});
		return this.inflight;
	}

	destroy(): void {
		this.clearTimer();
		this.listeners.clear();
	}

	private set(tokens: AccountTokens | null): void {
		this.tokens = tokens;
		this.save(tokens);
		this.schedule();
		for (const listener of this.listeners) listener(tokens);
	}

	private clearTimer(): void {
		if (this.timer !== null) clearTimeout(this.timer);
		this.timer = null;
	}

	private schedule(): void {
		this.clearTimer();
		if (!this.tokens) return;
		const delay = refreshDelay(this.tokens.expiresAt, this.now());
		this.timer = setTimeout(
			() => void this.refreshNow(),
			Math.max(MIN_DELAY_MS, delay),
		);
	}

	private retryLater(): void {
		this.clearTimer();
		this.timer = setTimeout(() => void this.refreshNow(), RETRY_MS);
	}
}

let shared: AuthManager | null = null;

/** This tab's account (created on first use from the stored tokens). */
export function authManager(): AuthManager {
	shared ??= new AuthManager();
	return shared;
}
