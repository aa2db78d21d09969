import { useEffect, useState } from "react";
import type { DocumentSession } from "../../document/session";
import type { ConnectionState } from "../../document/types";

export function useConnection(session: DocumentSession): ConnectionState {
  const [state, setState] = useState<ConnectionState>(() => session.connection());
  useEffect(() => {
    setState(session.connection());
    return session.onConnection(setState);
  }, [session]);
  return state;
}
