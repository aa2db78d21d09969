import { useEffect, useState } from "react";
import { configureApi } from "../../api/rest";
import { docAuth } from "../../auth/docAuth";
import { localUser } from "../../document/identity";
import { DocumentSession } from "../../document/session";

export type SessionState =
  | { readonly status: "opening"; readonly session: DocumentSession | null }
  | { readonly status: "ready"; readonly session: DocumentSession }
  | { readonly status: "failed"; readonly error: string };

/** Opens `docId` for the local user, resolves when it has synced; destroys it on unmount. */
export function useDocumentSession(docId: string): SessionState {
  const [state, setState] = useState<SessionState>({
    status: "opening",
    session: null,
  });

  useEffect(() => {
    let session: DocumentSession;
    let unfollow = () => {};
    try {
      // token mode: the share link's or the account's token (auth/docAuth.ts)
      const auth = docAuth(docId);
      const user = auth.user ?? localUser();
      configureApi(user);
      session = DocumentSession.open({ docId, user, token: auth.token });
      const opened = session;
      unfollow = auth.follow((token) => opened.setToken(token));
    } catch (error) {
      setState({
        status: "failed",
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    let live = true;
    setState({ status: "opening", session });
    session.synced.then(() => {
      if (live) setState({ status: "ready", session });
    });
    return () => {
      live = false;
      unfollow();
      session.destroy();
    };
  }, [docId]);

  return state;
}
