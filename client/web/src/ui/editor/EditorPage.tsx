import { useEffect } from "react";
import { useEditorStore } from "../../store/editorStore";
import { EditorLayout } from "./EditorLayout";
import { useDocumentSession } from "./useDocumentSession";

/** `/d/{docId}`: opens the document, waits for its first sync, then shows the editor. */
export function EditorPage({ docId }: { docId: string }) {
  const state = useDocumentSession(docId);

  useEffect(() => {
    // a fresh document: nothing selected yet (the top layer is picked once it has synced)
    useEditorStore.getState().setActiveLayer(null);
  }, []);

  if (state.status === "ready") return <EditorLayout key={state.session.docId} session={state.session} />;
  return (
    <div className="flex h-full flex-col items-center justify-center gap-3 bg-neutral-900 text-sm text-neutral-300">
      {state.status === "failed" ? (
        <>
          <p role="alert" className="text-red-300">
            This document could not be opened: {state.error}
          </p>
          <a href="/" className="text-blue-400 hover:underline">
            Back to all documents
          </a>
        </>
      ) : (
        <p role="status" className="animate-pulse">
          Opening the document…
        </p>
      )}
    </div>
  );
}
