import { useEffect, useRef, useState } from "react";
import type { DocumentSession } from "../../document/session";
import type { DocumentChange } from "../../document/types";

/**
 * A value read from the shared document, re-read after every change that `relevant` accepts
 * (all changes by default). `read` may change between renders; the latest one is used.
 */
export function useSessionValue<T>(
  session: DocumentSession,
  read: (session: DocumentSession) => T,
  relevant?: (change: DocumentChange) => boolean,
): T {
  const [value, setValue] = useState<T>(() => read(session));
  const readRef = useRef(read);
  const relevantRef = useRef(relevant);
  readRef.current = read;
  relevantRef.current = relevant;

  useEffect(() => {
    setValue(readRef.current(session));
    return session.onChange((change) => {
      const filter = relevantRef.current;
      if (!filter || filter(change)) setValue(readRef.current(session));
    });
  }, [session]);

  return value;
}
