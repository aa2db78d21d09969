import type { ShareLink } from "./sharingApi";

/** Expiry choices of a new link (seconds; null: never). */
export const EXPIRIES: readonly { label: string; seconds: number | null }[] = [
	{ label: "1 hour", seconds: 3600 },
	{ label: "1 day", seconds: 86_400 },
	{ label: "7 days", seconds: 7 * 86_400 },
	{ label: "30 days", seconds: 30 * 86_400 },
	{ label: "Never", seconds: null },
];

function span(ms: number): string {
	const minutes = Math.round(ms / 60_000);
	if (minutes < 60) return `${Math.max(1, minutes)} min`;
	const hours = Math.round(minutes / 60);
	if (hours < 48) return `${hours} h`;
	return `${Math.round(hours / 24)} days`;
}

/** "Active · expires in 3 h", "Revoked", "Expired", "Active · no expiry". */
export function linkStatus(link: ShareLink, now: number): string {
	if (link.revokedAt !== null) return "Revoked";
	if (!link.active || (link.expiresAt !== null && link.expiresAt <= now))
		return "Expired";
	return link.expiresAt === null
		? "Active · no expiry"
		: `Active · expires in ${span(link.expiresAt - now)}`;
}
