import { useEffect, useState } from "react";
import type { DocumentSession } from "../../document/session";

/** Whether the server said this person may only view the document (its hello message). */
export function useReadOnly(session: DocumentSession): boolean {
  const [readOnly, setReadOnly] = useState(session.readOnly);
  useEffect(() => {
    setReadOnly(session.readOnly);
    return session.onAccess((access) => setReadOnly(access.readOnly));
  }, [session]);
  return readOnly;
}
