import { useEffect, useState } from "react";
import type { Access } from "../../document/access";
import type { DocumentSession } from "../../document/session";

/** The session's access as the server's last hello said (live; null before the first). */
export function useAccess(session: DocumentSession): Access | null {
	const [access, setAccess] = useState(session.access());
	useEffect(() => {
		setAccess(session.access());
		return session.onAccess(setAccess);
	}, [session]);
	return access;
}
