/** Where to go after signing in: `?next=` when it is a path on this site, else home. */
export function nextPath(search: string): string {
	const next = new URLSearchParams(search).get("next");
	return next?.startsWith("/") &&
		!next.startsWith("//") &&
		!next.startsWith("/\\")
		? next
		: "/";
}

/** The sign-in page that comes back to `path` afterwards. */
export function signInUrl(path: string): string {
	return path === "/" ? "/signin" : `/signin?next=${encodeURIComponent(path)}`;
}
