import { useEffect, useState } from "react";
import type { DocumentSession } from "../../document/session";
import type { PeerPresence } from "../../document/types";

/** The other people in the document (presence), live. */
export function usePeers(session: DocumentSession): PeerPresence[] {
  const [peers, setPeers] = useState<PeerPresence[]>(() => session.presence.peers());
  useEffect(() => {
    setPeers(session.presence.peers());
    return session.presence.onPeers(setPeers);
  }, [session]);
  return peers;
}
