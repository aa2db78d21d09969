import type { DocumentSession } from "../../document/session";
import { useEditorStore } from "../../store/editorStore";
import { useSessionValue } from "../common/useSessionValue";
import { provenanceView } from "./provenanceView";

/**
 * Where the active layer came from, when an AI job made it: model (or the CPU fallback, said
 * in plain words), prompt, seed, steps, time taken. Nothing is shown for other layers.
 */
export function ProvenancePanel({ session }: { session: DocumentSession }) {
  const activeLayerId = useEditorStore((s) => s.activeLayerId);
  const layers = useSessionValue(
    session,
    (s) => s.canvas.readLayers(),
    (c) => c.structure || c.layers.size > 0,
  );
  const layer = layers.find((l) => l.id === activeLayerId) ?? layers[layers.length - 1] ?? null;
  const provenance = layer?.provenance;
  if (!layer || !provenance || Object.keys(provenance).length === 0) return null;
  const view = provenanceView(provenance);

  return (
    <section
      aria-label="Provenance"
      className="flex shrink-0 flex-col border-b border-neutral-700 bg-neutral-800 text-xs text-neutral-200"
    >
      <header className="flex items-center justify-between border-b border-neutral-700 px-3 py-2">
        <h2 className="text-xs font-semibold tracking-wide text-neutral-400 uppercase">Provenance</h2>
        <span className="truncate pl-2 text-[11px] text-neutral-500" title={layer.name}>
          {layer.name}
        </span>
      </header>
      <div className="flex flex-col gap-1.5 px-3 py-2">
        <div className="font-medium">{view.title}</div>
        {view.fallback ? (
          <p className="rounded border border-amber-800 bg-amber-950/50 px-2 py-1 text-amber-200" data-testid="provenance-fallback">
            {view.fallback}
          </p>
        ) : null}
        <dl className="grid grid-cols-[auto_1fr] gap-x-2 gap-y-0.5">
          {view.rows.map((row) => (
            <div key={row.label} className="contents">
              <dt className="text-neutral-400">{row.label}</dt>
              <dd className="min-w-0 break-words">{row.value}</dd>
            </div>
          ))}
        </dl>
      </div>
    </section>
  );
}
