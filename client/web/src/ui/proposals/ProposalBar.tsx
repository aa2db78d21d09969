import { useState } from "react";
import { acceptProposal, discardProposal, rerunLayer } from "../../api/rest";
import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { Button } from "../common/Button";
import { errorMessage } from "../common/ErrorText";
import { useSessionValue } from "../common/useSessionValue";
import { proposedBy } from "./ProposalBadge";
import { useReadOnly } from "./useReadOnly";

type Action = "accept" | "discard" | "rerun";

/**
 * Over the canvas (top centre): when the active layer is a staged AI proposal, what it is
 * and Accept / Discard / Re-run for editors. The server decides; its errors are shown as is.
 */
export function ProposalBar({ session }: { session: DocumentSession }) {
  const layers = useSessionValue(
    session,
    (s) => s.canvas.readLayers(),
    (c) => c.structure || c.layers.size > 0,
  );
  const activeLayerId = useEditorStore((s) => s.activeLayerId);
  const setActiveLayer = useEditorStore((s) => s.setActiveLayer);
  const readOnly = useReadOnly(session);
  const [busy, setBusy] = useState<Action | null>(null);
  const [result, setResult] = useState<{
    layerId: string;
    error: string | null;
    note: string | null;
  } | null>(null);

  // the active layer as the layers panel shows it (the top one when none is chosen)
  const active = layers.find((l) => l.id === activeLayerId) ?? layers[layers.length - 1] ?? null;
  if (!active?.proposal) return null;
  const layer = active;
  const who = proposedBy(layer);
  const seed = layer.provenance?.seed;
  const shown = result?.layerId === layer.id ? result : null;

  const run = async (action: Action) => {
    setBusy(action);
    setResult(null);
    try {
      if (action === "accept") await acceptProposal(session.docId, layer.id);
      else if (action === "discard") {
        const index = layers.indexOf(layer);
        await discardProposal(session.docId, layer.id);
        setActiveLayer(layers[index - 1]?.id ?? layers[index + 1]?.id ?? null);
      } else {
        await rerunLayer(session.docId, layer.id);
        setResult({
          layerId: layer.id,
          error: null,
          note: "Re-run queued: a new proposal will appear beside this one.",
        });
      }
    } catch (err) {
      setResult({ layerId: layer.id, error: errorMessage(err), note: null });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="pointer-events-none absolute inset-x-3 top-3 z-20 flex justify-center">
      <section
        aria-label="Proposal review"
        data-testid="proposal-bar"
        data-layer-id={layer.id}
        className="pointer-events-auto flex max-w-full flex-col gap-1.5 rounded-lg border border-violet-500/60 bg-neutral-900/95 px-3 py-2 text-xs text-neutral-100 shadow-xl"
      >
        <div className="flex flex-wrap items-center gap-2">
          <span className="rounded bg-violet-600/80 px-1 py-px text-[9px] font-semibold tracking-wide text-white uppercase">
            Proposal
          </span>
          <span className="max-w-[18rem] truncate font-medium" title={layer.name}>
            {layer.name || "Untitled"}
          </span>
          <span className="text-[11px] text-neutral-400">
            {who ? `for ${who}` : "AI result"}
            {typeof seed === "number" ? ` · seed ${seed}` : ""}
          </span>
          {readOnly ? (
            <span className="text-[11px] text-neutral-400">· view only</span>
          ) : (
            <div className="ml-2 flex gap-1.5">
              <Button variant="primary" disabled={busy !== null} onClick={() => void run("accept")}>
                {busy === "accept" ? "Accepting…" : "Accept"}
              </Button>
              <Button variant="danger" disabled={busy !== null} onClick={() => void run("discard")}>
                {busy === "discard" ? "Discarding…" : "Discard"}
              </Button>
              <Button
                variant="secondary"
                disabled={busy !== null}
                onClick={() => void run("rerun")}
                title="Run the same job again with a new seed"
              >
                {busy === "rerun" ? "Re-running…" : "Re-run"}
              </Button>
            </div>
          )}
        </div>
        {shown?.error ? (
          <p role="alert" className="text-[11px] text-red-300">
            {shown.error}
          </p>
        ) : null}
        {shown?.note ? (
          <p role="status" className="text-[11px] text-neutral-300">
            {shown.note}
          </p>
        ) : null}
      </section>
    </div>
  );
}
