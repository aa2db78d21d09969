import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { AccountBadge } from "../auth/AccountBadge";
import { ExportMenu } from "../export/ExportMenu";
import { PresenceBar } from "../presence/PresenceBar";
import { ShareButton } from "../sharing/ShareButton";
import { ConnectionIndicator } from "../status/ConnectionIndicator";
import { DocName } from "./DocName";
import { UndoRedoButtons } from "./UndoRedoButtons";
import type { UndoRedo } from "./useUndoRedo";

export interface TopBarProps {
  session: DocumentSession;
  name: string;
  history: UndoRedo;
}

/** Home, the document's name, who is here, the connection, undo / redo, export and help. */
export function TopBar({ session, name, history }: TopBarProps) {
  const setShortcutsOpen = useEditorStore((s) => s.setShortcutsOpen);
  return (
    <header className="flex h-11 shrink-0 items-center gap-2 border-b border-neutral-700 bg-neutral-800 px-2">
      <a
        href="/"
        title="All documents"
        className="flex items-center gap-1 rounded px-2 py-1 text-xs text-neutral-300 hover:bg-neutral-700 hover:text-white"
      >
        <span aria-hidden="true">←</span> Home
      </a>
      <div className="h-5 w-px bg-neutral-700" />
      <DocName session={session} name={name} />
      <div className="flex-1" />
      <PresenceBar session={session} />
      <ConnectionIndicator session={session} />
      <div className="h-5 w-px bg-neutral-700" />
      <UndoRedoButtons history={history} />
      <ExportMenu docId={session.docId} docName={name} />
      <ShareButton session={session} />
      <button
        type="button"
        aria-label="Keyboard shortcuts (?)"
        title="Keyboard shortcuts (?)"
        onClick={() => setShortcutsOpen(true)}
        className="flex h-7 w-7 items-center justify-center rounded-full border border-neutral-600 text-xs font-semibold text-neutral-300 hover:bg-neutral-700 hover:text-white"
      >
        ?
      </button>
      <AccountBadge />
    </header>
  );
}
