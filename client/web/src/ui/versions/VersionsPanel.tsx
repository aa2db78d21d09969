import { type FormEvent, useEffect, useState } from "react";
import { nameVersion, restoreVersion, type VersionSummary } from "../../api/rest";
import type { DocumentSession } from "../../document/session";
import { Button } from "../common/Button";
import { ErrorText, errorMessage } from "../common/ErrorText";
import { useNow } from "../common/useNow";
import { useReadOnly } from "./useReadOnly";
import { useVersions } from "./useVersions";
import { VersionPreview } from "./VersionPreview";
import { VersionRow } from "./VersionRow";
import { filterVersions, MAX_VERSION_NAME, versionNameProblem, versionTitle } from "./versionsView";

export interface VersionsPanelProps {
  session: DocumentSession;
  /** this person's undo (the top bar's): reverts their restore while it is their last change */
  undo: () => void;
}

interface Restored {
  readonly title: string;
}

/**
 * Named and automatic versions of the document: name the current state, preview a version
 * read-only, restore one (the server makes it one undoable change of this person's), and undo
 * that restore right here until this person changes something else.
 */
export function VersionsPanel({ session, undo }: VersionsPanelProps) {
  const docId = session.docId;
  const { versions, loading, error: listError, refresh } = useVersions(session);
  const readOnly = useReadOnly(session);
  const now = useNow(30_000);
  const [name, setName] = useState("");
  const [namedOnly, setNamedOnly] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [previewing, setPreviewing] = useState<VersionSummary | null>(null);
  const [restored, setRestored] = useState<Restored | null>(null);

  // "Undo restore" undoes this person's last change: only offered while the restore is it.
  useEffect(() => {
    if (!restored) return;
    return session.onChange((change) => {
      if (change.local) setRestored(null);
    });
  }, [session, restored]);

  const submitName = async (event: FormEvent) => {
    event.preventDefault();
    const problem = versionNameProblem(name);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    try {
      await nameVersion(docId, name.trim());
      setName("");
      setError(null);
      await refresh();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const restore = async (version: VersionSummary) => {
    setBusy(true);
    try {
      await restoreVersion(docId, version.id);
      setPreviewing(null);
      setRestored({ title: versionTitle(version) });
      setError(null);
      await refresh();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const undoRestore = () => {
    setRestored(null);
    undo();
  };

  const shown = filterVersions(versions, namedOnly ? "named" : "all");
  return (
    <section
      aria-label="Versions"
      className="flex shrink-0 flex-col border-b border-neutral-700 bg-neutral-800 text-xs text-neutral-200"
    >
      <header className="flex items-center justify-between border-b border-neutral-700 px-3 py-2">
        <h2 className="text-xs font-semibold tracking-wide text-neutral-400 uppercase">Versions</h2>
        <label className="flex items-center gap-1 text-[11px] text-neutral-400">
          <input type="checkbox" checked={namedOnly} onChange={(e) => setNamedOnly(e.target.checked)} />
          Named only
        </label>
      </header>
      {readOnly ? null : (
        <form className="flex gap-1 px-3 py-2" onSubmit={(e) => void submitName(e)}>
          <input
            aria-label="Version name"
            placeholder="Name this state…"
            value={name}
            maxLength={MAX_VERSION_NAME}
            onChange={(e) => setName(e.target.value)}
            className="min-w-0 flex-1 rounded border border-neutral-600 bg-neutral-900 px-1.5 py-0.5 text-xs text-neutral-100 outline-none focus:border-blue-500"
          />
          <Button type="submit" variant="primary" disabled={busy}>
            Name current state
          </Button>
        </form>
      )}
      {restored ? (
        <div role="status" className="mx-3 mb-2 flex items-center gap-2 rounded border border-blue-800 bg-blue-950/60 px-2 py-1">
          <span className="min-w-0 flex-1 truncate" title={`Restored '${restored.title}'`}>
            Restored '{restored.title}'
          </span>
          <Button onClick={undoRestore}>Undo restore</Button>
          <button
            type="button"
            aria-label="Dismiss"
            onClick={() => setRestored(null)}
            className="text-neutral-400 hover:text-white"
          >
            ×
          </button>
        </div>
      ) : null}
      <ErrorText error={error ?? listError} className="mx-3 mb-2" />
      {loading ? <p className="px-3 py-2 text-neutral-400">Loading versions…</p> : null}
      {!loading && shown.length === 0 ? (
        <p className="px-3 py-2 text-neutral-400">
          {versions.length === 0 ? "No versions yet." : "No named versions yet."}
          {readOnly ? null : " Name the current state to keep it."}
        </p>
      ) : null}
      {shown.length > 0 ? (
        <ol aria-label="Version list" className="max-h-72 overflow-y-auto">
          {shown.map((version) => (
            <VersionRow
              key={version.id}
              docId={docId}
              version={version}
              now={now}
              canRestore={!readOnly}
              busy={busy}
              onPreview={setPreviewing}
              onRestore={(v) => void restore(v)}
            />
          ))}
        </ol>
      ) : null}
      {previewing ? (
        <VersionPreview
          docId={docId}
          version={previewing}
          canRestore={!readOnly}
          onRestore={(v) => void restore(v)}
          onClose={() => setPreviewing(null)}
        />
      ) : null}
    </section>
  );
}
