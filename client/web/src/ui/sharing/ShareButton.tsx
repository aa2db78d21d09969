import { useState } from "react";
import { currentAuthMode } from "../../auth/authApi";
import type { DocumentSession } from "../../document/session";
import { ShareDialog } from "./ShareDialog";
import { useAccess } from "./useAccess";

/** "Share" in the top bar: the document's owner in token mode (open mode has no links). */
export function ShareButton({ session }: { session: DocumentSession }) {
	const access = useAccess(session);
	const [open, setOpen] = useState(false);
	if (currentAuthMode() !== "tokens" || access?.role !== "owner") return null;
	return (
		<>
			<button
				type="button"
				onClick={() => setOpen(true)}
				className="rounded bg-blue-600 px-2.5 py-1 text-xs font-medium text-white hover:bg-blue-500"
			>
				Share
			</button>
			{open ? (
				<ShareDialog docId={session.docId} onClose={() => setOpen(false)} />
			) : null}
		</>
	);
}
