import { useEffect, useState } from "react";
import { currentAuthMode } from "../../auth/authApi";
import { authManager } from "../../auth/authManager";
import { signInUrl } from "./nextPath";

/** Token mode: who is signed in and "Sign out" (or "Sign in" on a share link). Open mode: nothing. */
export function AccountBadge() {
	const tokens = currentAuthMode() === "tokens";
	const [user, setUser] = useState(() => (tokens ? authManager().user : null));

	useEffect(() => {
		if (!tokens) return;
		return authManager().onChange((next) => setUser(next?.user ?? null));
	}, [tokens]);

	if (!tokens) return null;
	if (!user) {
		return (
			<a
				href={signInUrl(location.pathname)}
				className="rounded px-2 py-1 text-xs text-blue-300 hover:bg-neutral-700 hover:text-white"
			>
				Sign in
			</a>
		);
	}
	return (
		<div
			className="flex items-center gap-1 text-xs text-neutral-300"
			data-testid="account-badge"
		>
			<span title={`Signed in as ${user.name}`} className="max-w-32 truncate">
				{user.name}
			</span>
			<button
				type="button"
				onClick={() => {
					authManager().signOut();
					location.assign("/signin");
				}}
				className="rounded px-2 py-1 text-neutral-400 hover:bg-neutral-700 hover:text-white"
			>
				Sign out
			</button>
		</div>
	);
}
