/** The owner's sharing routes (collab/api/sharing.py): share links and members by name. */
import { requestJson, requestRaw } from "../../api/rest";

export type ShareRole = "editor" | "viewer";

export interface ShareLink {
	id: string;
	role: ShareRole;
	createdByName: string;
	/** ms since the epoch */
	createdAt: number;
	expiresAt: number | null;
	revokedAt: number | null;
	active: boolean;
	/** only in the answer to creating it: the token is shown once */
	token?: string;
}

export interface Member {
	id: string;
	name: string;
	role: ShareRole;
}

export interface Members {
	owner: { id: string; name: string } | null;
	members: Member[];
}

interface RawLink {
	id: string;
	role: ShareRole;
	created_by: string;
	created_by_name?: string;
	created_at: number;
	expires_at: number | null;
	revoked_at: number | null;
	active: boolean;
	token?: string;
}

const enc = encodeURIComponent;
const ms = (seconds: number | null): number | null =>
	seconds === null ? null : Math.round(seconds * 1000);

function toLink(raw: RawLink): ShareLink {
	return {
		id: raw.id,
		role: raw.role,
		createdByName: raw.created_by_name ?? raw.created_by,
		createdAt: ms(raw.created_at) ?? 0,
		expiresAt: ms(raw.expires_at),
		revokedAt: ms(raw.revoked_at),
		active: raw.active,
		...(raw.token ? { token: raw.token } : {}),
	};
}

export async function listLinks(docId: string): Promise<ShareLink[]> {
	const body = await requestJson<{ links: RawLink[] }>(
		"GET",
		`/api/docs/${enc(docId)}/links`,
	);
	return body.links.map(toLink);
}

/** A new link; `expiresIn` seconds (null: never). The answer carries the token, once. */
export async function createLink(
	docId: string,
	role: ShareRole,
	expiresIn: number | null,
): Promise<ShareLink> {
	const json = expiresIn === null ? { role } : { role, expires_in: expiresIn };
	return toLink(
		await requestJson<RawLink>("POST", `/api/docs/${enc(docId)}/links`, {
			json,
		}),
	);
}

/** Revoke a link: the connections that used it close at once (4403). */
export async function revokeLink(
	docId: string,
	linkId: string,
): Promise<ShareLink> {
	return toLink(
		await requestJson<RawLink>(
			"DELETE",
			`/api/docs/${enc(docId)}/links/${enc(linkId)}`,
		),
	);
}

export async function listMembers(docId: string): Promise<Members> {
	return requestJson<Members>("GET", `/api/docs/${enc(docId)}/members`);
}

/** Share with an account by its name (or change its role): its connections reconnect with it. */
export async function setMember(
	docId: string,
	user: string,
	role: ShareRole,
): Promise<void> {
	await requestJson("POST", `/api/docs/${enc(docId)}/members`, {
		json: { user, role },
	});
}

export async function removeMember(
	docId: string,
	userId: string,
): Promise<void> {
	await requestRaw("DELETE", `/api/docs/${enc(docId)}/members/${enc(userId)}`);
}
