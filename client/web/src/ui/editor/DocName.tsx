import { useState } from "react";
import { renameDoc } from "../../api/rest";
import type { DocumentSession } from "../../document/session";
import { InlineRename } from "../common/InlineRename";
import { useViewOnly } from "../sharing/viewOnly";

/** The document's name in the top bar; click to rename (the shared meta and the server's record). */
export function DocName({ session, name }: { session: DocumentSession; name: string }) {
  const [editing, setEditing] = useState(false);
  const readOnly = useViewOnly((s) => s.readOnly);

  if (readOnly) {
    return (
      <span className="max-w-72 truncate px-1.5 py-0.5 text-sm font-medium text-neutral-100">
        {name || "Untitled"}
      </span>
    );
  }
  if (editing) {
    return (
      <div className="w-64">
        <InlineRename
          initial={name}
          label="Document name"
          onCancel={() => setEditing(false)}
          onCommit={async (next) => {
            // the server renames its record and the shared meta; the local write below only
            // covers the server's update not having arrived yet
            await renameDoc(session.docId, next);
            if (session.canvas.readMeta().name !== next) session.transact(() => session.canvas.setMeta({ name: next }));
            setEditing(false);
          }}
        />
      </div>
    );
  }
  return (
    <button
      type="button"
      title="Rename the document"
      aria-label={`Document name: ${name || "Untitled"} (click to rename)`}
      onClick={() => setEditing(true)}
      className="max-w-72 truncate rounded px-1.5 py-0.5 text-sm font-medium text-neutral-100 hover:bg-neutral-700"
    >
      {name || "Untitled"}
    </button>
  );
}
