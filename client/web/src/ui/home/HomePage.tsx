import { useState } from "react";
import { configureApi, type DocSummary, deleteDoc, renameDoc } from "../../api/rest";
import { apiWithAccount } from "../../auth/docAuth";
import { localUser } from "../../document/identity";
import { AccountBadge } from "../auth/AccountBadge";
import { Button } from "../common/Button";
import { ConfirmDialog } from "../common/ConfirmDialog";
import { ErrorText } from "../common/ErrorText";
import { PlusIcon } from "../common/icons";
import { useNow } from "../common/useNow";
import { DocCard } from "./DocCard";
import { EmptyState } from "./EmptyState";
import { NewCanvasDialog } from "./NewCanvasDialog";
import { openDocument } from "./openDocument";
import { useDocList } from "./useDocList";

let configured = false;

/** The REST client speaks as the local person (X-User / X-User-Name); set it up once. */
function ensureApi(): void {
  if (configured) return;
  configureApi(localUser());
  apiWithAccount(); // token mode: the account's token
  configured = true;
}

/** `/`: the documents list, "New canvas", rename, delete. */
export function HomePage() {
  ensureApi();
  const { docs, error, reload, patch } = useDocList();
  const now = useNow(30_000);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<DocSummary | null>(null);

  const rename = async (id: string, name: string) => {
    await renameDoc(id, name);
    const doc = docs?.find((d) => d.id === id);
    if (doc) patch(id, { ...doc, name });
    void reload();
  };

  return (
    <div className="flex h-full flex-col bg-neutral-900 text-neutral-100">
      <header className="flex items-center gap-3 border-b border-neutral-700 bg-neutral-800 px-4 py-2">
        <span className="text-sm font-semibold tracking-wide">Nexus Canvas</span>
        <span className="text-xs text-neutral-400">Your canvases</span>
        <div className="flex-1" />
        <a
          href="/api-docs"
          className="text-xs text-neutral-400 hover:text-neutral-100"
          title="The REST API, readable and with Try it out"
        >
          API docs
        </a>
        <AccountBadge />
        {docs && docs.length > 0 ? (
          <Button variant="primary" onClick={() => setCreating(true)}>
            <PlusIcon />
            New canvas
          </Button>
        ) : null}
      </header>

      <main className="flex-1 overflow-auto p-4">
        <ErrorText error={error} className="mb-3" />
        {docs === null ? (
          <p className="text-xs text-neutral-400">Loading…</p>
        ) : docs.length === 0 ? (
          error ? null : (
            <EmptyState onCreate={() => setCreating(true)} />
          )
        ) : (
          <ul aria-label="Documents" className="grid grid-cols-[repeat(auto-fill,minmax(11rem,1fr))] gap-3">
            {docs.map((doc) => (
              <DocCard
                key={doc.id}
                doc={doc}
                now={now}
                onOpen={openDocument}
                onRename={rename}
                onDelete={setDeleting}
              />
            ))}
          </ul>
        )}
      </main>

      {creating ? (
        <NewCanvasDialog onClose={() => setCreating(false)} onCreated={(doc) => openDocument(doc.id)} />
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete canvas"
          message={`Delete '${deleting.name}' for everyone? This cannot be undone.`}
          confirmLabel="Delete"
          danger
          onConfirm={async () => {
            await deleteDoc(deleting.id);
            patch(deleting.id, null);
          }}
          onClose={() => setDeleting(null)}
        />
      ) : null}
    </div>
  );
}
