import { useCallback, useEffect, useState } from "react";
import { type DocSummary, listDocs } from "../../api/rest";
import { errorMessage } from "../common/ErrorText";

export interface DocList {
  /** most recently changed first; null while the first load runs */
  docs: DocSummary[] | null;
  error: string | null;
  reload: () => Promise<void>;
  /** replace one document's summary (after a rename) or drop it (null) */
  patch: (id: string, doc: DocSummary | null) => void;
}

export function sortByRecent(docs: readonly DocSummary[]): DocSummary[] {
  return [...docs].sort((a, b) => b.updatedAt - a.updatedAt || a.name.localeCompare(b.name));
}

/** The documents list from the server. */
export function useDocList(): DocList {
  const [docs, setDocs] = useState<DocSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const list = await listDocs();
      setDocs(sortByRecent(list));
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
      setDocs((current) => current ?? []);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  const patch = useCallback((id: string, doc: DocSummary | null) => {
    setDocs((current) => {
      if (!current) return current;
      return doc ? current.map((d) => (d.id === id ? doc : d)) : current.filter((d) => d.id !== id);
    });
  }, []);

  return { docs, error, reload, patch };
}
