import { useCallback, useEffect, useState } from "react";
import { shareLinkUrl } from "../../auth/tokens";
import { Button } from "../common/Button";
import { ErrorText, errorMessage } from "../common/ErrorText";
import { EXPIRIES, linkStatus } from "./linkText";
import {
	createLink,
	listLinks,
	revokeLink,
	type ShareLink,
	type ShareRole,
} from "./sharingApi";

const SELECT =
	"rounded border border-neutral-600 bg-neutral-900 px-1.5 py-1 text-xs text-neutral-100";

/** Share links: create one (role, expiry), copy it (shown once), revoke any. */
export function LinksSection({ docId }: { docId: string }) {
	const [links, setLinks] = useState<ShareLink[] | null>(null);
	const [role, setRole] = useState<ShareRole>("viewer");
	const [expiry, setExpiry] = useState(1); // 1 day
	const [created, setCreated] = useState<string | null>(null);
	const [copied, setCopied] = useState(false);
	const [error, setError] = useState<string | null>(null);

	const reload = useCallback(async () => {
		try {
			setLinks(await listLinks(docId));
		} catch (err) {
			setError(errorMessage(err));
		}
	}, [docId]);

	useEffect(() => {
		void reload();
	}, [reload]);

	const create = async () => {
		setError(null);
		try {
			const link = await createLink(docId, role, EXPIRIES[expiry].seconds);
			await reload(); // the list first: the new link shows with its row
			setCreated(
				link.token ? shareLinkUrl(location.origin, docId, link.token) : null,
			);
			setCopied(false);
		} catch (err) {
			setError(errorMessage(err));
		}
	};

	const copy = async () => {
		if (!created) return;
		try {
			await navigator.clipboard.writeText(created);
			setCopied(true);
		} catch {
			setError(
				"The browser did not allow copying: select the link and copy it by hand.",
			);
		}
	};

	const revoke = async (link: ShareLink) => {
		setError(null);
		try {
			await revokeLink(docId, link.id);
			await reload();
		} catch (err) {
			setError(errorMessage(err));
		}
	};

	const now = Date.now();
	return (
		<section aria-label="Share links" className="flex flex-col gap-2">
			<h3 className="text-xs font-semibold uppercase tracking-wide text-neutral-400">
				Links
			</h3>
			<div className="flex items-center gap-2">
				<label className="flex items-center gap-1 text-xs text-neutral-300">
					Role
					<select
						aria-label="Link role"
						className={SELECT}
						value={role}
						onChange={(e) => setRole(e.target.value as ShareRole)}
					>
						<option value="viewer">Viewer (view only)</option>
						<option value="editor">Editor</option>
					</select>
				</label>
				<label className="flex items-center gap-1 text-xs text-neutral-300">
					Expires
					<select
						aria-label="Link expiry"
						className={SELECT}
						value={expiry}
						onChange={(e) => setExpiry(Number(e.target.value))}
					>
						{EXPIRIES.map((entry, index) => (
							<option key={entry.label} value={index}>
								{entry.label}
							</option>
						))}
					</select>
				</label>
				<Button variant="primary" onClick={create}>
					Create link
				</Button>
			</div>
			{created ? (
				<div className="flex flex-col gap-1 rounded border border-blue-800 bg-blue-950/40 p-2">
					<div className="flex gap-1">
						<input
							readOnly
							aria-label="New share link"
							data-testid="share-link-url"
							value={created}
							onFocus={(e) => e.currentTarget.select()}
							className="min-w-0 flex-1 rounded border border-neutral-600 bg-neutral-900 px-1.5 py-1 font-mono text-[11px] text-neutral-100"
						/>
						<Button onClick={copy}>{copied ? "Copied" : "Copy"}</Button>
					</div>
					<p className="text-[11px] text-blue-200">
						Shown once: copy it now. Anyone with it gets its role until it
						expires or you revoke it.
					</p>
				</div>
			) : null}
			<ErrorText error={error} />
			{links === null ? (
				<p className="text-xs text-neutral-400">Loading…</p>
			) : links.length === 0 ? (
				<p className="text-xs text-neutral-400">No links yet.</p>
			) : (
				<ul
					className="flex max-h-40 flex-col gap-1 overflow-y-auto"
					aria-label="Links"
				>
					{links.map((link) => (
						<li
							key={link.id}
							data-testid="share-link-row"
							data-link-id={link.id}
							className="flex items-center gap-2 rounded bg-neutral-900/60 px-2 py-1 text-xs"
						>
							<span className="rounded bg-neutral-700 px-1.5 py-0.5 capitalize">
								{link.role}
							</span>
							<span
								className="min-w-0 flex-1 truncate text-neutral-300"
								title={`Created by ${link.createdByName}`}
							>
								{linkStatus(link, now)}
							</span>
							{link.revokedAt === null ? (
								<Button
									variant="danger"
									aria-label={`Revoke ${link.role} link ${link.id.slice(0, 6)}`}
									onClick={() => revoke(link)}
								>
									Revoke
								</Button>
							) : null}
						</li>
					))}
				</ul>
			)}
		</section>
	);
}
