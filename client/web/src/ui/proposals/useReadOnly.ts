import { useEffect, useState } from "react";
import type { DocumentSession } from "../../document/session";

/** Whether the server gave this session a role that cannot edit (live: follows each hello). */
export function useReadOnly(session: DocumentSession): boolean {
  const [readOnly, setReadOnly] = useState(session.readOnly);
  useEffect(() => {
    setReadOnly(session.readOnly);
    return session.onAccess((access) => setReadOnly(access.readOnly));
  }, [session]);
  return readOnly;
}
