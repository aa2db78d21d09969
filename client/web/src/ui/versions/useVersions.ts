import { useCallback, useEffect, useRef, useState } from "react";
import { listVersions, type VersionSummary } from "../../api/rest";
import type { DocumentSession } from "../../document/session";
import { errorMessage } from "../common/ErrorText";
import { sameVersions, sortVersions } from "./versionsView";

/** After the shared history changes, wait this long (more changes may follow) before asking. */
const SETTLE_MS = 800;
/** The server's default snapshot interval (NEXUS_SNAPSHOT_INTERVAL): automatic versions land
 * up to this long after the edits that caused them. */
const SLOW_POLL_MS = 60_000;

export interface VersionList {
  readonly versions: readonly VersionSummary[];
  /** true until the first answer */
  readonly loading: boolean;
  readonly error: string | null;
  /** fetch the list now (after this person named or restored a version) */
  refresh(): Promise<void>;
}

/**
 * The document's versions from `GET /api/docs/{id}/versions`, kept current: fetched on open,
 * after this person's own actions (`refresh`), when the connection comes back, and (settled)
 * whenever the shared `history` array changes (every restore, by anyone, adds a "restore
 * version" entry there; a version named by someone else is usually followed by edits). The
 * server writes automatic snapshots on a timer after edits stop, so while the page is visible
 * the list is also fetched once a minute.
 */
export function useVersions(session: DocumentSession): VersionList {
  const docId = session.docId;
  const [versions, setVersions] = useState<readonly VersionSummary[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(0);
  const live = useRef(true);

  const refresh = useCallback(async () => {
    const ticket = ++asked.current;
    try {
      const next = sortVersions(await listVersions(docId));
      if (!live.current || ticket !== asked.current) return;
      setVersions((old) => (sameVersions(old, next) ? old : next));
      setError(null);
    } catch (err) {
      if (live.current && ticket === asked.current) setError(errorMessage(err));
    } finally {
      if (live.current && ticket === asked.current) setLoading(false);
    }
  }, [docId]);

  useEffect(() => {
    live.current = true;
    void refresh();
    let timer: number | undefined;
    const later = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void refresh(), SETTLE_MS);
    };
    const offChange = session.onChange((change) => {
      if (change.history) later();
    });
    const slow = window.setInterval(() => {
      if (document.visibilityState === "visible") void refresh();
    }, SLOW_POLL_MS);
    const offConnection = session.onConnection((connection) => {
      if (connection.phase === "connected") later();
    });
    return () => {
      live.current = false;
      window.clearTimeout(timer);
      window.clearInterval(slow);
      offChange();
      offConnection();
    };
  }, [session, refresh]);

  return { versions, loading, error, refresh };
}
