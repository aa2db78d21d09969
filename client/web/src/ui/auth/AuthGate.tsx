import { type ReactNode, useEffect, useState } from "react";
import { type AuthMode, serverAuthMode } from "../../auth/authApi";
import { authManager } from "../../auth/authManager";
import { adoptShareToken } from "../../auth/tokens";
import { signInUrl } from "./nextPath";

export interface AuthGateProps {
	/** "account": a signed-in account; "doc": an account or this document's share link; "none" */
	need: "account" | "doc" | "none";
	docId?: string;
	children: ReactNode;
}

function here(): string {
	return `${location.pathname}${location.search}`;
}

/**
 * Asks the server how it runs (`/health`'s `auth`); in token mode sends a person without a
 * token for this page to the sign-in page, and there again after signing out. Open mode renders
 * the page as it always did.
 */
export function AuthGate({ need, docId, children }: AuthGateProps) {
	const [mode, setMode] = useState<AuthMode | null>(null);
	const [shared] = useState(() =>
		docId ? adoptShareToken(docId) !== null : false,
	);

	useEffect(() => {
		let live = true;
		serverAuthMode().then(async (found) => {
			// an access token that expired while the tab was closed: refresh it before connecting
			if (found === "tokens" && authManager().user)
				await authManager().freshToken();
			if (live) setMode(found);
		});
		return () => {
			live = false;
		};
	}, []);

	const gated =
		mode === "tokens" && need !== "none" && !(need === "doc" && shared);
	const signedIn = mode === "tokens" && authManager().user !== null;

	useEffect(() => {
		if (!gated) return;
		if (!signedIn) {
			location.replace(signInUrl(here()));
			return;
		}
		return authManager().onChange((tokens) => {
			if (tokens === null) location.assign(signInUrl(here()));
		});
	}, [gated, signedIn]);

	if (mode === null || (gated && !signedIn)) {
		return (
			<div className="flex h-full items-center justify-center bg-neutral-900 text-sm text-neutral-400">
				<p role="status" className="animate-pulse">
					Loading…
				</p>
			</div>
		);
	}
	return <>{children}</>;
}
