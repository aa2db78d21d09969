import { useCallback, useEffect, useRef, useState } from "react";
import { redo, undo, undoState } from "../../api/rest";
import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";

/** After a local change, wait this long for it to reach the server before asking again. */
const SETTLE_MS = 500;

export interface UndoRedo {
  readonly canUndo: boolean;
  readonly canRedo: boolean;
  readonly busy: boolean;
  undo(): void;
  redo(): void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The server's per-user undo: what is possible (refreshed after local changes settle and after
 * the server records history), and undo / redo that show the server's message when refused.
 */
export function useUndoRedo(session: DocumentSession): UndoRedo {
  const docId = session.docId;
  const [state, setState] = useState({ canUndo: false, canRedo: false });
  const [busy, setBusy] = useState(false);
  const asked = useRef(0);
  const live = useRef(true);

  const refresh = useCallback(async () => {
    const ticket = ++asked.current;
    try {
      const next = await undoState(docId);
      if (live.current && ticket === asked.current) setState({ canUndo: next.canUndo, canRedo: next.canRedo });
    } catch {
      // offline or the server is busy: keep the last known state; the next change asks again
    }
  }, [docId]);

  useEffect(() => {
    live.current = true;
    void refresh();
    let timer: number | undefined;
    const off = session.onChange((change) => {
      if (!change.local && !change.history) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void refresh(), SETTLE_MS);
    });
    const offConnection = session.onConnection((connection) => {
      if (connection.phase === "connected") void refresh();
    });
    return () => {
      live.current = false;
      window.clearTimeout(timer);
      off();
      offConnection();
    };
  }, [session, refresh]);

  const run = useCallback(
    async (which: "undo" | "redo") => {
      const ticket = ++asked.current;
      setBusy(true);
      try {
        const next = await (which === "undo" ? undo(docId) : redo(docId));
        if (live.current && ticket === asked.current) setState({ canUndo: next.canUndo, canRedo: next.canRedo });
        if (next.done === false) useEditorStore.getState().showHint(`Nothing of yours to ${which}`);
      } catch (error) {
        useEditorStore.getState().showHint(message(error));
        void refresh();
      } finally {
        if (live.current) setBusy(false);
      }
    },
    [docId, refresh],
  );

  return {
    ...state,
    busy,
    undo: useCallback(() => void run("undo"), [run]),
    redo: useCallback(() => void run("redo"), [run]),
  };
}
